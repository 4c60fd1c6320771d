"""ReportingService over gRPC across the three metering server processes: the same figures as the
HTTP API, field-naming errors, exports run by any replica; API metrics that survive a restart."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal

import aiohttp
import asyncpg
import grpc
import pytest

from services.gen.metering.v1 import reporting_pb2 as pb
from services.gen.metering.v1 import reporting_pb2_grpc
from services.kit.caller import Role
from tests.metering.clients import aio_channel
from tests.ratelimiter.harness import Sidecar
from tests.reporting.conftest import start_http_server
from tests.reporting.seed import Event, Seeder, Spend, now
from tests.reporting.test_http_api import get

pytestmark = pytest.mark.timeout(120)


async def test_rpcs_answer_what_the_http_api_answers(
    server_addrs: list[str], http_base: str, platform_key: str, pool: asyncpg.Pool
) -> None:
    seeder = Seeder(server_addrs[0], platform_key, pool)
    org = await seeder.organization("professional")
    await seeder.tenancy(org, {"core": ["a", "b", "c"]}, ["x"])
    await seeder.record(
        org, [Event("queries", Decimal(i), now(), w) for i, w in ((3, "a"), (4, "b"), (5, "c"))]
    )
    await seeder.spend(org, [Spend(Decimal(7), "a", "x", "web"), Spend(Decimal(2), "b", "x", "cli")])
    key = org.keys[Role.BILLING_CONTACT]
    http = (await get(http_base, "/usage", key))[1]
    for i, addr in enumerate(server_addrs):
        async with aio_channel(addr, key) as channel:
            stub = reporting_pb2_grpc.ReportingServiceStub(channel)
            summary = await stub.GetUsageSummary(pb.GetUsageSummaryRequest(org_id=org.org_id))
            assert {r.resource: r.used for r in summary.resources} == {
                r: http[r]["used"] for r in http if isinstance(http[r], dict)
            }
            assert {r.resource: r.limit for r in summary.resources}["queries"] == "100000"
            page = await stub.ListTopConsumers(
                pb.ListTopConsumersRequest(org_id=org.org_id, kind=pb.CONSUMER_KIND_WORKSPACE, page_size=2)
            )
            assert [(c.id, c.amount) for c in page.consumers] == [("a", "7"), ("b", "2")]
            rest = await stub.ListTopConsumers(
                pb.ListTopConsumersRequest(
                    org_id=org.org_id,
                    kind=pb.CONSUMER_KIND_WORKSPACE,
                    page_size=2,
                    page_token=page.next_page_token,
                )
            )
            assert [(c.rank, c.id, c.requests) for c in rest.consumers] == [
                (3, "c", 1)
            ] and not rest.next_page_token
            costs = await stub.GetCostAnalysis(pb.GetCostAnalysisRequest(org_id=org.org_id))
            assert costs.total_cost == (await get(http_base, "/usage/costs", key))[1]["total_cost"]
            if i == 0:
                sub = await stub.GetSubscription(pb.GetSubscriptionRequest(org_id=org.org_id))
                assert (sub.plan, sub.estimated_total_cost, sub.organization_id) == (
                    "professional",
                    "499",
                    org.org_id,
                )
                invoices = await stub.ListInvoices(pb.ListInvoicesRequest(org_id=org.org_id))
                assert list(invoices.invoices) == []
                overview = await stub.GetCreditOverview(pb.GetCreditOverviewRequest(org_id=org.org_id))
                assert (overview.used, overview.plan_id, overview.days_elapsed) == ("9", "professional", 0)
                found = await stub.ListRecommendations(pb.ListRecommendationsRequest(org_id=org.org_id))
                # Projections move with the clock between the two calls: used and limits compared.
                basis = {a.id: [(b.name, b.used, b.limit) for b in a.basis] for a in found.recommendations}
                http_advice = (await get(http_base, "/usage/recommendations", key))[1]
                assert basis == {a["id"]: [(b["name"], b["used"], b["limit"] or "") for b in a["basis"]]
                                 for a in http_advice}
                # Starter fits: 9 credits and 12 queries (3 + 4 + 5) spent so far.
                assert basis["right-size-plan"][:3] == [
                    ("credits", "9", "9900"), ("llm_tokens", "0", "500000"), ("queries", "12", "10000")]


async def test_bad_input_names_the_field(
    server_addrs: list[str], platform_key: str, pool: asyncpg.Pool
) -> None:
    org = await Seeder(server_addrs[0], platform_key, pool).organization()
    async with aio_channel(server_addrs[1], org.keys[Role.TENANT_ADMIN]) as channel:
        stub = reporting_pb2_grpc.ReportingServiceStub(channel)
        for call, request, field in (
            (
                stub.GetResourceUsage,
                pb.GetResourceUsageRequest(org_id=org.org_id, resource_type="x"),
                "resource_type",
            ),
            (
                stub.GetResourceUsage,
                pb.GetResourceUsageRequest(org_id=org.org_id, resource_type="queries",
                                           period=pb.REPORT_PERIOD_CUSTOM),
                "from_time",
            ),
            (stub.GetUsageHistory, pb.GetUsageHistoryRequest(org_id=org.org_id, months=30), "months"),
            (
                stub.GetUsageHistory,
                pb.GetUsageHistoryRequest(org_id=org.org_id, granularity=9),
                "granularity",
            ),
            (stub.ListTopConsumers, pb.ListTopConsumersRequest(org_id=org.org_id), "kind"),
            (stub.GetRateLimitStatus, pb.GetRateLimitStatusRequest(org_id=org.org_id, ip="nope"), "ip"),
            (stub.CreateUsageExport, pb.CreateUsageExportRequest(org_id=org.org_id), "format"),
            (stub.GetUsageExport, pb.GetUsageExportRequest(org_id=org.org_id), "export_id"),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await call(request)
            assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert failure.value.details().startswith(field), failure.value.details()
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.GetUsageExport(pb.GetUsageExportRequest(org_id=org.org_id, export_id="export-none"))
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_an_export_started_on_one_replica_completes(
    server_addrs: list[str], platform_key: str, pool: asyncpg.Pool
) -> None:
    seeder = Seeder(server_addrs[0], platform_key, pool)
    org = await seeder.organization()
    await seeder.record(org, [Event("api_requests", Decimal(i + 1), now()) for i in range(25)])
    start, end = pb.CreateUsageExportRequest().from_time, pb.CreateUsageExportRequest().to_time
    start.FromSeconds(int(now().timestamp()) - 3600)
    end.FromSeconds(int(now().timestamp()) + 3600)
    async with aio_channel(server_addrs[2], org.keys[Role.SERVICE]) as channel:
        stub = reporting_pb2_grpc.ReportingServiceStub(channel)
        made = await stub.CreateUsageExport(
            pb.CreateUsageExportRequest(
                org_id=org.org_id,
                format=pb.EXPORT_FORMAT_JSON,
                resource_types=["api_requests"],
                from_time=start,
                to_time=end,
            )
        )
        assert made.export.status == "processing" and not made.export.download_url
        for _ in range(100):
            state = (
                await stub.GetUsageExport(
                    pb.GetUsageExportRequest(org_id=org.org_id, export_id=made.export.export_id)
                )
            ).export
            if state.status != "processing":
                break
            await asyncio.sleep(0.1)
    assert state.status == "completed" and state.row_count == 25 and state.file_size_bytes > 0
    # No public URL configured: the HTTP API's own address.
    assert re.fullmatch(rf"http://127\.0\.0\.1:\d+/api/v1/usage/export/{state.export_id}/download",
                        state.download_url), state.download_url
    assert state.kind == pb.EXPORT_KIND_USAGE_EVENTS  # the default


async def test_api_metrics_survive_a_restart(
    database_url: str, sidecar: Sidecar, server_addrs: list[str], platform_key: str, pool: asyncpg.Pool
) -> None:
    seeder = Seeder(server_addrs[0], platform_key, pool)
    org = await seeder.organization()
    await seeder.record(
        org, [Event("api_requests", Decimal(40), now()), Event("webhook_events", Decimal(3), now())]
    )
    key = org.keys[Role.TENANT_ADMIN]
    _, base, proc = start_http_server(database_url, sidecar.http_base)
    try:
        for path in ("/usage", "/usage/quotas", "/usage/projections", "/credits/overview", "/usage/history"):
            assert (await get(base, path, key))[0] == 200
    finally:
        proc.terminate()  # SIGTERM: the server stores what it counted before it exits
        proc.wait(timeout=15)
    _, base, proc = start_http_server(database_url, sidecar.http_base)
    try:
        metrics = (await get(base, "/metrics", key))[1]
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    api = metrics["api_usage"]
    # The HTTP API's own five requests (one source with their latency), the recorded webhooks.
    assert api["served_requests"] == 5 and Decimal(api["average_latency_ms"]) > 0
    assert (api["total_requests"], api["webhook_events"]) == ("5", "3")
    async with pool.acquire() as conn:
        stored = await conn.fetchval(
            "SELECT sum(requests) FROM api_request_metrics WHERE org_id = $1", org.org_id
        )
    assert stored >= 5


async def test_a_tenant_never_inherits_an_earlier_callers_rights_on_a_replica(
    database_url: str, sidecar: Sidecar, platform_key: str, pool: asyncpg.Pool
) -> None:
    """On a fresh replica a platform admin calls first; another tenant's key naming the same
    organization is still refused, and each tenant is still served for its own."""
    addr, _, proc = start_http_server(database_url, sidecar.http_base)
    try:
        seeder = Seeder(addr, platform_key, pool)
        own, other = await seeder.organization(), await seeder.organization()
        for key in (platform_key, own.keys[Role.TENANT_ADMIN]):
            async with aio_channel(addr, key) as channel:
                stub = reporting_pb2_grpc.ReportingServiceStub(channel)
                await stub.GetUsageSummary(pb.GetUsageSummaryRequest(org_id=own.org_id))
        async with aio_channel(addr, other.keys[Role.TENANT_ADMIN]) as channel:
            stub = reporting_pb2_grpc.ReportingServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.GetUsageSummary(pb.GetUsageSummaryRequest(org_id=own.org_id))
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
            mine = await stub.GetUsageSummary(pb.GetUsageSummaryRequest(org_id=other.org_id))
            assert mine.org_id == other.org_id
    finally:
        proc.terminate()
        proc.wait(timeout=15)


async def test_rate_limit_bars_follow_the_gateways_client_ip_header(
    database_url: str, sidecar: Sidecar, platform_key: str, pool: asyncpg.Pool
) -> None:
    addr, base, proc = start_http_server(
        database_url,
        sidecar.http_base,
        METERING_CLIENT_IP_HEADER="X-Envoy-External-Address",
        METERING_RATE_LIMIT_IPS="198.51.100.4",
    )
    try:
        org = await Seeder(addr, platform_key, pool).organization()
        async with aiohttp.ClientSession() as session:
            async with session.get(
                f"{sidecar.http_base}/v1/check",
                params={"domain": "webhook", "hits": "7", "remote_address": "203.0.113.9"},
            ) as taken:
                assert taken.status == 200
            async with session.get(
                f"{base}/api/v1/rate-limits",
                headers={
                    "Authorization": f"Bearer {org.keys[Role.SERVICE]}",
                    "X-Envoy-External-Address": "203.0.113.9",
                },
            ) as r:
                body = await r.json()
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert [a["ip"] for a in body["addresses"]] == ["203.0.113.9", "198.51.100.4"]
    bars = {b["domain"]: b for b in body["addresses"][0]["bars"]}
    assert bars["webhook"]["limit"] == 30 and 6 <= bars["webhook"]["used"] <= 7
    assert bars["api"]["used"] == 0 and bars["api"]["state"] == "ok"


async def test_a_credit_spend_export_over_grpc_links_to_the_configured_public_url(
    database_url: str, sidecar: Sidecar, platform_key: str, pool: asyncpg.Pool
) -> None:
    addr, base, proc = start_http_server(database_url, sidecar.http_base,
                                         METERING_PUBLIC_URL="https://usage.example.com/")
    try:
        seeder = Seeder(addr, platform_key, pool)
        org = await seeder.organization()
        await seeder.spend(org, [Spend(Decimal("3.5"), "", "", "web")])
        start, end = pb.CreateUsageExportRequest().from_time, pb.CreateUsageExportRequest().to_time
        start.FromSeconds(int(now().timestamp()) - 3600)
        end.FromSeconds(int(now().timestamp()) + 3600)
        key = org.keys[Role.BILLING_CONTACT]
        async with aio_channel(addr, key) as channel:
            stub = reporting_pb2_grpc.ReportingServiceStub(channel)
            made = (await stub.CreateUsageExport(pb.CreateUsageExportRequest(
                org_id=org.org_id, kind=pb.EXPORT_KIND_CREDIT_SPEND, format=pb.EXPORT_FORMAT_JSON,
                from_time=start, to_time=end))).export
            assert made.kind == pb.EXPORT_KIND_CREDIT_SPEND
            for _ in range(100):
                state = (await stub.GetUsageExport(
                    pb.GetUsageExportRequest(org_id=org.org_id, export_id=made.export_id))).export
                if state.status != "processing":
                    break
                await asyncio.sleep(0.1)
        path = f"/api/v1/usage/export/{made.export_id}/download"
        assert state.download_url == "https://usage.example.com" + path  # the trailing slash dropped
        async with aiohttp.ClientSession() as session:
            proxied = {"Authorization": f"Bearer {key}", "X-Forwarded-Host": "x.test"}
            async with session.get(f"{base}/api/v1/usage/export/{made.export_id}", headers=proxied) as r:
                # The configured URL wins over forwarded headers.
                assert (await r.json())["download_url"] == "https://usage.example.com" + path
            async with session.get(base + path, headers={"Authorization": f"Bearer {key}"}) as r:
                rows = await r.json()
        assert [(row["amount"], row["unit"], row["from_monthly"], row["source"]) for row in rows] == [
            ("3.5", "credits", "3.5", "web")]  # Starter's monthly credits pay it
    finally:
        proc.terminate()
        proc.wait(timeout=15)
