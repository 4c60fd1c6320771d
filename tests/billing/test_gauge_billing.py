"""A gauge is billed on its figure, not on the sum of its readings: storage_gb readings roll up
to each hour's peak, the invoice preview bills the period's highest daily peak, and Stripe gets a
`last` meter carrying that peak (a real worker process and the Stripe test server)."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg

from services.billing.store.statement import statement
from tests.billing.helpers import insert_events, new_org
from tests.billing.stripe_harness import DAY, TODAY, run_once, state

HOUR = timedelta(hours=1)


def _summary(base: str, key: str, meter_id: str, customer: str, start: int, end: int) -> Any:
    query = urllib.parse.urlencode({"customer": customer, "start_time": start, "end_time": end})
    request = urllib.request.Request(
        f"{base}/v1/billing/meters/{meter_id}/event_summaries?{query}",
        headers={"Authorization": f"Bearer {key}"},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.load(reply)["data"][0]["aggregated_value"]


async def test_storage_readings_bill_their_peak_in_rollups_preview_and_stripe(
    module_database: str,
    module_pool: asyncpg.Pool,
    stripe_base: str,
    stripe_key: str,
    tmp_path: Path,
) -> None:
    # The last day is two days back: the worker sends a day at 02:00 UTC the day after
    # (BILLING_SYNC_HOUR), so yesterday is not due yet between midnight and then.
    day3, day2, day1 = TODAY - 4 * DAY, TODAY - 3 * DAY, TODAY - 2 * DAY
    async with module_pool.acquire() as conn:
        org = await new_org(conn, anchor=TODAY - 20 * DAY, plan_id="professional")
        await insert_events(
            conn,
            [
                (org, "s1", "storage_gb", Decimal(4), day3 + 1 * HOUR, "u1"),
                (org, "s2", "storage_gb", Decimal(4), day3 + 2 * HOUR, "u2"),
                (org, "s3", "storage_gb", Decimal(4), day3 + 2 * HOUR + timedelta(minutes=30), None),
            ],
        )
    log = tmp_path / "worker.log"
    run_once(module_database, stripe_base, stripe_key, log)
    async with module_pool.acquire() as conn:
        hours = await conn.fetch(
            "SELECT hour_start, user_id, quantity, cost_usd FROM usage_hourly "
            "WHERE org_id = $1 AND meter = 'storage_gb' ORDER BY hour_start",
            org,
        )
        preview = await statement(conn, org)
        pushes = await conn.fetch(
            "SELECT usage_day, revision, value, status FROM stripe_pushes "
            "WHERE org_id = $1 AND meter = 'storage_gb' ORDER BY usage_day, revision",
            org,
        )
    # Hour 01: peak 4; hour 02: peak of 4 and 4 = 4. A gauge's hour is the organization's (no user).
    assert [(h["hour_start"], h["user_id"], h["quantity"], h["cost_usd"]) for h in hours] == [
        (day3 + HOUR, "", 4, 0),
        (day3 + 2 * HOUR, "", 4, 0),
    ]
    (line,) = [m for m in preview.meters if m.meter == "storage_gb"]
    # The period's highest daily peak, 4 GB, at 0.10 USD per GB: 0.4 USD; in milli-GB: 4000.
    assert (line.quantity, line.cost_usd, line.stripe_value) == (4, Decimal("0.40"), 4000)
    assert [(p["usage_day"], p["revision"], p["value"], p["status"]) for p in pushes] == [
        (day3.date(), 1, 4000, "delivered")
    ]

    # A higher peak on the next day, a lower one the day after: the period's figure becomes 6.
    async with module_pool.acquire() as conn:
        await insert_events(
            conn,
            [
                (org, "s4", "storage_gb", Decimal(6), day2 + 5 * HOUR, None),
                (org, "s5", "storage_gb", Decimal(2), day2 + 6 * HOUR, None),
                (org, "s6", "storage_gb", Decimal(3), day1 + 5 * HOUR, None),
            ],
        )
    run_once(module_database, stripe_base, stripe_key, log)
    async with module_pool.acquire() as conn:
        preview = await statement(conn, org)
        pushes = await conn.fetch(
            "SELECT usage_day, value FROM stripe_pushes "
            "WHERE org_id = $1 AND meter = 'storage_gb' ORDER BY usage_day, revision",
            org,
        )
        customer = await conn.fetchval(
            "SELECT stripe_customer_id FROM billing_accounts WHERE org_id = $1", org
        )
        meter_id = await conn.fetchval(
            "SELECT stripe_meter_id FROM billing_meters WHERE meter = 'storage_gb'"
        )
    (line,) = [m for m in preview.meters if m.meter == "storage_gb"]
    # Daily peaks 4, 6, 3: the period's figure is 6 GB = 0.6 USD, 6000 milli-GB.
    assert (line.quantity, line.cost_usd, line.stripe_value, line.delivered) == (
        6,
        Decimal("0.60"),
        6000,
        6000,
    )
    # Each day carries the period's highest daily peak so far: 4, then 6, then still 6.
    assert [(p["usage_day"], p["value"]) for p in pushes] == [
        (day3.date(), 4000),
        (day2.date(), 6000),
        (day1.date(), 6000),
    ]
    (meter,) = [m for m in state(stripe_base)["meters"] if m["id"] == meter_id]
    assert meter["default_aggregation"]["formula"] == "last"
    start, end = int((TODAY - 20 * DAY).timestamp()), int(TODAY.timestamp())
    assert _summary(stripe_base, stripe_key, meter_id, customer, start, end) == 6000  # not 4000+6000+6000

    # A late reading raises the first day's peak to 9 after every day was pushed: that day and
    # each later day carry 9 GB now, so the last value Stripe keeps is 9000.
    async with module_pool.acquire() as conn:
        await insert_events(conn, [(org, "late", "storage_gb", Decimal(9), day3 + 4 * HOUR, None)])
    run_once(module_database, stripe_base, stripe_key, log)
    async with module_pool.acquire() as conn:
        pushes = await conn.fetch(
            "SELECT usage_day, revision, value, status FROM stripe_pushes "
            "WHERE org_id = $1 AND meter = 'storage_gb' ORDER BY usage_day, revision",
            org,
        )
        preview = await statement(conn, org)
    assert [(p["usage_day"], p["revision"], p["value"], p["status"]) for p in pushes] == [
        (day3.date(), 1, 4000, "delivered"),
        (day3.date(), 2, 9000, "delivered"),
        (day2.date(), 1, 6000, "delivered"),
        (day2.date(), 2, 9000, "delivered"),
        (day1.date(), 1, 6000, "delivered"),
        (day1.date(), 2, 9000, "delivered"),
    ]
    (line,) = [m for m in preview.meters if m.meter == "storage_gb"]
    assert (line.quantity, line.cost_usd, line.delivered) == (9, Decimal("0.90"), 9000)  # 9 GB x 0.10
    assert _summary(stripe_base, stripe_key, meter_id, customer, start, end) == 9000
