"""The golden month: one scripted month of four organizations, and every surface that shows its
figures compared with figures worked out by hand (tests/golden/figures.py). One test per surface,
so a failure names the surface; the reconciliation tests at the end tie the books together."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import aiohttp
import asyncpg
import pytest

from services.gen.metering.v1 import billing_pb2 as bpb
from services.gen.metering.v1 import billing_pb2_grpc, metering_pb2_grpc
from services.gen.metering.v1 import metering_pb2 as pb
from services.kit.caller import Role
from tests.billing.stripe_harness import names
from tests.golden import figures as f
from tests.golden.conftest import World
from tests.golden.script import DAY, MIDNIGHT_MARGIN, Org
from tests.metering.clients import aio_channel
from tests.reporting.test_http_api import get, post

# The first test also plays the month, which first waits past midnight UTC when it starts less
# than MIDNIGHT_MARGIN before it.
pytestmark = pytest.mark.timeout(300 + MIDNIGHT_MARGIN.total_seconds())
D = Decimal
OK, WARNING, CRITICAL, OVERAGE = (pb.QUOTA_STATE_OK, pb.QUOTA_STATE_WARNING, pb.QUOTA_STATE_CRITICAL,
                                  pb.QUOTA_STATE_OVERAGE)


def org(world: World, name: str) -> Org:
    return world.month.orgs[name]


def key(world: World, name: str, role: Role = Role.TENANT_ADMIN) -> str:
    return org(world, name).keys[role]


def start_end(world: World) -> tuple[datetime, datetime]:
    return world.month.anchor, f.period_end(world.month.anchor)


def starter_monthly(world: World) -> Decimal:
    """Starter's monthly grant after the upgrade: 9,900 + 40,000 x time left ÷ period length."""
    assert world.month.upgraded_at is not None, "the upgrade left no ledger entry"
    start, end = start_end(world)
    return f.STARTER_MONTHLY_BEFORE_UPGRADE + f.prorated(f.STARTER_UPGRADE_DIFFERENCE,
                                                         world.month.upgraded_at, start, end)


def enterprise_allowance(world: World) -> Decimal:
    """The negotiated 200,000 credits in force at once: prorated to the time left, like an upgrade."""
    assert world.month.allowance_at is not None, "no RPC sets an Enterprise negotiated allowance"
    start, end = start_end(world)
    return f.prorated(f.ENTERPRISE_NEGOTIATED_CREDITS, world.month.allowance_at, start, end)


async def quota(world: World, name: str, meter: str = "") -> pb.GetQuotaResponse:
    async with aio_channel(world.grpc_addr, key(world, name, Role.BILLING_CONTACT)) as channel:
        stub = metering_pb2_grpc.MeteringServiceStub(channel)
        return await stub.GetQuota(pb.GetQuotaRequest(org_id=org(world, name).org_id, meter=meter))


async def projection(world: World, name: str, meter: str = "") -> tuple[datetime, pb.ProjectResponse,
                                                                         datetime]:
    async with aio_channel(world.grpc_addr, key(world, name)) as channel:
        stub = metering_pb2_grpc.MeteringServiceStub(channel)
        before = datetime.now(UTC)
        reply = await stub.Project(pb.ProjectRequest(org_id=org(world, name).org_id, meter=meter))
        return before, reply, datetime.now(UTC)


def within_projection(got: str, used: Decimal, world: World, before: datetime, after: datetime) -> None:
    """A sum meter's straight-line projection taken between `before` and `after` (it falls with time)."""
    start, end = start_end(world)
    high, low = f.straight_line(used, start, end, before), f.straight_line(used, start, end, after)
    assert low <= D(got) <= high, (got, low, high)


async def api(world: World, name: str, path: str, role: Role = Role.TENANT_ADMIN, **query: Any) -> Any:
    status, body = await get(world.http_base, path, key(world, name, role), **query)
    assert status == 200, (path, status, body)
    return body


# --- GetQuota ------------------------------------------------------------------------------------


async def test_get_quota_shows_credits_spend_and_each_meter_by_its_aggregation(world: World) -> None:
    free = await quota(world, "free")
    assert (free.unit, D(free.used), D(free.limit), D(free.percent), free.state) == (
        pb.UNIT_CREDITS, f.FREE_CREDITS_SPENT, f.FREE_CREDITS_LIMIT, f.FREE_CREDITS_PERCENT, WARNING)
    assert (D(free.monthly_remaining), D(free.bonus_remaining), D(free.reserved)) == (
        f.FREE_MONTHLY_REMAINING, f.FREE_BONUS_REMAINING, D(0))
    assert (free.period.days_elapsed, free.period.days_remaining) == (
        10, (f.period_end(world.month.anchor) - world.month.anchor).days - 10)
    for meter, used in (("storage_gb", f.FREE_STORAGE), ("seats", f.FREE_SEATS),
                        ("llm_tokens", f.FREE_TOKENS), ("queries", f.FREE_QUERIES)):
        got = await quota(world, "free", meter)
        assert (D(got.used), got.unlimited, got.state) == (used, True, OK), meter

    starter = await quota(world, "starter")
    monthly = starter_monthly(world)
    assert (D(starter.used), D(starter.limit), starter.state) == (f.STARTER_CREDITS_SPENT, monthly, OK)
    assert D(starter.monthly_remaining) == monthly - f.STARTER_CREDITS_SPENT
    for meter, (used, limit, pct) in f.STARTER_LIMITS.items():
        got = await quota(world, "starter", meter)
        assert (D(got.used), D(got.limit), D(got.percent), got.state) == (used, limit, pct, OK), meter

    byom = await quota(world, "byom")
    assert (byom.unit, D(byom.used), D(byom.limit), D(byom.percent), byom.state) == (
        pb.UNIT_USD, f.BYOM_SPENT_USD, f.BYOM_CAP, f.BYOM_PERCENT, OVERAGE)
    assert D((await quota(world, "byom", "storage_gb")).used) == f.BYOM_STORAGE

    seats = await quota(world, "enterprise", "seats")
    assert (D(seats.used), seats.unlimited, seats.state) == (f.ENTERPRISE_SEATS, True, OK)
    storage = await quota(world, "enterprise", "storage_gb")
    # Shown against the soft limit the quota sets (2,000 GB), as /usage and alerts do: 500 / 2000 = 25 %.
    assert (D(storage.used), D(storage.limit), D(storage.percent)) == (f.ENTERPRISE_STORAGE, D(2000), D(25))
    enterprise = await quota(world, "enterprise")
    allowance = enterprise_allowance(world)
    assert (D(enterprise.used), D(enterprise.limit), enterprise.state) == (
        f.ENTERPRISE_CREDITS_SPENT, allowance, OK)
    assert D(enterprise.monthly_remaining) == allowance - f.ENTERPRISE_CREDITS_SPENT
    tokens = await quota(world, "enterprise", "llm_tokens")
    assert (D(tokens.used), D(tokens.limit), D(tokens.percent)) == (
        f.ENTERPRISE_TOKENS, f.ENTERPRISE_NEGOTIATED_TOKENS, D("29.60"))  # 2.96 M ÷ 10 M


# --- Project -------------------------------------------------------------------------------------


async def test_project_averages_sums_and_holds_levels_and_peaks_flat(world: World) -> None:
    before, free, after = await projection(world, "free")
    assert D(free.used) == f.FREE_CREDITS_SPENT
    within_projection(free.projected_period_end, f.FREE_CREDITS_SPENT, world, before, after)
    # 300 credits left at 1,200 ÷ days elapsed a day: days elapsed ÷ 4, down to the hundredth.
    start, _ = start_end(world)
    earliest, latest = (f.days_between(start, t) / 4 for t in (before, after))
    assert earliest.quantize(D("0.01"), "ROUND_FLOOR") <= D(free.run_out_in_days) <= latest
    for meter, used in (("storage_gb", f.FREE_STORAGE), ("seats", f.FREE_SEATS)):
        _, flat, _ = await projection(world, "free", meter)
        assert (D(flat.used), D(flat.projected_period_end)) == (used, used), meter
    before, tokens, after = await projection(world, "starter", "llm_tokens")
    within_projection(tokens.projected_period_end, f.STARTER_TOKENS, world, before, after)
    _, storage, _ = await projection(world, "starter", "storage_gb")
    assert (D(storage.projected_period_end), storage.will_exceed) == (f.STARTER_STORAGE, False)
    _, byom, _ = await projection(world, "byom")
    assert (D(byom.used), D(byom.limit), byom.will_exceed) == (f.BYOM_SPENT_USD, f.BYOM_CAP, True)
    assert D(byom.run_out_in_days or "0") == 0  # nothing left under the lowered cap


# --- GET /usage ----------------------------------------------------------------------------------


async def test_usage_summary_lists_credits_and_the_plans_limits(world: World) -> None:
    free = await api(world, "free", "/usage", Role.BILLING_CONTACT)
    assert (D(free["credits"]["used"]), D(free["credits"]["limit"]), free["credits"]["state"]) == (
        f.FREE_CREDITS_SPENT, f.FREE_CREDITS_LIMIT, "warning")
    assert D(free["credits"]["percentage"]) == f.FREE_CREDITS_PERCENT
    for resource, used in (("storage_gb", f.FREE_STORAGE), ("seats", f.FREE_SEATS),
                           ("llm_tokens", f.FREE_TOKENS), ("queries", f.FREE_QUERIES)):
        assert D(free[resource]["used"]) == used, resource

    starter = await api(world, "starter", "/usage")
    for resource, (used, limit, pct) in f.STARTER_LIMITS.items():
        line = starter[resource]
        assert (D(line["used"]), D(line["limit"]), D(line["percentage"]), line["state"]) == (
            used, limit, pct, "ok"), resource
    assert D(starter["api_requests"]["used"]) == f.STARTER_API_REQUESTS
    assert D(starter["bandwidth_gb"]["used"]) == f.STARTER_BANDWIDTH
    assert D(starter["databases"]["used"]) == 0  # deleted on day 3
    assert D(starter["credits"]["used"]) == f.STARTER_CREDITS_SPENT

    enterprise = await api(world, "enterprise", "/usage")
    assert (D(enterprise["seats"]["used"]), enterprise["seats"]["limit"]) == (f.ENTERPRISE_SEATS, None)
    assert enterprise["seats"].get("percentage") in (None, "0") and enterprise["seats"]["state"] == "ok"
    assert (D(enterprise["storage_gb"]["used"]), D(enterprise["storage_gb"]["limit"])) == (
        f.ENTERPRISE_STORAGE, D(2000))  # the raised soft limit
    assert (D(enterprise["queries"]["used"]), D(enterprise["queries"]["limit"])) == (
        f.ENTERPRISE_QUERIES, D(20_000))
    assert D(enterprise["llm_tokens"]["used"]) == f.ENTERPRISE_TOKENS
    assert D(enterprise["credits"]["used"]) == f.ENTERPRISE_CREDITS_SPENT

    byom = await api(world, "byom", "/usage")
    assert (D(byom["credits"]["used"]), D(byom["credits"]["limit"]), byom["credits"]["state"]) == (
        f.BYOM_SPENT_USD, f.BYOM_CAP, "overage")
    assert (D(byom["storage_gb"]["used"]), D(byom["llm_tokens"]["used"])) == (f.BYOM_STORAGE, f.BYOM_TOKENS)


# --- GET /usage/:resource_type -------------------------------------------------------------------


async def test_usage_by_resource_shows_daily_peaks_and_resource_lifetimes(world: World) -> None:
    anchor = world.month.anchor
    storage = await api(world, "starter", "/usage/storage")
    assert D(storage["total_used"]) == f.STARTER_STORAGE
    days = {d["date"]: D(d["used"]) for r in storage["resources"] for d in r["daily_usage"]}
    assert days == {(anchor + DAY).date().isoformat(): D(4),  # 4, 4, 4: peak 4
                    (anchor + 6 * DAY).date().isoformat(): D("9.5")}  # 6, 9.5, 7: peak 9.5
    queries = await api(world, "starter", "/usage/queries")
    assert D(queries["total_used"]) == f.STARTER_QUERIES
    assert D(queries["total_cost"]) == f.STARTER_COSTS["queries"]
    databases = await api(world, "starter", "/usage/databases")
    db = {r["id"]: r for r in databases["resources"]}["db-main"]
    assert (db["status"], db["tier"], D(db["cost"])) == ("deleted", "pro", f.STARTER_DB_COST)
    assert {d["date"]: D(d["used"]) for d in db["daily_usage"]} == {  # resource-hours per day
        (anchor + DAY).date().isoformat(): D(12), (anchor + 2 * DAY).date().isoformat(): D(24),
        (anchor + 3 * DAY).date().isoformat(): D(12)}
    tokens = await api(world, "enterprise", "/usage/llm_tokens")
    assert D(tokens["total_used"]) == f.ENTERPRISE_TOKENS


# --- GET /usage/history --------------------------------------------------------------------------


async def test_history_has_each_days_figure(world: World) -> None:
    anchor = world.month.anchor
    today = (anchor + 10 * DAY).date().isoformat()
    points = await api(world, "starter", "/usage/history", granularity="daily", months=1)
    by_day = {p["date"]: p for p in points}
    assert D(by_day[(anchor + DAY).date().isoformat()]["storage_gb"]["used"]) == 4  # never 12
    assert D(by_day[(anchor + 6 * DAY).date().isoformat()]["storage_gb"]["used"]) == D("9.5")
    assert D(by_day[(anchor + 4 * DAY).date().isoformat()]["queries"]["used"]) == 4000
    # 4,000 x $0.0001
    assert D(by_day[(anchor + 4 * DAY).date().isoformat()]["queries"]["cost"]) == D("0.4")
    assert D(by_day[today]["llm_tokens"]["used"]) == f.STARTER_TOKENS
    assert D(by_day[today]["credits"]["used"]) == f.STARTER_CREDITS_SPENT
    monthly = await api(world, "byom", "/usage/history", granularity="monthly", months=1)
    assert sum(D(p["llm_tokens"]["used"]) for p in monthly if "llm_tokens" in p) == f.BYOM_TOKENS


# --- GET /usage/quotas ---------------------------------------------------------------------------


async def test_quotas_show_limits_and_current_usage(world: World) -> None:
    starter = {q["resource"]: q for q in (await api(world, "starter", "/usage/quotas"))["quotas"]}
    for resource, (used, limit, _) in f.STARTER_LIMITS.items():
        assert (D(starter[resource]["current_usage"]), D(starter[resource]["plan_limit"])) == (used, limit)
    enterprise = {q["resource"]: q for q in (await api(world, "enterprise", "/usage/quotas"))["quotas"]}
    assert (D(enterprise["queries"]["soft_limit"]), enterprise["queries"]["alert_at_percent"]) == (
        D(20_000), 85)
    assert D(enterprise["queries"]["current_usage"]) == f.ENTERPRISE_QUERIES
    assert (D(enterprise["storage_gb"]["soft_limit"]), D(enterprise["storage_gb"]["current_usage"])) == (
        D(2000), f.ENTERPRISE_STORAGE)


# --- GET /usage/quota-alerts ---------------------------------------------------------------------


async def test_quota_alerts_are_exactly_those_the_usage_calls_for(world: World) -> None:
    starter = org(world, "starter")
    assert starter.notes["alerts_before_upgrade"] == f.STARTER_ALERTS_BEFORE_UPGRADE
    assert await api(world, "starter", "/usage/quota-alerts", status="active") == []
    resolved = await api(world, "starter", "/usage/quota-alerts", status="resolved")
    assert sorted((a["resource"], a["severity"]) for a in resolved) == f.STARTER_ALERTS_BEFORE_UPGRADE
    active = await api(world, "enterprise", "/usage/quota-alerts", Role.BILLING_CONTACT, status="active")
    assert sorted((a["resource"], a["severity"]) for a in active) == f.ENTERPRISE_ACTIVE_ALERTS
    warning = next(a for a in active if a["severity"] == "warning")
    assert (D(warning["current_usage"]), D(warning["quota_limit"]), D(warning["usage_percent"])) == (
        f.ENTERPRISE_QUERIES, D(20_000), D(85))
    resolved = await api(world, "enterprise", "/usage/quota-alerts", status="resolved")
    assert sorted((a["resource"], a["severity"]) for a in resolved) == f.ENTERPRISE_RESOLVED_ALERTS
    free = await api(world, "free", "/usage/quota-alerts", status="active")
    assert sorted((a["resource"], a["severity"]) for a in free) == f.FREE_ACTIVE_ALERTS
    byom = await api(world, "byom", "/usage/quota-alerts", status="active")
    assert sorted((a["resource"], a["severity"]) for a in byom) == f.BYOM_ACTIVE_ALERTS
    overage = next(a for a in byom if a["severity"] == "overage")
    assert (D(overage["current_usage"]), D(overage["quota_limit"]), D(overage["usage_percent"])) == (
        f.BYOM_SPENT_USD, f.BYOM_CAP, f.BYOM_PERCENT)


# --- GET /usage/projections ----------------------------------------------------------------------


async def test_projections_hold_gauges_flat_and_run_sums_at_this_periods_rate(world: World) -> None:
    before = datetime.now(UTC)
    body = await api(world, "starter", "/usage/projections")
    after = datetime.now(UTC)
    items = {p["resource"]: p for p in body["projections"]}
    assert (D(items["storage_gb"]["projected_month_end"]), items["storage_gb"]["will_exceed_quota"]) == (
        f.STARTER_STORAGE, False)
    assert D(items["seats"]["projected_month_end"]) == f.STARTER_SEATS
    within_projection(items["queries"]["projected_month_end"], f.STARTER_QUERIES, world, before, after)
    within_projection(items["llm_tokens"]["projected_month_end"], f.STARTER_TOKENS, world, before, after)
    within_projection(items["credits"]["projected_month_end"], f.STARTER_CREDITS_SPENT, world, before, after)
    assert D(items["credits"]["quota_limit"]) == starter_monthly(world)
    free = {p["resource"]: p for p in (await api(world, "free", "/usage/projections"))["projections"]}
    assert D(free["storage_gb"]["projected_month_end"]) == f.FREE_STORAGE
    assert (D(free["credits"]["quota_limit"]), free["credits"]["will_exceed_quota"]) == (
        f.FREE_CREDITS_LIMIT, True)  # 1,200 in 10 days runs past 1,500 before the period ends


# --- GET /usage/costs ----------------------------------------------------------------------------


@pytest.mark.parametrize("name, lines, total", [
    ("free", f.FREE_COSTS, f.FREE_COST_TOTAL),
    ("starter", f.STARTER_COSTS, f.STARTER_COST_TOTAL),
    ("enterprise", f.ENTERPRISE_COSTS, f.ENTERPRISE_COST_TOTAL),
    ("byom", f.BYOM_COSTS, f.BYOM_COST_TOTAL),
])
async def test_costs_price_each_resource_once(world: World, name: str, lines: dict[str, Decimal],
                                              total: Decimal) -> None:
    body = await api(world, name, "/usage/costs", period="current")
    got = {line["resource"]: D(line["total_cost"]) for line in body["breakdown"] if D(line["total_cost"])}
    assert got == lines
    assert D(body["total_cost"]) == total


# --- GET /usage/recommendations ------------------------------------------------------------------


async def test_recommendations_never_offer_a_plan_the_usage_exceeds(world: World) -> None:
    for name in ("free", "starter", "enterprise"):
        found = {a["id"]: a for a in await api(world, name, "/usage/recommendations")}
        # Free is the cheapest plan; Professional's 1.65 M tokens and 8,500 queries in ten days
        # exceed Starter's 500K and 10,000; Enterprise's 500 GB exceed Professional's 100 GB.
        assert "right-size-plan" not in found, (name, found.get("right-size-plan"))


# --- GET /billing/subscription -------------------------------------------------------------------


async def test_subscription_states_the_plan_and_metered_usage(world: World) -> None:
    body = await api(world, "starter", "/billing/subscription")
    start, end = start_end(world)
    assert body["plan"] == "professional"
    assert (body["billing_cycle"]["current_period_start"], body["billing_cycle"]["current_period_end"]) == (
        start.isoformat().replace("+00:00", "Z"), end.isoformat().replace("+00:00", "Z"))
    metrics = {m["name"]: m for m in body["usage_based_metrics"]}
    assert (D(metrics["postgres_pro_seconds"]["usage"]), metrics["postgres_pro_seconds"]["unit"]) == (
        D(48), "hours")
    assert D(metrics["postgres_pro_seconds"]["price_per_unit"]) == D("0.0397")
    assert "llm_tokens" not in metrics  # paid in credits when deducted
    assert D(body["estimated_total_cost"]) == f.STARTER_PLAN_PRICE + f.STARTER_USAGE_TOTAL  # nothing runs


# --- PreviewInvoice ------------------------------------------------------------------------------


async def preview(world: World, name: str) -> bpb.PreviewInvoiceResponse:
    async with aio_channel(world.grpc_addr, key(world, name, Role.BILLING_CONTACT)) as channel:
        stub = billing_pb2_grpc.BillingServiceStub(channel)
        return await stub.PreviewInvoice(bpb.PreviewInvoiceRequest(org_id=org(world, name).org_id))


@pytest.mark.parametrize("name", ["free", "starter", "enterprise", "byom"])
async def test_invoice_preview_lines_and_total(world: World, name: str) -> None:
    reply = await preview(world, name)
    lines = {line.meter: (D(line.quantity), D(line.amount_usd)) for line in reply.lines}
    assert lines == f.INVOICE_LINES[name]
    assert D(reply.total_usd) == f.INVOICE_TOTALS[name]


# --- usage_hourly --------------------------------------------------------------------------------


async def hourly(world: World, name: str) -> dict[str, tuple[Decimal, Decimal]]:
    """Per billing meter: the period's quantity in the hourly roll-ups (a sum meter's hours add up,
    a gauge's figure is its highest hour) and the cost the roll-ups priced (gauges: none per hour)."""
    conn = await asyncpg.connect(world.database_url)
    try:
        rows = await conn.fetch("SELECT meter, sum(quantity) AS q, max(quantity) AS top, sum(cost_usd) AS c "
                                "FROM usage_hourly WHERE org_id = $1 GROUP BY meter", org(world, name).org_id)
    finally:
        await conn.close()
    return {r["meter"]: (r["top"] if r["meter"] in f.GAUGES else r["q"], r["c"]) for r in rows}


@pytest.mark.parametrize("name", ["free", "starter", "enterprise", "byom"])
async def test_hourly_rollups_hold_the_billed_quantities(world: World, name: str) -> None:
    rolled = await hourly(world, name)
    assert {m: q for m, (q, _) in rolled.items()} == {m: q for m, (q, _) in f.INVOICE_LINES[name].items()}
    assert {m: c for m, (_, c) in rolled.items() if m not in f.GAUGES} == {
        m: c for m, (_, c) in f.INVOICE_LINES[name].items() if m not in f.GAUGES}


# --- Stripe --------------------------------------------------------------------------------------


async def pushed(world: World) -> dict[str, dict[str, int]]:
    """What Stripe holds per (organization name, meter): the sum of the accepted values, or for a
    gauge (a `last` meter) the value of the latest event."""
    conn = await asyncpg.connect(world.database_url)
    try:
        customers, meters = await names(conn)
    finally:
        await conn.close()
    by_org = {o.org_id: n for n, o in world.month.orgs.items()}
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for event in sorted(world.stripe["meter_events"], key=lambda e: e["timestamp"]):
        name = by_org[customers[event["payload"]["stripe_customer_id"]]]
        meter, value = meters[event["event_name"]], int(event["payload"]["value"])
        if meter in f.GAUGES:
            out[name][meter] = value
        else:
            out[name][meter] += value
    return {n: dict(v) for n, v in out.items()}


async def test_stripe_received_each_meter_once_in_its_unit(world: World) -> None:
    assert "Traceback" not in world.worker_log, world.worker_log[-3000:]
    assert await pushed(world) == f.STRIPE


# --- exports -------------------------------------------------------------------------------------


async def export(world: World, name: str, fmt: str, kind: str,
                 meters: list[str] | None = None) -> list[dict[str, Any]]:
    """Requests an export of this period, waits for it, downloads it from its absolute URL."""
    k = key(world, name, Role.TENANT_ADMIN)
    start, _ = start_end(world)
    period = {"from": start.isoformat(), "to": (datetime.now(UTC) + timedelta(minutes=1)).isoformat()}
    body: dict[str, Any] = {"kind": kind, "format": fmt, "period": period}
    if meters:
        body["resource_types"] = meters
    status, made = await post(world.http_base, "/usage/export", k, body)
    assert status == 202, made
    for _ in range(200):
        state = (await get(world.http_base, f"/usage/export/{made['export_id']}", k))[1]
        if state["status"] != "processing":
            break
        await asyncio.sleep(0.1)
    assert state["status"] == "completed", state
    url = state["download_url"]
    assert url.startswith(("http://", "https://")), url  # absolute
    async with aiohttp.ClientSession() as session, session.get(
            url, headers={"Authorization": f"Bearer {k}"}) as r:
        assert r.status == 200
        raw = await r.read()
    return list(csv.DictReader(io.StringIO(raw.decode()))) if fmt == "csv" else list(json.loads(raw))


def column_totals(rows: list[dict[str, Any]], by: str, value: str) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[row[by]] += D(str(row[value]))
    return dict(totals)


@pytest.mark.parametrize("fmt", ["csv", "json"])
async def test_export_of_usage_events_holds_readings_tokens_and_credits(world: World, fmt: str) -> None:
    meters = ["queries", "storage_gb", "llm_tokens", "credits"]
    rows = await export(world, "starter", fmt, "usage_events", meters)
    # Events as recorded: each storage reading is a row of its own (4+4+4+6+9.5+7 = 34.5).
    assert column_totals(rows, "meter", "quantity") == {
        "queries": f.STARTER_QUERIES, "storage_gb": D("34.5"), "llm_tokens": f.STARTER_TOKENS,
        "credits": f.STARTER_CREDITS_SPENT}
    tokens = [r for r in rows if r["meter"] == "llm_tokens"]
    assert column_totals(tokens, "token_kind", "quantity") == {
        "input": f.STARTER_TOKENS_INPUT, "output": f.STARTER_TOKENS_OUTPUT}


@pytest.mark.parametrize("fmt", ["csv", "json"])
async def test_export_of_credit_spend_holds_each_granted_chunk(world: World, fmt: str) -> None:
    rows = await export(world, "starter", fmt, "credit_spend")
    assert len(rows) == 5  # 3 chunks before the upgrade, 2 after
    assert sum((D(str(r["amount"])) for r in rows), D(0)) == f.STARTER_CREDITS_SPENT
    assert sum((D(str(r["input_tokens"])) for r in rows), D(0)) == f.STARTER_TOKENS_INPUT
    assert sum((D(str(r["output_tokens"])) for r in rows), D(0)) == f.STARTER_TOKENS_OUTPUT
    byom = await export(world, "byom", fmt, "credit_spend")
    assert {r["unit"] for r in byom} == {"usd"}
    assert sum((D(str(r["amount"])) for r in byom), D(0)) == f.BYOM_SPENT_USD  # the refusal is not spend


@pytest.mark.parametrize("fmt", ["csv", "json"])
async def test_export_of_resource_lifetimes_holds_each_resource(world: World, fmt: str) -> None:
    anchor = world.month.anchor
    rows = await export(world, "enterprise", fmt, "resource_lifetimes")

    def utc(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%S")

    got = {(r["resource_id"], r["kind"], r["tier"], r["started_at"][:19], r["ended_at"][:19]) for r in rows}
    assert got == {
        ("db-analytics", "postgres", "scale", utc(anchor + 2 * DAY),
         utc(anchor + 2 * DAY + timedelta(hours=10))),
        ("ns-batch", "namespace", "pro", utc(anchor + 5 * DAY + timedelta(hours=6)),
         utc(anchor + 6 * DAY + timedelta(hours=6))),
    }


# --- the dashboard in Chromium --------------------------------------------------------------------

async def test_dashboard_shows_the_months_credit_figures(world: World, browser: Any) -> None:
    page = await browser.new_page(viewport={"width": 1400, "height": 1800})
    await page.goto(f"{world.http_base}/dashboard#key={key(world, 'free', Role.BILLING_CONTACT)}")
    await page.wait_for_selector("body[data-loaded]")
    assert await page.text_content("#plan-name") == "Free"
    assert D(await page.text_content("#credits-used")) == f.FREE_CREDITS_SPENT
    assert D(await page.text_content("#credits-total")) == f.FREE_CREDITS_LIMIT
    assert D(await page.text_content("#credits-bonus")) == f.FREE_BONUS_REMAINING
    assert await page.text_content("#days-elapsed") == "10"
    assert await page.text_content("#days-remaining") == str(
        (f.period_end(world.month.anchor) - world.month.anchor).days - 10)
    await page.close()
    page = await browser.new_page(viewport={"width": 1400, "height": 1800})
    await page.goto(f"{world.http_base}/dashboard#key={key(world, 'starter', Role.TENANT_ADMIN)}")
    await page.wait_for_selector("body[data-loaded]")
    assert await page.text_content("#plan-name") == "Professional"
    assert D(await page.text_content("#credits-used")) == f.STARTER_CREDITS_SPENT
    assert D(await page.text_content("#credits-total")) == starter_monthly(world)
    await page.close()
    page = await browser.new_page(viewport={"width": 1400, "height": 1800})
    await page.goto(f"{world.http_base}/dashboard#key={key(world, 'byom', Role.TENANT_ADMIN)}")
    await page.wait_for_selector("body[data-loaded]")
    assert D(await page.text_content("#credits-used")) == f.BYOM_SPENT_USD
    assert D(await page.text_content("#credits-total")) == f.BYOM_CAP
    await page.close()


# --- reconciliation ------------------------------------------------------------------------------


async def ledger_and_usage(world: World, name: str) -> tuple[Decimal, Decimal, Decimal]:
    """(credits spent by the ledger, `credits` usage events, `llm_tokens` usage events) this period."""
    conn = await asyncpg.connect(world.database_url)
    try:
        org_id = org(world, name).org_id
        spent = await conn.fetchval(
            "SELECT coalesce(-sum(amount) FILTER (WHERE kind = 'deduct'), 0) "
            "     + coalesce(-sum(hold_amount) FILTER (WHERE kind = 'capture'), 0) "
            "FROM ledger_entries WHERE org_id = $1", org_id)
        usage = {r["meter"]: r["q"] for r in await conn.fetch(
            "SELECT meter, sum(quantity) AS q FROM usage_events WHERE org_id = $1 GROUP BY meter", org_id)}
    finally:
        await conn.close()
    return spent, usage.get("credits", D(0)), usage.get("llm_tokens", D(0))


@pytest.mark.parametrize("name", ["free", "starter", "enterprise", "byom"])
async def test_reconciliation_credits_granted_equal_ledger_and_credits_usage(world: World, name: str) -> None:
    granted = sum((D(reply.amount) for _, reply in org(world, name).deducts if reply.granted), D(0))
    spent, credits_usage, _ = await ledger_and_usage(world, name)
    assert granted == spent == credits_usage == f.CREDITS_SPENT[name]


@pytest.mark.parametrize("name", ["free", "starter", "enterprise", "byom"])
async def test_reconciliation_tokens_deducted_equal_llm_tokens_usage(world: World, name: str) -> None:
    deducted = sum((D(chunk.total) for chunk, reply in org(world, name).deducts if reply.granted), D(0))
    _, _, tokens = await ledger_and_usage(world, name)
    summary = await api(world, name, "/usage")
    assert deducted == tokens == D(summary["llm_tokens"]["used"]) == f.TOKENS[name]


@pytest.mark.parametrize("name", ["free", "starter", "enterprise", "byom"])
async def test_reconciliation_invoice_equals_rollups_equals_stripe(world: World, name: str) -> None:
    reply = await preview(world, name)
    rolled = await hourly(world, name)
    sent = (await pushed(world)).get(name, {})
    scale = {line.meter: line.stripe_scale for line in reply.lines}
    quantities = {m: q for m, (q, _) in rolled.items()}
    assert quantities == {line.meter: D(line.quantity) for line in reply.lines}
    assert {m: D(v).scaleb(-scale[m]) for m, v in sent.items()} == quantities
    # Roll-ups price each hour of a sum; a gauge is priced once on its period figure.
    usage = sum((c for m, (_, c) in rolled.items() if m not in f.GAUGES), D(0)) + sum(
        (q * f.GAUGES[m] for m, q in quantities.items() if m in f.GAUGES), D(0))
    assert D(reply.usage_total_usd) == usage
    assert D(reply.total_usd) == (D(reply.plan_price_usd or "0") + usage).quantize(D("0.01"))
    assert D(reply.total_usd) == f.INVOICE_TOTALS[name]
