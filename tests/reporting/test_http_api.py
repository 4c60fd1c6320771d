"""The HTTP/JSON API against real PostgreSQL and a real server: every figure is computed here from
what the test seeded through the gRPC API, and compared with what the API answers."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import aiohttp
import asyncpg
import pytest
from openapi_spec_validator import validate

from services.billing.service.resources import create_resource, delete_resource
from services.billing.store.resources import NewResource
from services.gen.metering.v1 import admin_pb2 as apb
from services.gen.metering.v1 import admin_pb2_grpc
from services.kit.caller import Role
from services.metering.domain.access_rules import RULES
from services.metering.store.api_keys import create_api_key
from services.metering.store.prices import set_resource_rate
from services.reporting.service.exports import Exports
from services.reporting.transport.http_api import ROUTES
from services.reporting.transport.openapi import openapi_document
from tests.metering.clients import aio_channel
from tests.reporting.seed import Event, Seeded, Seeder, Spend, days_ago, now

pytestmark = pytest.mark.timeout(120)
D = Decimal
SIX = D("0.000001")
STARTER_LIMITS = {"llm_tokens": D(500000), "queries": D(10000), "storage_gb": D(10), "seats": D(5)}
# billing_meters.unit_price_usd of migration 0004.
UNIT_PRICE = {"queries": D("0.0001"), "api_requests": D("0.000001"), "bandwidth_gb": D("0.10")}


async def get(base: str, path: str, key: str | None, **query: Any) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{base}/api/v1{path}", params={k: str(v) for k, v in query.items()}, headers=headers
        ) as response,
    ):
        return response.status, await response.json()


async def post(base: str, path: str, key: str, body: Any, **query: Any) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{base}/api/v1{path}",
            params=query,
            data=json.dumps(body),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        ) as response,
    ):
        return response.status, await response.json()


def money(value: Decimal) -> str:
    text = format(value.quantize(SIX, rounding=ROUND_HALF_UP), "f").rstrip("0").rstrip(".")
    return text or "0"


def plain(value: Decimal) -> str:
    text = format(value, "f")
    return (text.rstrip("0").rstrip(".") if "." in text else text) or "0"


@pytest.fixture(scope="module")
async def seeded(http_server: tuple[str, str], platform_key: str, pool: asyncpg.Pool) -> Seeded:
    """A Starter organization with 3 groups, 7 workspaces and 4 users, usage this period (and
    back-dated usage for history), and credit spend split by source, workspace and user."""
    seeder = Seeder(http_server[0], platform_key, pool)
    org = await seeder.organization("starter", bonus="250")
    await seeder.tenancy(
        org, {"g1": ["w1", "w2"], "g2": ["w3", "w4", "w5"], "g3": ["w6", "w7"]}, ["u1", "u2", "u3", "u4"]
    )
    current = now() + timedelta(seconds=1)
    events = []
    for i in range(1, 8):
        events += [
            Event("llm_tokens", D(1000 * i), current, f"w{i}", f"u{i % 4 + 1}", "web"),
            Event("queries", D(10 + i), current, f"w{i}", f"u{i % 4 + 1}", "cli"),
            Event("api_requests", D(100 * i), current, f"w{i}", "", "api"),
        ]
    events += [
        Event("storage_gb", D("2.5"), current, "w1"),
        Event("bandwidth_gb", D("1.25"), current, "w2"),
        Event("queries", D(7), current),
    ]
    # History: queries on three earlier days.
    for back, quantity in ((3, 40), (2, 50), (1, 60)):
        events.append(Event("queries", D(quantity), days_ago(back), "w1", "u1", "cli"))
    await seeder.record(org, events)
    spends = [Spend(D(5 * i + 1), f"w{i}", f"u{i % 4 + 1}", "web" if i % 2 else "cli") for i in range(1, 8)]
    spends += [Spend(D("2.5"), "", "", "api"), Spend(D("0.75"), "w1", "u1", "cli")]
    await seeder.spend(org, spends)
    return org


async def test_usage_summary_equals_the_events_of_this_period(http_base: str, seeded: Seeded) -> None:
    status, body = await get(http_base, "/usage", seeded.keys[Role.BILLING_CONTACT])
    assert status == 200, body
    start = datetime.fromisoformat(body["period_start"])
    assert body["organization_id"] == seeded.org_id
    for resource in (
        "databases",
        "namespaces",
        "storage_gb",
        "bandwidth_gb",
        "nfs_shares",
        "kafka_clusters",
        "api_requests",
        "seats",
        "llm_tokens",
        "queries",
    ):
        # No seats readings: seats count the 4 registered users (u1..u4).
        used = D(4) if resource == "seats" else seeded.used(resource, start)
        limit = STARTER_LIMITS.get(resource)
        assert body[resource]["used"] == plain(used), resource
        assert body[resource]["limit"] == (None if limit is None else plain(limit)), resource
        percent = D(0) if limit is None else (used * 100 / limit).quantize(D("0.01"), ROUND_HALF_UP)
        assert D(body[resource]["percentage"]) == percent, resource
    assert body["llm_tokens"]["used"] == "28000" and body["queries"]["used"] == str(sum(range(11, 18)) + 7)


async def test_usage_by_resource_has_each_workspace_and_its_days(http_base: str, seeded: Seeded) -> None:
    status, body = await get(
        http_base,
        "/usage/queries",
        seeded.keys[Role.TENANT_ADMIN],
        period="custom",
        **{"from": days_ago(5).isoformat(), "to": (now() + timedelta(hours=1)).isoformat()},
    )
    assert status == 200, body
    expected: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for e in seeded.events:
        if e.meter == "queries":
            expected[e.workspace_id][e.occurred_at.astimezone(UTC).date().isoformat()] += e.quantity
    got = {r["id"]: {d["date"]: D(d["used"]) for d in r["daily_usage"]} for r in body["resources"]}
    assert got == {w: dict(days) for w, days in expected.items()}
    assert D(body["total_used"]) == seeded.used("queries")
    assert D(body["total_cost"]) == (seeded.used("queries") * UNIT_PRICE["queries"]).quantize(SIX)
    assert {r["id"]: r["name"] for r in body["resources"]}["w1"] == "Workspace w1"
    storage = (await get(http_base, "/usage/storage", seeded.keys[Role.TENANT_ADMIN]))[1]
    assert storage["resource_type"] == "storage_gb" and storage["total_used"] == "2.5"


async def test_history_daily_and_monthly(http_base: str, seeded: Seeded) -> None:
    status, body = await get(
        http_base,
        "/usage/history",
        seeded.keys[Role.SERVICE],
        granularity="daily",
        resource_type="queries",
        months=1,
    )
    assert status == 200, body
    per_day: dict[str, Decimal] = defaultdict(Decimal)
    for e in seeded.events:
        if e.meter == "queries":
            per_day[e.occurred_at.astimezone(UTC).date().isoformat()] += e.quantity
    got = {p["date"]: D(p["queries"]["used"]) for p in body if "queries" in p}
    assert {k: v for k, v in got.items() if v} == dict(per_day)
    for p in body:
        if "queries" in p:
            assert D(p["queries"]["cost"]) == (D(p["queries"]["used"]) * UNIT_PRICE["queries"]).quantize(SIX)
            assert p["queries"]["limit"] == "10000"
    assert len(body) >= 28  # one point per day of the last month
    monthly = (
        await get(http_base, "/usage/history", seeded.keys[Role.SERVICE], granularity="monthly", months=3)
    )[1]
    assert sum(D(p["queries"]["used"]) for p in monthly if "queries" in p) == seeded.used("queries")
    assert sum(D(p["llm_tokens"]["used"]) for p in monthly if "llm_tokens" in p) == seeded.used("llm_tokens")


async def test_quotas_set_and_alerts_filtered(http_base: str, seeded: Seeded) -> None:
    key = seeded.keys[Role.TENANT_ADMIN]  # limits are set by admins
    start = datetime.fromisoformat((await get(http_base, "/usage", key))[1]["period_start"])
    used = seeded.used("api_requests", start)  # 2800
    status, body = await post(
        http_base,
        "/usage/quotas/api_requests",
        key,
        {"soft_limit": 3000, "hard_limit": "50000", "alert_at_percent": 90},
    )
    assert status == 200, body
    assert body == {
        **body,
        "resource": "api_requests",
        "soft_limit": "3000",
        "hard_limit": "50000",
        "alert_at_percent": 90,
        "current_usage": plain(used),
    }
    quotas = {q["resource"]: q for q in (await get(http_base, "/usage/quotas", key))[1]["quotas"]}
    assert quotas["api_requests"]["current_usage"] == plain(used)
    assert quotas["queries"]["plan_limit"] == "10000" and quotas["queries"]["soft_limit"] is None
    warning = (await get(http_base, "/usage/quota-alerts", key, status="warning"))[1]
    assert [(a["resource"], a["severity"], a["current_usage"]) for a in warning] == [
        ("api_requests", "warning", plain(used))
    ]
    budget = (await get(http_base, "/usage/quota-alerts", key, status="budget", resource="api_requests"))[1]
    assert [a["severity"] for a in budget] == ["budget"]  # 2800 >= 90 % of 3000
    assert (await get(http_base, "/usage/quota-alerts", key, status="critical"))[1] == []
    assert (await get(http_base, "/usage/quota-alerts", key, status="resolved"))[1] == []
    # Raising the limit resolves them.
    await post(http_base, "/usage/quotas/api_requests", key, {"soft_limit": "100000"})
    resolved = (await get(http_base, "/usage/quota-alerts", key, status="resolved"))[1]
    assert {a["severity"] for a in resolved} == {"warning", "budget"}
    assert (await get(http_base, "/usage/quota-alerts", key, status="active"))[1] == []
    bad = await post(http_base, "/usage/quotas/api_requests", key, {"soft_limit": 0.5e400})
    assert bad[0] == 400 and bad[1]["field"] == "soft_limit"
    assert (await post(http_base, "/usage/quotas/nope", key, {}))[1]["field"] == "resource"


async def test_projections_from_this_periods_rate(http_base: str, seeded: Seeded) -> None:
    body = (await get(http_base, "/usage/projections", seeded.keys[Role.SERVICE]))[1]
    start = datetime.fromisoformat(
        (await get(http_base, "/usage", seeded.keys[Role.SERVICE]))[1]["period_start"]
    )
    items = {p["resource"]: p for p in body["projections"]}
    tokens = items["llm_tokens"]
    used = seeded.used("llm_tokens", start)
    # The organization is younger than a day: the average divides by one day.
    assert tokens["current_usage"] == plain(used) and D(tokens["daily_growth"]) == used
    remaining = D(body["days_remaining"])
    assert used + used * (remaining - 1) <= D(tokens["projected_month_end"]) <= used + used * remaining
    assert tokens["quota_limit"] == "500000"
    assert tokens["will_exceed_quota"] is (D(tokens["projected_month_end"]) > 500000)
    credits = items["credits"]
    spent = sum((s.amount for s in seeded.spends), D(0))
    assert credits["current_usage"] == plain(spent) and credits["quota_limit"] == plain(D(9900) + D(250))
    assert D(credits["run_out_in_days"]) == ((D(9900) + D(250) - spent) / spent).quantize(
        D("0.01"), "ROUND_FLOOR"
    )
    one = (await get(http_base, "/usage/projections", seeded.keys[Role.SERVICE], resource_type="queries"))[1]
    assert [p["resource"] for p in one["projections"]] == ["queries"]


async def test_costs_by_resource_service_and_user(http_base: str, seeded: Seeded) -> None:
    status, body = await get(
        http_base, "/usage/costs", seeded.keys[Role.TENANT_ADMIN], period="current", granularity="daily"
    )
    assert status == 200, body
    start = datetime.fromisoformat(body["period_start"])
    lines = {line["resource"]: line for line in body["breakdown"]}
    expected = {m: seeded.used(m, start) * p for m, p in UNIT_PRICE.items()}
    expected["agent_credits"] = sum((s.amount for s in seeded.spends), D(0)) / 100  # 100 credits = $1
    for resource, cost in expected.items():
        assert lines[resource]["total_cost"] == money(cost), (resource, lines)
    assert lines["queries"]["unit_cost"] == "0.0001" and lines["queries"]["usage"] == plain(
        seeded.used("queries", start)
    )
    assert lines["storage_gb"]["total_cost"] == money(D("2.5") * D("0.10"))  # resource rate of storage_gb
    total = sum((D(line["total_cost"]) for line in body["breakdown"]), D(0))
    assert D(body["total_cost"]) == total
    for line in body["breakdown"]:
        assert D(line["percentage"]) == (D(line["total_cost"]) * 100 / total).quantize(
            D("0.01"), ROUND_HALF_UP
        )
    by_user = {u["user_id"]: D(u["cost_usd"]) for u in body["by_user"]}
    assert by_user == {u: (a / 100).quantize(SIX) for u, a in seeded.spend_by("user_id").items()}
    assert {u["user_id"]: u["name"] for u in body["by_user"]}["u1"] == "User u1"
    assert D(body["by_service"]["query_engine"]["query_cost"]) == D(lines["queries"]["total_cost"])
    assert sum(D(p["cost"]) for p in body["series"]) == total
    last = (await get(http_base, "/usage/costs", seeded.keys[Role.TENANT_ADMIN], period="last-month"))[1]
    earlier = seeded.used("queries", datetime.fromisoformat(last["period_start"]), start)
    assert earlier == 150 and last["total_cost"] == money(earlier * UNIT_PRICE["queries"])
    assert last["period_end"] == body["period_start"]


async def test_top_consumers_ranked_and_paginated(http_base: str, seeded: Seeded) -> None:
    key = seeded.keys[Role.TENANT_ADMIN]
    spend = seeded.spend_by("workspace_id")
    total = sum(spend.values(), D(0))
    requests: dict[str, int] = defaultdict(int)
    for e in seeded.events:
        if e.occurred_at >= datetime.fromisoformat((await get(http_base, "/usage", key))[1]["period_start"]):
            requests[e.workspace_id] += 1
    ranking = sorted(set(spend) | set(requests), key=lambda w: (-spend.get(w, D(0)), -requests[w], w))
    rows, token = [], None
    while True:
        page = (
            await get(
                http_base,
                "/credits/top/workspaces",
                key,
                page_size=3,
                **({"page_token": token} if token else {}),
            )
        )[1]
        assert len(page["items"]) <= 3 and page["total_count"] == len(ranking)
        rows += page["items"]
        token = page["next_page_token"]
        if token is None:
            break
    assert [r["id"] for r in rows] == ranking
    assert [r["rank"] for r in rows] == list(range(1, len(ranking) + 1))
    for r in rows:
        assert D(r["amount"]) == spend.get(r["id"], D(0))
        assert r["requests"] == requests[r["id"]]
        assert D(r["percentage"]) == (spend.get(r["id"], D(0)) * 100 / total).quantize(
            D("0.01"), ROUND_HALF_UP
        )
    groups = (await get(http_base, "/credits/top/workspace_groups", key, page_size=10))[1]["items"]
    assert {g["id"]: D(g["amount"]) for g in groups if D(g["amount"])} == seeded.spend_by("group")
    users = (await get(http_base, "/credits/top/users", key, page_size=2))[1]
    assert users["items"][0]["id"] == max(seeded.spend_by("user_id").items(), key=lambda kv: kv[1])[0]
    assert users["next_page_token"]


async def test_chart_splits_web_and_cli(http_base: str, seeded: Seeded, pool: asyncpg.Pool) -> None:
    key = seeded.keys[Role.BILLING_CONTACT]
    web = sum((s.amount for s in seeded.spends if s.source == "web"), D(0))
    cli = sum((s.amount for s in seeded.spends if s.source == "cli"), D(0))
    for chart_range, points in (("24h", 24), ("7d", 7), ("30d", 5)):
        body = (await get(http_base, "/credits/chart", key, range=chart_range))[1]
        assert len(body["points"]) == points and body["unit"] == "credits"
        assert sum(D(p["web"]) for p in body["points"]) == web
        assert sum(D(p["cli"]) for p in body["points"]) == cli
        assert D(body["points"][-1]["web"]) + D(body["points"][-2]["web"]) == web  # spent just now
    assert (await get(http_base, "/credits/chart", key, range="1y"))[1]["field"] == "range"


async def test_export_csv_and_json_stream_the_events(http_base: str, seeded: Seeded) -> None:
    key = seeded.keys[Role.SERVICE]
    period = {"from": days_ago(2.5).isoformat(), "to": (now() + timedelta(minutes=5)).isoformat()}
    wanted = [
        e
        for e in seeded.events
        if e.meter == "queries" and datetime.fromisoformat(period["from"]) <= e.occurred_at
    ]
    for fmt in ("csv", "json"):
        status, made = await post(
            http_base, "/usage/export", key, {"format": fmt, "resource_types": ["queries"], "period": period}
        )
        assert status == 202 and made["status"] == "processing" and made["download_url"] is None, made
        for _ in range(100):
            status, state = await get(http_base, f"/usage/export/{made['export_id']}", key)
            if state["status"] != "processing":
                break
            await asyncio.sleep(0.1)
        assert state["status"] == "completed" and state["row_count"] == len(wanted), state
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                state["download_url"], headers={"Authorization": f"Bearer {key}"}
            ) as r,
        ):
            assert r.status == 200
            raw = await r.read()
        assert len(raw) == state["file_size_bytes"]
        rows = list(csv.DictReader(io.StringIO(raw.decode()))) if fmt == "csv" else json.loads(raw)
        assert sorted(D(r["quantity"]) for r in rows) == sorted(e.quantity for e in wanted)
        assert {r["meter"] for r in rows} == {"queries"}
    other = await get(http_base, f"/usage/export/{made['export_id']}", seeded.keys[Role.TENANT_ADMIN])
    assert other[0] == 200  # same organization, another role
    assert (await post(http_base, "/usage/export", key, {"format": "xml", "period": period}))[1][
        "field"
    ] == "format"
    assert (
        await post(http_base, "/usage/export", key, {"format": "csv", "period": {"from": period["from"]}})
    )[1]["field"] == "period.to"


async def test_bad_input_unknown_and_unauthenticated(
    http_base: str, seeded: Seeded, platform_key: str
) -> None:
    key = seeded.keys[Role.TENANT_ADMIN]
    for path, query, field in (
        ("/usage/history", {"granularity": "hourly"}, "granularity"),
        ("/usage/history", {"months": "25"}, "months"),
        ("/usage/costs", {"period": "yesterday"}, "period"),
        ("/usage/teleporters", {}, "resource_type"),
        ("/usage/queries", {"period": "custom"}, "from"),
        ("/usage/quota-alerts", {"status": "sleepy"}, "status"),
        ("/credits/top/planets", {}, "kind"),
        ("/credits/top/users", {"page_size": "1000"}, "page_size"),
        ("/credits/top/users", {"page_token": "!!"}, "page_token"),
    ):
        status, body = await get(http_base, path, key, **query)
        assert (status, body["field"]) == (400, field), (path, body)
    assert (await get(http_base, "/usage/export/export-nope", key))[0] == 404
    assert (await get(http_base, "/usage", None))[0] == 401
    assert (await get(http_base, "/usage", "mk_0123456789ab_wrong"))[0] == 401
    assert (await get(http_base, "/usage", platform_key))[1]["field"] == "org_id"  # whose?
    assert (await get(http_base, "/usage", platform_key, org_id=seeded.org_id))[0] == 200
    service = seeded.keys[Role.SERVICE]
    for path in ("/usage/costs", "/usage/recommendations", "/billing/invoices", "/billing/subscription"):
        assert (await get(http_base, path, service))[0] == 403, path


async def test_another_organizations_key_gets_403_everywhere(
    http_base: str, seeded: Seeded, platform_key: str, http_server: tuple[str, str], pool: asyncpg.Pool
) -> None:
    outsider = await Seeder(http_server[0], platform_key, pool).organization("starter")
    paths = [
        "/usage",
        "/usage/queries",
        "/usage/history",
        "/usage/quotas",
        "/usage/quota-alerts",
        "/usage/projections",
        "/usage/costs",
        "/usage/recommendations",
        "/usage/export/export-x",
        "/usage/export/export-x/download",
        "/billing/subscription",
        "/billing/invoices",
        "/credits/overview",
        "/credits/chart",
        "/credits/top/users",
        "/metrics",
        "/rate-limits",
    ]
    for role in (Role.TENANT_ADMIN, Role.BILLING_CONTACT, Role.SERVICE):
        for path in paths:
            status, body = await get(http_base, path, outsider.keys[role], org_id=seeded.org_id)
            assert status == 403, (role, path, status)
            assert seeded.org_id not in json.dumps(body) or body["field"] in ("org_id", "authorization")
        for path, payload in (
            ("/usage/quotas/queries", {"soft_limit": "1"}),
            (
                "/usage/export",
                {"format": "csv", "period": {"from": "2024-01-01T00:00:00Z", "to": "2024-02-01T00:00:00Z"}},
            ),
        ):
            assert (await post(http_base, path, outsider.keys[role], payload, org_id=seeded.org_id))[0] == 403
    # Its own figures hold nothing of the other organization.
    own = (await get(http_base, "/usage", outsider.keys[Role.TENANT_ADMIN]))[1]
    assert own["organization_id"] == outsider.org_id and own["llm_tokens"]["used"] == "0"
    top = (await get(http_base, "/credits/top/workspaces", outsider.keys[Role.TENANT_ADMIN]))[1]
    assert top["items"] == []


async def test_subscription_invoices_overview_and_openapi(
    http_base: str, seeded: Seeded, pool: asyncpg.Pool
) -> None:
    key = seeded.keys[Role.TENANT_ADMIN]
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO billing_accounts (org_id, stripe_customer_id, stripe_subscription_id) "
            "VALUES ($1, 'cus_rep', 'sub_rep')",
            seeded.org_id,
        )
    sub = (await get(http_base, "/billing/subscription", key))[1]
    usage = (await get(http_base, "/usage", key))[1]
    assert (sub["plan"], sub["organization_id"], sub["status"]) == ("starter", seeded.org_id, "active")
    assert (sub["stripe_customer_id"], sub["subscription_id"]) == ("cus_rep", "sub_rep")
    assert sub["billing_cycle"]["current_period_end"] == usage["period_end"] == sub["next_billing_date"]
    # The billing worker counts whole UTC days from the period's first midnight: nothing yet, so
    # the estimate is the plan's price.
    assert sub["usage_based_metrics"] == [] and sub["estimated_total_cost"] == "99"
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO invoices (org_id, stripe_invoice_id, number, period_start, period_end, currency, "
            "amount_due, amount_paid, total, stripe_status, due_date, pdf_url, created_at, synced_at) VALUES "
            "($1, 'in_1', 'INV-0001', $2, $3, 'usd', 99, 99, 99, 'paid', $3, 'https://pay/in_1.pdf', $3, $3),"
            "($1, 'in_2', NULL, $3, $4, 'usd', 12.5, 0, 12.5, 'open', $4, NULL, $4, $4)",
            seeded.org_id,
            now() - timedelta(days=60),
            now() - timedelta(days=30),
            now() - timedelta(days=1),
        )
    invoices = (await get(http_base, "/billing/invoices", key))[1]
    assert [(i["invoice_id"], i["amount"], i["currency"], i["status"]) for i in invoices] == [
        ("in_2", "12.5", "usd", "overdue"),  # open past its due date
        ("INV-0001", "99", "usd", "paid"),
    ]
    overview = (await get(http_base, "/credits/overview", key))[1]
    spent = sum((s.amount for s in seeded.spends), D(0))
    assert overview["used"] == plain(spent) and overview["monthly_allowance"] == "9900"
    assert overview["bonus_remaining"] == "250" and overview["monthly_remaining"] == plain(D(9900) - spent)
    assert overview["days_elapsed"] == 0 and overview["days_remaining"] in (30, 31)
    assert overview["run_out_warning"] is False and overview["average_per_day"] == plain(spent.quantize(SIX))
    async with aiohttp.ClientSession() as session, session.get(f"{http_base}/api/v1/openapi.json") as r:
        doc = await r.json()
    for path in (
        "/usage",
        "/usage/{resource_type}",
        "/usage/history",
        "/usage/quotas",
        "/usage/quotas/{resource}",
        "/usage/quota-alerts",
        "/usage/projections",
        "/usage/costs",
        "/usage/recommendations",
        "/usage/export",
        "/usage/export/{export_id}",
        "/billing/subscription",
    ):
        assert path in doc["paths"], path
    assert doc["components"]["schemas"]["Decimal"]["type"] == "string"
    validate(doc)  # a valid OpenAPI 3.1 document


def test_every_route_is_documented_and_bound_to_an_access_rule() -> None:
    doc = openapi_document()
    for method, path, rpc, _ in ROUTES:
        assert method.lower() in doc["paths"][path], path
        assert rpc in RULES, rpc  # the HTTP door applies the RPC's own rule
        assert rpc.rsplit("/", 1)[-1] in doc["paths"][path][method.lower()]["description"]
    assert {p for _, p, _, _ in ROUTES} == set(doc["paths"])


async def test_per_second_billed_resources_in_usage_costs_and_advice(
    http_server: tuple[str, str], platform_key: str, pool: asyncpg.Pool
) -> None:
    """The billing worker's resources: a Postgres Pro that ran 3 hours, a running Starter, 50 GB of
    NFS, and 125 GB of backups kept for 100 days."""

    base = http_server[1]
    org = await Seeder(http_server[0], platform_key, pool).organization("starter")
    key = org.keys[Role.TENANT_ADMIN]
    t = now().replace(microsecond=0)
    async with pool.acquire() as conn:
        await set_resource_rate(
            conn, "backups_gb", "", datetime(2024, 1, 1, tzinfo=UTC), D("0.000068"), D("0.05")
        )
        for rid, kind, tier, quantity, since in (
            ("db1", "postgres", "pro", D(1), t - timedelta(hours=10)),
            ("db2", "postgres", "starter", D(1), t - timedelta(hours=2)),
            ("nfs1", "nfs_gb", "", D(50), t - timedelta(hours=1)),
            ("bk1", "backups_gb", "", D(125), t - timedelta(days=100)),
        ):
            await create_resource(
                conn, NewResource(org.org_id, rid, kind, tier, quantity, f"{rid}-name", "u9"), since
            )
        await delete_resource(conn, org.org_id, "db1", t - timedelta(hours=7))
    window = {"from": (t - timedelta(days=1)).isoformat(), "to": (t + timedelta(hours=1)).isoformat()}
    body = (await get(base, "/usage/databases", key, period="custom", **window))[1]
    by_id = {r["id"]: r for r in body["resources"]}
    assert by_id["db1"]["cost"] == "0.1191" and by_id["db1"]["status"] == "deleted"  # 3 h x $0.0397
    assert sum(D(d["used"]) for d in by_id["db1"]["daily_usage"]) == 3  # resource-hours
    assert (by_id["db2"]["type"], by_id["db2"]["tier"], by_id["db2"]["status"]) == (
        "postgres",
        "starter",
        "running",
    )
    assert D("0.0246") <= D(by_id["db2"]["cost"]) <= D("0.0247")  # about 2 h x $0.0123
    assert body["total_used"] == "1"  # one database running
    summary = (await get(base, "/usage", key))[1]
    assert (summary["databases"]["used"], summary["nfs_shares"]["used"]) == ("1", "50")
    history = (await get(base, "/usage/history", key, resource_type="databases", granularity="daily"))[1]
    spent = sum((D(p["databases"]["cost"]) for p in history if "databases" in p), D(0))
    assert D("0.1191") + D("0.0245") <= spent <= D("0.1191") + D("0.0248")  # db1's 3 h and db2's ~2 h
    advice = {a["id"]: a for a in (await get(base, "/usage/recommendations", key))[1]}
    backups = advice["clean-up-old-backups"]
    assert backups["current_cost"] == money(D("0.000068") * 125 * 730) == backups["projected_savings"]
    assert "125 GB" in backups["description"]
    costs = (await get(base, "/usage/costs", key))[1]
    lines = {line["resource"]: line for line in costs["breakdown"]}
    assert {"databases", "nfs_shares", "backups_gb"} <= set(lines) and lines["databases"]["unit_cost"] is None
    assert {u["user_id"] for u in costs["by_user"]} == {"u9"}


async def test_byom_chart_and_top_tables_are_in_usd(
    http_server: tuple[str, str], platform_key: str, pool: asyncpg.Pool
) -> None:

    base = http_server[1]
    seeder = Seeder(http_server[0], platform_key, pool)
    org_id = f"byom-{now().timestamp():.0f}"
    async with aio_channel(http_server[0], platform_key) as channel:
        await admin_pb2_grpc.MeteringAdminServiceStub(channel).CreateOrganization(
            apb.CreateOrganizationRequest(
                org_id=org_id, name="BYOM", billing_model=apb.BILLING_MODEL_BYOM, monthly_spend_cap_usd="50"
            )
        )
    async with pool.acquire() as conn:
        keys = {
            r: (await create_api_key(conn, org_id, r, r.value))[1] for r in (Role.SERVICE, Role.TENANT_ADMIN)
        }
    org = Seeded(org_id, keys)
    await seeder.spend(org, [Spend(D("1.25"), "w", "", "web"), Spend(D("0.5"), "w", "", "cli")])
    chart = (await get(base, "/credits/chart", keys[Role.TENANT_ADMIN], range="24h"))[1]
    assert chart["unit"] == "usd"
    assert sum(D(p["web"]) for p in chart["points"]) == D("1.25")
    assert sum(D(p["cli"]) for p in chart["points"]) == D("0.5")
    overview = (await get(base, "/credits/overview", keys[Role.TENANT_ADMIN]))[1]
    assert (overview["unit"], overview["used"], overview["total"]) == ("usd", "1.75", "50")
    top = (await get(base, "/credits/top/workspaces", keys[Role.TENANT_ADMIN]))[1]
    assert top["unit"] == "usd" and [(i["id"], i["amount"]) for i in top["items"]] == [("w", "1.75")]
    costs = (await get(base, "/usage/costs", keys[Role.TENANT_ADMIN]))[1]
    assert {line["resource"]: line["total_cost"] for line in costs["breakdown"]}["agent_credits"] == "1.75"


async def test_an_expired_export_is_no_longer_downloadable(
    http_base: str, seeded: Seeded, pool: asyncpg.Pool
) -> None:
    key = seeded.keys[Role.TENANT_ADMIN]
    period = {"from": days_ago(1).isoformat(), "to": (now() + timedelta(minutes=5)).isoformat()}
    made = (await post(http_base, "/usage/export", key, {"format": "csv", "period": period}))[1]
    for _ in range(100):
        if (await get(http_base, f"/usage/export/{made['export_id']}", key))[1]["status"] == "completed":
            break
        await asyncio.sleep(0.1)
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE usage_exports SET expires_at = statement_timestamp() - interval '1 second' "
            "WHERE org_id = $1 AND export_id = $2",
            seeded.org_id,
            made["export_id"],
        )
    state = (await get(http_base, f"/usage/export/{made['export_id']}", key))[1]
    assert state["status"] == "expired" and state["download_url"] is None
    status, body = await get(http_base, f"/usage/export/{made['export_id']}/download", key)
    assert status == 404 and body["field"] == "export_id"
    assert await Exports(pool).sweep_expired() >= 1
    assert (await get(http_base, f"/usage/export/{made['export_id']}", key))[0] == 404
    async with pool.acquire() as conn:
        left = await conn.fetchval(
            "SELECT count(*) FROM usage_export_chunks WHERE export_id = $1", made["export_id"]
        )
    assert left == 0


async def test_recommendations_from_the_organizations_own_use(
    http_server: tuple[str, str], platform_key: str, pool: asyncpg.Pool
) -> None:
    """A Professional organization using little: Starter fits with 20 % headroom ($400 saved a
    month); three of its four workspaces spent nothing, so three namespaces could be one."""
    base = http_server[1]
    seeder = Seeder(http_server[0], platform_key, pool)
    org = await seeder.organization("professional")
    await seeder.tenancy(org, {"team": ["w1", "w2", "w3", "w4"]}, [])
    await seeder.record(org, [Event("llm_tokens", D(1000), now() + timedelta(seconds=1), "w1")])
    await seeder.spend(org, [Spend(D(100), "w1", "", "web")])
    found = {a["id"]: a for a in (await get(base, "/usage/recommendations", org.keys[Role.TENANT_ADMIN]))[1]}
    plan = found["right-size-plan"]
    assert (plan["title"], plan["current_cost"], plan["projected_savings"]) == (
        "Right-size the plan to Starter",
        "499",
        "400",
    )
    assert plan["savings_percent"] == "80.16" and plan["priority"] == "high"
    spaces = found["consolidate-namespaces"]
    assert spaces["current_cost"] == "87" and spaces["projected_savings"] == "58"  # 3 x $29, 2 x $29
    assert "w2, w3, w4" in spaces["description"]
    assert "clean-up-old-backups" not in found
    # A busy Starter organization gets no cheaper plan: Free's 500 credits do not cover its rate.
    busy = await seeder.organization("starter")
    await seeder.spend(busy, [Spend(D(450), "", "", "cli")])
    ids = [a["id"] for a in (await get(base, "/usage/recommendations", busy.keys[Role.BILLING_CONTACT]))[1]]
    assert "right-size-plan" not in ids


async def test_recommendations_never_suggest_a_plan_the_period_exceeds_and_show_their_figures(
    http_server: tuple[str, str], platform_key: str, pool: asyncpg.Pool
) -> None:
    base = http_server[1]
    seeder = Seeder(http_server[0], platform_key, pool)
    # A Starter organization at 110 % of its queries (11,000 of 10,000): Free lists no queries at
    # all, so it is no place to move to.
    over = await seeder.organization("starter")
    await seeder.record(over, [Event("queries", D(11000), now() + timedelta(seconds=1))])
    advice = (await get(base, "/usage/recommendations", over.keys[Role.TENANT_ADMIN]))[1]
    assert "right-size-plan" not in [a["id"] for a in advice]

    # A Professional organization that spent 8,000 credits today: Starter's 9,900 credits a month
    # hold 7,920 with 20 % headroom, less than was already spent.
    spender = await seeder.organization("professional")
    await seeder.spend(spender, [Spend(D(8000), "", "", "web")])
    advice = (await get(base, "/usage/recommendations", spender.keys[Role.TENANT_ADMIN]))[1]
    assert "right-size-plan" not in [a["id"] for a in advice]

    # A Professional organization with 200 queries and nothing else: Starter fits, and the advice
    # names every figure it compared.
    small = await seeder.organization("professional")
    await seeder.record(small, [Event("queries", D(200), now() + timedelta(seconds=1))])
    key = small.keys[Role.TENANT_ADMIN]
    summary = (await get(base, "/usage", key))[1]
    start, end = (datetime.fromisoformat(summary[k]) for k in ("period_start", "period_end"))
    days = (end - start).days
    plan = {a["id"]: a for a in (await get(base, "/usage/recommendations", key))[1]}["right-size-plan"]
    basis = {b["name"]: b for b in plan["basis"]}
    assert list(basis) == ["credits", "llm_tokens", "queries", "seats", "storage_gb"]
    assert basis["credits"] == {"name": "credits", "used": "0", "projected": "0", "limit": "9900"}
    assert basis["llm_tokens"] == {"name": "llm_tokens", "used": "0", "projected": "0", "limit": "500000"}
    assert basis["seats"] == {"name": "seats", "used": "0", "projected": "0", "limit": "5"}
    assert basis["storage_gb"] == {"name": "storage_gb", "used": "0", "projected": "0", "limit": "10"}
    assert (basis["queries"]["used"], basis["queries"]["limit"]) == ("200", "10000")
    # The period began seconds ago, so its average counts as one day's: 200 a day over the whole
    # period is 200 + 200 x (days left, a hair under `days`): 200 x 31 = 6,200 for a 30-day period.
    assert D(basis["queries"]["projected"]).quantize(D(1)) == 200 * (1 + days)
    assert (plan["current_cost"], plan["projected_savings"]) == ("499", "400")  # $499 - $99


async def _finished_export(base: str, key: str, export_id: str, headers: dict[str, str]) -> Any:
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            async with session.get(f"{base}/api/v1/usage/export/{export_id}",
                                   headers={"Authorization": f"Bearer {key}", **headers}) as r:
                state = await r.json()
            if state["status"] != "processing":
                return state
            await asyncio.sleep(0.1)
    raise AssertionError(f"export {export_id} still processing")


async def _download(url: str, key: str) -> bytes:
    async with aiohttp.ClientSession() as session, session.get(
        url, headers={"Authorization": f"Bearer {key}"}
    ) as r:
        assert r.status == 200
        return await r.read()


def utc_text(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def test_credit_spend_and_resource_lifetimes_export_with_an_absolute_download_url(
    http_server: tuple[str, str], platform_key: str, pool: asyncpg.Pool
) -> None:
    base = http_server[1]
    seeder = Seeder(http_server[0], platform_key, pool)
    org = await seeder.organization("starter")
    await seeder.spend(org, [Spend(D("12.5"), "", "", "web"), Spend(D("7.25"), "", "", "cli")])
    started, ended = now().replace(microsecond=250000) - timedelta(hours=3), now() - timedelta(hours=1)
    async with pool.acquire() as conn:
        await create_resource(conn, NewResource(org.org_id, "db1", "postgres", "pro", D(1), "db one", None),
                              now=started)
        await delete_resource(conn, org.org_id, "db1", now=ended)
    key = org.keys[Role.TENANT_ADMIN]
    period = {"from": days_ago(1).isoformat(), "to": (now() + timedelta(minutes=5)).isoformat()}
    proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "usage.example.com"}

    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base}/api/v1/usage/export", data=json.dumps(
                {"kind": "credit_spend", "format": "csv", "period": period}),
                headers={"Authorization": f"Bearer {key}", **proxy}) as r:
            assert r.status == 202
            spend = await r.json()
        async with session.post(f"{base}/api/v1/usage/export", data=json.dumps(
                {"kind": "resource_lifetimes", "format": "json", "period": period}),
                headers={"Authorization": f"Bearer {key}"}) as r:
            assert r.status == 202
            lifetimes = await r.json()
    assert spend["kind"] == "credit_spend" and lifetimes["kind"] == "resource_lifetimes"

    spend = await _finished_export(base, key, spend["export_id"], proxy)
    assert spend["download_url"] == (
        f"https://usage.example.com/api/v1/usage/export/{spend['export_id']}/download")
    path = spend["download_url"].removeprefix("https://usage.example.com")
    rows = list(csv.DictReader(io.StringIO((await _download(base + path, key)).decode())))
    assert [(r["amount"], r["unit"], r["from_monthly"], r["from_bonus"], r["source"]) for r in rows] == [
        ("12.5", "credits", "12.5", "0", "web"),  # Starter's 9,900 monthly credits pay both
        ("7.25", "credits", "7.25", "0", "cli"),
    ]
    assert spend["row_count"] == 2

    lifetimes = await _finished_export(base, key, lifetimes["export_id"], {})
    host = base.removeprefix("http://")  # no proxy headers: the request's own Host
    assert lifetimes["download_url"] == (
        f"http://{host}/api/v1/usage/export/{lifetimes['export_id']}/download")
    assert json.loads(await _download(lifetimes["download_url"], key)) == [{
        "resource_id": "db1", "name": "db one", "kind": "postgres", "user_id": None, "status": "deleted",
        "created_at": utc_text(started), "deleted_at": utc_text(ended), "segment_no": 1, "tier": "pro",
        "quantity": "1", "hourly_usd": "0.0397", "started_at": utc_text(started), "ended_at": utc_text(ended),
    }]

    status, body = await post(base, "/usage/export", key, {"kind": "credit_spend", "format": "csv",
                                                           "resource_types": ["queries"], "period": period})
    assert (status, body["field"]) == (400, "resource_types")
    status, body = await post(base, "/usage/export", key,
                              {"kind": "invoices", "format": "csv", "period": period})
    assert (status, body["field"]) == (400, "kind")
