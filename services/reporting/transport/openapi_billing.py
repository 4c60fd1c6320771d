"""The OpenAPI description of the billing page's routes (http_billing.py)."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]


def billing_paths(op: Any, obj: Any, arr: Any, p: Any) -> Json:
    d: Json = {"$ref": "#/components/schemas/Decimal"}
    nd: Json = {"oneOf": [d, {"type": "null"}]}
    s: Json = {"type": "string"}
    ns: Json = {"type": ["string", "null"]}
    ni: Json = {"type": ["integer", "null"]}
    t: Json = {"type": "string", "format": "date-time"}
    nt: Json = {"type": ["string", "null"], "format": "date-time"}
    b = "metering.v1.BillingService/"
    kinds = {"enum": ["card", "us_bank_account"]}
    collection = {"enum": ["charge_automatically", "invoice", "wire"]}
    line = obj(description=s, meter=ns, quantity=nd, unit=ns, unit_price=nd, amount=d)
    return {
        "/billing/invoices/{invoice_id}": {"get": op(
            "An invoice with its lines: the plan and each meter's period figure as billed",
            "metering.v1.ReportingService/GetInvoice",
            obj(invoice_id=s, period_start=t, period_end=t, amount=d, currency=s,
                status={"enum": ["paid", "pending", "overdue", "void"]}, due_date=nt, pdf_url=ns, plan=s,
                lines=arr(line), lines_total=d),
            [p("invoice_id", "From GET /billing/invoices", max_length=255)])},
        "/billing/payment-methods": {"get": op(
            "Cards and US bank accounts on file, and how invoices are collected", b + "ListPaymentMethods",
            obj(payment_methods=arr(obj(id=s, type=kinds, brand=s, last4=s, exp_month=ni, exp_year=ni)),
                collection_method=collection, days_until_due=ni))},
        "/billing/payment-methods/setup": {"post": op(
            "Start a Stripe SetupIntent to add a card or bank account (confirmed with Stripe.js)",
            b + "CreatePaymentSetupSession",
            obj(session_id=s, client_secret=s, payment_method_types=arr(kinds)),
            None, obj(payment_method_types={**arr(kinds), "minItems": 1}), "201")},
        "/billing/collection": {"post": op(
            "Charge automatically, or (Enterprise) net-N invoice or wire transfer", b + "SetCollectionMethod",
            obj(collection_method=collection, days_until_due=ni), None,
            {**obj(collection_method=collection, days_until_due={"type": "integer", "minimum": 1,
                                                                "maximum": 365}),
             "required": ["collection_method"]})},
    }
