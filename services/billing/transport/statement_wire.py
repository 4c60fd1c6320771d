"""Subscription, invoice preview, invoices and payment methods to metering.v1 messages."""

from __future__ import annotations

from services.billing.domain import statement as figures
from services.billing.domain.invoices import InvoiceRecord
from services.billing.service.payments import Collection, PaymentMethod
from services.billing.store.statement import Statement
from services.gen.metering.v1 import billing_pb2 as bpb
from services.kit.decimals import ZERO, format_decimal
from services.kit.wire import decimal_or_empty, optional_timestamp, timestamp

STATUSES = {"paid": bpb.INVOICE_STATUS_PAID, "pending": bpb.INVOICE_STATUS_PENDING,
            "overdue": bpb.INVOICE_STATUS_OVERDUE, "void": bpb.INVOICE_STATUS_VOID}
TYPES = {"card": bpb.PAYMENT_METHOD_TYPE_CARD, "us_bank_account": bpb.PAYMENT_METHOD_TYPE_US_BANK_ACCOUNT}
COLLECTIONS = {"charge_automatically": bpb.COLLECTION_METHOD_CHARGE_AUTOMATICALLY,
               "invoice": bpb.COLLECTION_METHOD_INVOICE, "wire": bpb.COLLECTION_METHOD_WIRE}


def _cycle(s: Statement) -> bpb.BillingCycle:
    return bpb.BillingCycle(current_period_start=timestamp(s.period.start),
                            current_period_end=timestamp(s.period.end))


def subscription(s: Statement) -> bpb.GetBillingSubscriptionResponse:
    metrics = []
    for meter in s.meters:
        usage, unit = meter.display_usage()
        metrics.append(bpb.BillingUsageMetric(
            name=meter.meter, display_name=meter.display_name, usage=format_decimal(usage), unit=unit,
            price_per_unit=decimal_or_empty(meter.unit_price_usd), cost_usd=format_decimal(meter.cost_usd)))
    return bpb.GetBillingSubscriptionResponse(
        org_id=s.org_id, stripe_customer_id=s.stripe_customer_id or "",
        subscription_id=s.subscription_id or "",
        plan=s.plan_id, status="active", billing_cycle=_cycle(s), usage_based_metrics=metrics,
        estimated_total_cost=format_decimal(s.estimated_total_usd), next_billing_date=timestamp(s.period.end),
        usage_as_of=optional_timestamp(s.usage_as_of))


def preview(s: Statement) -> bpb.PreviewInvoiceResponse:
    lines = [bpb.InvoiceLine(
        meter=m.meter, display_name=m.display_name, service=m.service, category=m.category,
        quantity=format_decimal(m.quantity), unit=m.unit, stripe_value=m.stripe_value,
        stripe_scale=m.stripe_scale,
        stripe_delivered=m.delivered, amount_usd=format_decimal(m.cost_usd)) for m in s.meters]
    services = [bpb.InvoiceServiceCost(service=name,
                                       categories={k: format_decimal(v) for k, v in cats.items()},
                                       amount_usd=format_decimal(sum(cats.values(), ZERO)))
                for name, cats in sorted(figures.by_service(s.meters).items())]
    users = [bpb.InvoiceUserCost(user_id=u.user_id, name=u.name, cost_usd=format_decimal(u.cost_usd))
             for u in s.by_user]
    return bpb.PreviewInvoiceResponse(
        org_id=s.org_id, period=_cycle(s), plan=s.plan_id, plan_price_usd=decimal_or_empty(s.plan_price_usd),
        lines=lines, by_service=services, by_user=users, usage_total_usd=format_decimal(s.usage_total_usd),
        total_usd=format(s.total_usd, "f"), usage_as_of=optional_timestamp(s.usage_as_of))


def invoice(record: InvoiceRecord, status: str) -> bpb.BillingInvoice:
    return bpb.BillingInvoice(
        invoice_id=record.stripe_invoice_id, number=record.number or "",
        period_start=timestamp(record.period_start), period_end=timestamp(record.period_end),
        amount=format(record.total, "f"), currency=record.currency, status=STATUSES[status],
        due_date=optional_timestamp(record.due_date), pdf_url=record.pdf_url or "",
        hosted_url=record.hosted_url or "")


def payment_methods(methods: list[PaymentMethod], collection: Collection) -> bpb.ListPaymentMethodsResponse:
    return bpb.ListPaymentMethodsResponse(
        payment_methods=[bpb.PaymentMethod(payment_method_id=m.payment_method_id, type=TYPES[m.type],
                                           brand=m.brand, last4=m.last4, exp_month=m.exp_month,
                                           exp_year=m.exp_year)
                         for m in methods],
        collection_method=COLLECTIONS[collection.method], days_until_due=collection.days_until_due or 0)
