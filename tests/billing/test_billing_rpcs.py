"""BillingService against a real server process, the worker and the Stripe test server: the invoice
preview matches what reached Stripe; subscription figures; invoices; payment methods; collection."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import grpc
import pytest

from services.billing.service.resources import create_resource, delete_resource
from services.billing.store.resources import NewResource
from services.gen.metering.v1 import billing_pb2 as bpb
from services.gen.metering.v1 import billing_pb2_grpc as bpb_grpc
from services.gen.metering.v1 import reporting_pb2 as rpb
from services.gen.metering.v1 import reporting_pb2_grpc as rpb_grpc
from services.kit.caller import Role
from services.metering.store.api_keys import create_api_key
from tests.billing.helpers import insert_events, new_org
from tests.billing.stripe_harness import DAY, TODAY, control, names, run_once, state
from tests.metering.clients import aio_channel
from tests.metering.conftest import start_server

HOUR = timedelta(hours=1)
CUSTOMER = "SELECT stripe_customer_id FROM billing_accounts WHERE org_id = $1"


@pytest.fixture(scope="module")
async def channel(module_database: str, module_pool: asyncpg.Pool, stripe_base: str,
                  stripe_key: str) -> AsyncIterator[grpc.aio.Channel]:
    """A platform admin's channel to a server of this module's database."""
    async with module_pool.acquire() as conn:
        key = (await create_api_key(conn, None, Role.PLATFORM_ADMIN, "billing tests"))[1]
    addr, proc = start_server(module_database, STRIPE_API_KEY=stripe_key, STRIPE_API_BASE=stripe_base)
    try:
        async with aio_channel(addr, key) as opened:
            yield opened
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.fixture(scope="module")
def billing(channel: grpc.aio.Channel) -> bpb_grpc.BillingServiceStub:
    return bpb_grpc.BillingServiceStub(channel)


async def test_the_invoice_preview_matches_what_reached_stripe_by_service_and_user(
    module_database: str, module_pool: asyncpg.Pool, billing: bpb_grpc.BillingServiceStub, stripe_base: str,
    stripe_key: str, tmp_path: Path,
) -> None:
    async with module_pool.acquire() as conn:
        org = await new_org(conn, anchor=TODAY - 5 * DAY, plan_id="professional")
        await conn.execute("INSERT INTO users (org_id, user_id, email, name) VALUES ($1, 'alice', "
                           "'alice@example.com', 'Alice')", org)
        await insert_events(conn, [(org, f"q{d}-{i}", "queries", Decimal(100 * (i + 1)),
                                    TODAY - d * DAY + i * HOUR, "alice")
                                   for d in (4, 3, 2) for i in range(3)])
        await insert_events(conn, [(org, f"a{d}", "api_requests", Decimal(2500), TODAY - d * DAY, None)
                                   for d in (4, 3)])
        start = TODAY - 4 * DAY
        database = NewResource(org, "db", "postgres", "pro", Decimal(1), "db", None)
        await create_resource(conn, database, now=start)
        await delete_resource(conn, org, "db", now=start + 60 * HOUR)
    run_once(module_database, stripe_base, stripe_key, tmp_path / "worker.log")
    preview = await billing.PreviewInvoice(bpb.PreviewInvoiceRequest(org_id=org))
    async with module_pool.acquire() as conn:
        customers, meters = await names(conn)
    sent: dict[str, int] = defaultdict(int)
    for event in state(stripe_base)["meter_events"]:
        if customers.get(event["payload"]["stripe_customer_id"]) == org:
            sent[meters[event["event_name"]]] += int(event["payload"]["value"])
    lines = {line.meter: line for line in preview.lines}
    assert set(lines) == {"queries", "api_requests", "postgres_pro_seconds"}
    assert {m: (line.stripe_value, line.stripe_delivered) for m, line in lines.items()} == {
        m: (v, v) for m, v in sent.items()}
    assert sent == {"queries": 1800, "api_requests": 5000, "postgres_pro_seconds": 60 * 3600}
    assert lines["queries"].amount_usd == "0.18" and lines["api_requests"].amount_usd == "0.005"
    assert lines["postgres_pro_seconds"].amount_usd == "2.382"  # 60 h x $0.0397
    services = {s.service: dict(s.categories) for s in preview.by_service}
    assert services == {"infrastructure": {"databases": "2.382"}, "platform": {"api": "0.005"},
                        "query_engine": {"query": "0.18"}}
    assert {(u.user_id, u.name, u.cost_usd) for u in preview.by_user} == {("alice", "Alice", "0.18"),
                                                                          ("", "", "2.387")}
    assert preview.usage_total_usd == "2.567" and preview.plan_price_usd == "499"
    assert preview.total_usd == "501.57"

    subscription = await billing.GetBillingSubscription(bpb.GetBillingSubscriptionRequest(org_id=org))
    metrics = {m.name: m for m in subscription.usage_based_metrics}
    database = metrics["postgres_pro_seconds"]
    assert (database.usage, database.unit, database.price_per_unit) == ("60", "hours", "0.0397")
    assert subscription.plan == "professional" and subscription.stripe_customer_id.startswith("cus_")
    assert subscription.estimated_total_cost == "501.567"  # nothing still running
    assert subscription.next_billing_date == preview.period.current_period_end


async def test_invoices_are_copied_from_stripe_with_paid_pending_and_overdue(
    module_database: str, module_pool: asyncpg.Pool, billing: bpb_grpc.BillingServiceStub, stripe_base: str,
    stripe_key: str, tmp_path: Path,
) -> None:
    org = await new_org(module_pool)
    # Listing payment methods makes the Stripe customer.
    methods = await billing.ListPaymentMethods(bpb.ListPaymentMethodsRequest(org_id=org))
    assert list(methods.payment_methods) == []
    async with module_pool.acquire() as conn:
        customer = await conn.fetchval(CUSTOMER, org)
    day = int(TODAY.timestamp())
    for number, status, due, amount in (("A-1", "paid", day - 40 * 86400, 49900),
                                        ("A-2", "open", day - 86400, 52345),
                                        ("A-3", "open", day + 20 * 86400, 49901)):
        control(stripe_base, "/_test/invoices", {
            "customer": customer, "number": number, "status": status, "amount_due": amount,
            "period_start": due - 60 * 86400, "period_end": due - 30 * 86400, "due_date": due,
            "created": due - 30 * 86400})
    run_once(module_database, stripe_base, stripe_key, tmp_path / "worker.log")
    listed = await billing.ListBillingInvoices(bpb.ListBillingInvoicesRequest(org_id=org))
    got = [(i.number, i.status, i.amount, i.currency) for i in listed.invoices]
    assert got == [("A-3", bpb.INVOICE_STATUS_PENDING, "499.01", "usd"),
                   ("A-2", bpb.INVOICE_STATUS_OVERDUE, "523.45", "usd"),
                   ("A-1", bpb.INVOICE_STATUS_PAID, "499.00", "usd")]
    assert all(i.pdf_url.endswith("/pdf") and i.invoice_id.startswith("in_") for i in listed.invoices)


async def test_payment_methods_sessions_and_enterprise_invoice_collection(
    module_pool: asyncpg.Pool, billing: bpb_grpc.BillingServiceStub, stripe_base: str,
) -> None:
    org = await new_org(module_pool, plan_id="enterprise")
    await billing.ListPaymentMethods(bpb.ListPaymentMethodsRequest(org_id=org))
    async with module_pool.acquire() as conn:
        customer = await conn.fetchval(CUSTOMER, org)
        subscription = control(stripe_base, "/_test/subscriptions", {"customer": customer})["id"]
        await conn.execute("UPDATE billing_accounts SET stripe_subscription_id = $2 WHERE org_id = $1",
                           org, subscription)
    control(stripe_base, "/_test/payment_methods", {"customer": customer, "type": "card", "brand": "visa",
                                                    "last4": "4242"})
    control(stripe_base, "/_test/payment_methods", {"customer": customer, "type": "us_bank_account",
                                                    "last4": "6789"})
    listed = await billing.ListPaymentMethods(bpb.ListPaymentMethodsRequest(org_id=org))
    assert [(m.type, m.last4) for m in listed.payment_methods] == [
        (bpb.PAYMENT_METHOD_TYPE_CARD, "4242"), (bpb.PAYMENT_METHOD_TYPE_US_BANK_ACCOUNT, "6789")]
    assert listed.collection_method == bpb.COLLECTION_METHOD_CHARGE_AUTOMATICALLY
    portal = await billing.CreatePaymentSetupSession(bpb.CreatePaymentSetupSessionRequest(
        org_id=org, kind=bpb.SETUP_SESSION_KIND_BILLING_PORTAL, return_url="https://app.example.com/billing"))
    intent = await billing.CreatePaymentSetupSession(bpb.CreatePaymentSetupSessionRequest(
        org_id=org, kind=bpb.SETUP_SESSION_KIND_SETUP_INTENT,
        payment_method_types=[bpb.PAYMENT_METHOD_TYPE_US_BANK_ACCOUNT]))
    assert portal.url.startswith("https://") and not portal.client_secret
    assert intent.client_secret.startswith(intent.session_id + "_secret_") and not intent.url
    await billing.SetCollectionMethod(bpb.SetCollectionMethodRequest(
        org_id=org, collection_method=bpb.COLLECTION_METHOD_INVOICE))
    stripe_sub = next(s for s in state(stripe_base)["subscriptions"] if s["id"] == subscription)
    assert (stripe_sub["collection_method"], stripe_sub["days_until_due"]) == ("send_invoice", 30)
    await billing.SetCollectionMethod(bpb.SetCollectionMethodRequest(
        org_id=org, collection_method=bpb.COLLECTION_METHOD_WIRE, days_until_due=45))
    listed = await billing.ListPaymentMethods(bpb.ListPaymentMethodsRequest(org_id=org))
    assert (listed.collection_method, listed.days_until_due) == (bpb.COLLECTION_METHOD_WIRE, 45)
    stripe_sub = next(s for s in state(stripe_base)["subscriptions"] if s["id"] == subscription)
    assert stripe_sub["payment_settings"] == {"payment_method_types": ["customer_balance"]}


@pytest.mark.parametrize(("request_fields", "field"), [
    ({"kind": 0}, "kind"),
    ({"kind": 1, "return_url": ""}, "return_url"),
    ({"kind": 1, "return_url": "javascript:alert(1)"}, "return_url"),
    ({"kind": 2, "payment_method_types": [0]}, "payment_method_types[0]"),
])
async def test_bad_setup_session_requests_name_the_field(
    module_pool: asyncpg.Pool, billing: bpb_grpc.BillingServiceStub, request_fields: dict[str, object],
    field: str,
) -> None:
    org = await new_org(module_pool)
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await billing.CreatePaymentSetupSession(
            bpb.CreatePaymentSetupSessionRequest(org_id=org, **request_fields))
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.value.details().startswith(f"{field}:")


async def test_invoice_collection_is_for_enterprise_plans_only(
    module_pool: asyncpg.Pool, billing: bpb_grpc.BillingServiceStub,
) -> None:
    org = await new_org(module_pool, plan_id="professional")
    for fields, field in (({"collection_method": bpb.COLLECTION_METHOD_INVOICE}, "collection_method"),
                          ({"collection_method": 0}, "collection_method"),
                          ({"collection_method": bpb.COLLECTION_METHOD_INVOICE, "days_until_due": 400},
                           "days_until_due")):
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await billing.SetCollectionMethod(bpb.SetCollectionMethodRequest(org_id=org, **fields))
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert failure.value.details().startswith(f"{field}:")
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await billing.PreviewInvoice(bpb.PreviewInvoiceRequest(org_id="no-such-org"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_the_first_partial_day_of_an_organization_is_billed_in_its_first_period(
    module_database: str, module_pool: asyncpg.Pool, billing: bpb_grpc.BillingServiceStub,
    channel: grpc.aio.Channel, stripe_base: str, stripe_key: str, tmp_path: Path,
) -> None:
    created = TODAY - 3 * DAY + 13 * HOUR  # a Starter organization created at 13:00 on its first day
    async with module_pool.acquire() as conn:
        org = await new_org(conn, anchor=created, plan_id="starter")
        await insert_events(conn, [
            (org, "first-day", "queries", Decimal(1000), created + HOUR, None),
            (org, "first-day-api", "api_requests", Decimal(2000), created + 10 * HOUR, None),
            (org, "second-day", "queries", Decimal(500), TODAY - 2 * DAY + 9 * HOUR, None),
        ])
    run_once(module_database, stripe_base, stripe_key, tmp_path / "worker.log")

    preview = await billing.PreviewInvoice(bpb.PreviewInvoiceRequest(org_id=org))
    lines = {line.meter: (line.quantity, line.amount_usd) for line in preview.lines}
    assert lines == {"queries": ("1500", "0.15"),  # (1000 + 500) x $0.0001
                     "api_requests": ("2000", "0.002")}  # 2000 x $0.000001, all on the first day
    assert preview.usage_total_usd == "0.152"  # 0.15 + 0.002
    assert preview.plan_price_usd == "99" and preview.total_usd == "99.15"  # 99.152 to cents
    subscription = await billing.GetBillingSubscription(bpb.GetBillingSubscriptionRequest(org_id=org))
    assert subscription.estimated_total_cost == "99.152"  # nothing running
    assert subscription.billing_cycle.current_period_start.ToDatetime(tzinfo=UTC) == created
    reporting = rpb_grpc.ReportingServiceStub(channel)
    costs = await reporting.GetCostAnalysis(rpb.GetCostAnalysisRequest(org_id=org))
    assert {line.resource: line.total_cost for line in costs.breakdown} == {"queries": "0.15",
                                                                           "api_requests": "0.002"}
    assert costs.total_cost == "0.152"  # the same usage as the preview's, first day included

    async with module_pool.acquire() as conn:
        customers, meters = await names(conn)
    events = state(stripe_base)["meter_events"]
    first_day = {(meters[e["event_name"]], int(e["payload"]["value"])) for e in events
                 if customers.get(e["payload"]["stripe_customer_id"]) == org
                 and e["timestamp"] == int(created.timestamp())}
    assert first_day == {("queries", 1000), ("api_requests", 2000)}  # stamped at 13:00, inside the period


async def test_a_server_without_stripe_answers_payment_calls_failed_precondition_and_serves_the_rest(
    module_database: str, module_pool: asyncpg.Pool,
) -> None:
    org = await new_org(module_pool)
    async with module_pool.acquire() as conn:
        key = (await create_api_key(conn, None, Role.PLATFORM_ADMIN, "no stripe"))[1]
    addr, proc = start_server(module_database, STRIPE_API_KEY="")
    try:
        async with aio_channel(addr, key) as opened:
            billing = bpb_grpc.BillingServiceStub(opened)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await billing.ListPaymentMethods(bpb.ListPaymentMethodsRequest(org_id=org))
            assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert "Stripe is not configured" in refused.value.details()
            preview = await billing.PreviewInvoice(bpb.PreviewInvoiceRequest(org_id=org))
            assert (preview.org_id, preview.usage_total_usd) == (org, "0")
    finally:
        proc.terminate()
        proc.wait(timeout=15)
