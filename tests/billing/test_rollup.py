"""Hourly roll-ups: idempotent, catching up every missed hour in order, late events corrected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg

from services.billing.service.resources import create_resource, delete_resource
from services.billing.service.scheduling import roll_up_dirty_hours, roll_up_due_hours
from services.billing.store.resources import NewResource
from services.billing.store.rollup import mark_late_events, roll_up_hour
from tests.billing.helpers import insert_events, new_org

H0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=3)
HOUR = timedelta(hours=1)

SNAPSHOT = """
SELECT meter, hour_start, user_id, quantity, cost_usd, events FROM usage_hourly
WHERE org_id = $1 ORDER BY meter, hour_start, user_id"""


async def _snapshot(conn: asyncpg.Connection, org: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in await conn.fetch(SNAPSHOT, org)]


async def test_catch_up_rolls_every_missed_hour_in_order_and_a_rerun_changes_nothing(
    module_pool: asyncpg.Pool,
) -> None:
    async with module_pool.acquire() as conn:
        org = await new_org(conn)
        await insert_events(conn, [
            (org, f"q-{h}-{i}", "queries", Decimal(i + 1), H0 + h * HOUR + timedelta(minutes=7 * i), "u1")
            for h in range(6) for i in range(3)
        ])
        await create_resource(conn, NewResource(org, "db", "postgres", "pro", Decimal(1), "db", "u2"),
                              now=H0 + timedelta(minutes=30))
        await delete_resource(conn, org, "db", now=H0 + HOUR + timedelta(minutes=15))
        # Down until 03:04: hours 0 and 1 are due (hour 2 rolls at 03:05).
        first = await roll_up_due_hours(conn, H0 + 3 * HOUR + timedelta(minutes=4), minute=5)
        assert first == [H0, H0 + HOUR]
        # Back after a longer outage: every missed hour, oldest first, none twice.
        done = await roll_up_due_hours(conn, H0 + 6 * HOUR + timedelta(minutes=5), minute=5)
        assert done == [H0 + h * HOUR for h in range(2, 6)]
        assert await roll_up_due_hours(conn, H0 + 6 * HOUR + timedelta(minutes=5), minute=5) == []
        before = await _snapshot(conn, org)
        for hour in (H0, H0 + HOUR, H0 + 5 * HOUR):
            await roll_up_hour(conn, hour)
        assert await _snapshot(conn, org) == before
        rows = {(r[0], r[1]): r for r in before}
    assert sum(r[3] for r in before if r[0] == "queries") == 6 * (1 + 2 + 3)
    assert all(rows[("queries", H0 + h * HOUR)][5] == 3 for h in range(6))
    db_13, db_14 = rows[("postgres_pro_seconds", H0)], rows[("postgres_pro_seconds", H0 + HOUR)]
    assert (db_13[3], db_14[3]) == (1800, 900)  # :30 -> next :15 split at the hour
    assert db_13[4] + db_14[4] == Decimal("0.75") * Decimal("0.0397")
    assert (db_13[2], rows[("queries", H0)][2]) == ("u2", "u1")


async def test_a_late_event_lands_in_its_hour_once_and_queues_its_day_for_stripe(
    module_pool: asyncpg.Pool,
) -> None:
    async with module_pool.acquire() as conn:
        org = await new_org(conn)
        hour = H0 + 2 * HOUR
        minute = timedelta(minutes=1)
        await insert_events(conn, [(org, "a", "api_requests", Decimal(10), hour + minute, None)])
        await roll_up_hour(conn, hour)
        await mark_late_events(conn)  # the watermark moves past what is already counted
        await roll_up_dirty_hours(conn)
        await conn.execute("DELETE FROM push_reconcile WHERE org_id = $1", org)
        await insert_events(conn, [(org, "late", "api_requests", Decimal(5), hour + 59 * minute, None)])
        assert await mark_late_events(conn) >= 1
        assert await mark_late_events(conn) == 0  # marked once
        await roll_up_dirty_hours(conn)
        await roll_up_dirty_hours(conn)  # nothing left to redo
        total = await conn.fetchval(
            "SELECT sum(quantity) FROM usage_hourly WHERE org_id = $1 AND meter = 'api_requests'", org)
        queued = await conn.fetch("SELECT usage_day FROM push_reconcile WHERE org_id = $1", org)
        dirty = await conn.fetchval("SELECT count(*) FROM rollup_dirty WHERE org_id = $1", org)
    assert total == 15 and dirty == 0
    assert [r["usage_day"] for r in queued] == [hour.date()]


async def test_tokens_paid_by_a_deduction_are_not_billed_again_as_metered_usage(
    module_pool: asyncpg.Pool,
) -> None:
    hour = H0 + 10 * HOUR
    async with module_pool.acquire() as conn:
        org = await new_org(conn)
        # Recorded by a service through RecordUsage: billed as metered usage.
        await conn.execute(
            "INSERT INTO usage_events (org_id, idempotency_key, meter, quantity, occurred_at, model, "
            "token_kind) VALUES ($1, 'recorded', 'llm_tokens', 200000, $2, 'claude-sonnet-4', 'output')",
            org, hour)
        # Written by a granted Deduct, which already spent credits for these tokens.
        await conn.execute(
            "INSERT INTO usage_events (org_id, idempotency_key, meter, quantity, occurred_at, model, "
            "token_kind, deduction_key) VALUES ($1, 'chunk-1 output', 'llm_tokens', 900000, $2, "
            "'claude-sonnet-4', 'output', 'chunk-1')", org, hour + timedelta(minutes=5))
        await roll_up_hour(conn, hour)
        rows = await _snapshot(conn, org)
    # Only the recorded 200,000 output tokens: 0.2 Mtok x 15 USD/Mtok = 3 USD, one event.
    assert [(r[0], r[3], r[4], r[5]) for r in rows] == [("llm_tokens", Decimal(200000), Decimal(3), 1)]
