"""Every usage surface of the HTTP API shows a gauge's figure, not the sum of its readings: three
readings of storage_gb = 4 on one day are 4 GB on /usage, /usage/storage_gb, history, projections
and costs (real server and PostgreSQL; figures worked out by hand)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import aiohttp
import asyncpg
import pytest

from services.kit.caller import Role
from services.metering.store.api_keys import create_api_key
from tests.reporting.seed import Event, Seeded, Seeder

pytestmark = pytest.mark.timeout(120)
D = Decimal


async def get(base: str, path: str, key: str, **query: Any) -> Any:
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{base}/api/v1{path}",
            params={k: str(v) for k, v in query.items()},
            headers={"Authorization": f"Bearer {key}"},
        ) as response,
    ):
        body = await response.json()
        assert response.status == 200, body
        return body


def _day(days_back: int, hour: int) -> datetime:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days_back) + timedelta(hours=hour)


async def _organization(make_org, pool: asyncpg.Pool, plan_id: str) -> Seeded:  # type: ignore[no-untyped-def]
    """An organization whose billing period began 10 days ago, with a tenant admin key."""
    org_id = await make_org(plan_id=plan_id, billing_anchor=datetime.now(UTC) - timedelta(days=10))
    async with pool.acquire() as conn:
        keys = {
            role: (await create_api_key(conn, org_id, role, role.value))[1]
            for role in (Role.TENANT_ADMIN, Role.SERVICE)
        }
    return Seeded(org_id, keys)


@pytest.fixture
async def storage_org(
    http_server: tuple[str, str], platform_key: str, pool: asyncpg.Pool, make_org
) -> Seeded:  # type: ignore[no-untyped-def]
    org = await _organization(make_org, pool, "starter")
    await Seeder(http_server[0], platform_key, pool).record(
        org, [Event("storage_gb", D(4), _day(3, hour)) for hour in (1, 2, 3)]
    )
    return org


async def test_three_storage_readings_of_one_day_are_4_gb_on_every_surface(
    http_base: str, storage_org: Seeded
) -> None:
    key = storage_org.keys[Role.TENANT_ADMIN]
    day = _day(3, 0).date().isoformat()

    summary = await get(http_base, "/usage", key)
    # Peak of the day max(4, 4, 4) = 4 of the Starter plan's 10 GB = 40 %.
    assert summary["storage_gb"] == {"used": "4", "limit": "10", "percentage": "40", "state": "ok"}

    detail = await get(http_base, "/usage/storage_gb", key)
    # storage_gb costs 0.10 USD per GB held over the span: 4 x 0.10 = 0.4.
    assert (detail["total_used"], detail["total_cost"], detail["estimated_monthly_cost"]) == (
        "4",
        "0.4",
        "0.4",
    )
    assert [(c["id"], c["used"], c["cost"], c["daily_usage"]) for c in detail["resources"]] == [
        ("", "4", "0.4", [{"date": day, "used": "4", "cost": "0.4"}])
    ]

    history = await get(http_base, "/usage/history", key, granularity="daily", resource_type="storage_gb")
    assert [
        (p["date"], p["storage_gb"]["used"], p["storage_gb"]["cost"])
        for p in history
        if "storage_gb" in p and p["storage_gb"]["used"] != "0"
    ] == [(day, "4", "0.4")]

    projections = await get(http_base, "/usage/projections", key, resource_type="storage_gb")
    (storage,) = projections["projections"]
    # A peak projects flat: 4 now, 4 at period end, no daily growth, within the 10 GB limit.
    assert (storage["current_usage"], storage["daily_growth"], storage["projected_month_end"]) == (
        "4",
        "0",
        "4",
    )
    assert storage["will_exceed_quota"] is False and storage["run_out_in_days"] is None

    costs = await get(http_base, "/usage/costs", key, resource_type="storage_gb")
    lines = {line["resource"]: line for line in costs["breakdown"]}
    assert (lines["storage_gb"]["usage"], lines["storage_gb"]["total_cost"]) == ("4", "0.4")
    # The month's storage cost is its peak's 0.4 USD; it does not grow with the days left.
    assert (costs["total_cost"], costs["estimated_monthly_total"]) == ("0.4", "0.4")


async def test_storage_peaks_of_several_days_give_the_highest_daily_peak(
    http_server: tuple[str, str],
    http_base: str,
    platform_key: str,
    pool: asyncpg.Pool,
    make_org,  # type: ignore[no-untyped-def]
) -> None:
    org = await _organization(make_org, pool, "starter")
    await Seeder(http_server[0], platform_key, pool).record(
        org,
        [
            Event("storage_gb", D(2), _day(4, 1)),
            Event("storage_gb", D(6), _day(4, 9)),
            Event("storage_gb", D(5), _day(2, 1)),
            Event("storage_gb", D(3), _day(2, 5)),
        ],
    )
    key = org.keys[Role.TENANT_ADMIN]
    summary = await get(http_base, "/usage", key)
    assert summary["storage_gb"]["used"] == "6"  # daily peaks 6 and 5: the highest is 6
    history = await get(http_base, "/usage/history", key, granularity="daily", resource_type="storage_gb")
    peaks = {
        p["date"]: p["storage_gb"]["used"] for p in history if p.get("storage_gb", {}).get("used", "0") != "0"
    }
    assert peaks == {_day(4, 0).date().isoformat(): "6", _day(2, 0).date().isoformat(): "5"}
    costs = await get(http_base, "/usage/costs", key, resource_type="storage_gb")
    line = next(x for x in costs["breakdown"] if x["resource"] == "storage_gb")
    assert (line["usage"], line["total_cost"]) == ("6", "0.6")  # 6 GB x 0.10


async def test_usage_of_a_free_organization_shows_its_credits(
    http_server: tuple[str, str],
    http_base: str,
    platform_key: str,
    pool: asyncpg.Pool,
    make_org,  # type: ignore[no-untyped-def]
) -> None:
    org = await _organization(make_org, pool, "free")
    summary = await get(http_base, "/usage", org.keys[Role.TENANT_ADMIN])
    # The Free plan's 500 monthly credits, none spent; no meter of the Free plan has a limit.
    assert summary["credits"] == {"used": "0", "limit": "500", "percentage": "0", "state": "ok"}
    assert summary["queries"]["limit"] is None
