"""An invoice's details over gRPC (GetInvoice) and HTTP (GET /billing/invoices/{id}): the plan's
price and each meter's period figure as the worker billed them, worked out here by hand."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import grpc
import pytest

from services.gen.metering.v1 import reporting_pb2 as rpb
from services.gen.metering.v1 import reporting_pb2_grpc as rpb_grpc
from services.kit.caller import Role
from services.metering.domain.billing_period import period_containing
from services.metering.store.api_keys import create_api_key
from tests.billing.helpers import insert_events, new_org
from tests.billing.stripe_harness import DAY, TODAY, control, run_once
from tests.metering.clients import aio_channel
from tests.reporting.conftest import start_http_server

pytestmark = pytest.mark.timeout(180)
HOUR = timedelta(hours=1)
CUSTOMER = "SELECT stripe_customer_id FROM billing_accounts WHERE org_id = $1"


async def test_an_invoice_lists_the_plan_and_each_meter_as_billed_on_both_doors(
    module_database: str, module_pool: asyncpg.Pool, stripe_base: str, stripe_key: str, tmp_path: Path
) -> None:
    anchor = TODAY - 5 * DAY
    async with module_pool.acquire() as conn:
        org = await new_org(conn, anchor=anchor, plan_id="professional")
        # 100 + 200 + 300 queries on each of three days: 1,800 at $0.0001 = $0.18.
        await insert_events(conn, [(org, f"q{d}-{i}", "queries", Decimal(100 * (i + 1)),
                                    TODAY - d * DAY + i * HOUR, None) for d in (4, 3, 2) for i in range(3)])
        # 2,500 API requests at $0.000001 = $0.0025.
        await insert_events(conn, [(org, "a", "api_requests", Decimal(2500), TODAY - 3 * DAY, None)])
        key = (await create_api_key(conn, org, Role.BILLING_CONTACT, "pages"))[1]
        other = await new_org(conn, anchor=anchor)
        other_key = (await create_api_key(conn, other, Role.TENANT_ADMIN, "pages"))[1]
    run_once(module_database, stripe_base, stripe_key, tmp_path / "worker.log")
    async with module_pool.acquire() as conn:
        customer = await conn.fetchval(CUSTOMER, org)
    period = period_containing(anchor, TODAY)
    control(stripe_base, "/_test/invoices", {
        "customer": customer, "number": "DET-1", "status": "open", "amount_due": 49918,
        "period_start": int(period.start.timestamp()), "period_end": int(period.end.timestamp()),
        "due_date": int((period.end + 30 * DAY).timestamp())})
    run_once(module_database, stripe_base, stripe_key, tmp_path / "worker.log")

    addr, base, proc = start_http_server(module_database, "http://127.0.0.1:9")
    try:
        async with aio_channel(addr, key) as channel:
            found = await rpb_grpc.ReportingServiceStub(channel).GetInvoice(
                rpb.GetInvoiceRequest(org_id=org, invoice_id="DET-1"))
        async with aio_channel(addr, other_key) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as denied:
                await rpb_grpc.ReportingServiceStub(channel).GetInvoice(
                    rpb.GetInvoiceRequest(org_id=org, invoice_id="DET-1"))
            assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
            with pytest.raises(grpc.aio.AioRpcError) as missing:
                await rpb_grpc.ReportingServiceStub(channel).GetInvoice(
                    rpb.GetInvoiceRequest(org_id=other, invoice_id="DET-1"))
            assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        status, body = await _get(base, "/billing/invoices/DET-1", key)
    finally:
        proc.terminate()
        proc.wait(timeout=15)

    invoice = found.invoice
    assert (invoice.amount, invoice.status, found.plan_id) == ("499.18", "pending", "professional")
    assert [(line.description, line.quantity, line.unit, line.unit_price_usd, line.amount_usd)
            for line in found.lines] == [
        ("Plan", "", "", "499", "499"),  # then by service: platform, query engine
        ("API Requests", "2500", "requests", "0.000001", "0.0025"),
        ("SQL Queries", "1800", "queries", "0.0001", "0.18"),
    ]
    # $499 + $0.18 + $0.0025 = $499.1825, in cents.
    assert found.lines_total_usd == "499.18"
    assert status == 200 and body["lines_total"] == "499.18"
    assert [(line["description"], line["quantity"], line["amount"]) for line in body["lines"]] == [
        ("Plan", None, "499"), ("API Requests", "2500", "0.0025"), ("SQL Queries", "1800", "0.18")]


async def _get(base: str, path: str, key: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(
            f"{base}/api/v1{path}", headers={"Authorization": f"Bearer {key}"}) as response:
        return response.status, await response.json()
