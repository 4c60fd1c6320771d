"""The worker's scheduled units of work: each hour rolled up and each day planned for Stripe is
one transaction of its own, so a failure leaves the earlier ones done and the rest for the next
run. Runs on the connection holding the schedule's advisory lock (one replica at a time)."""

from __future__ import annotations

from datetime import date, datetime

import asyncpg

from services.billing.domain.proration import HOUR
from services.billing.domain.schedule import DAY, day_start, days_due, hours_due, utc_day
from services.billing.store import outbox, rollup


async def roll_up_due_hours(conn: asyncpg.Connection, now: datetime, minute: int) -> list[datetime]:
    """Every hour whose roll-up time has passed and that is not rolled yet, oldest first."""
    start = await rollup.first_hour_to_roll(conn)
    if start is None:
        return []
    due = hours_due(start, now, minute, rollup.MAX_HOURS_PER_RUN)
    for hour in due:
        async with conn.transaction():
            await rollup.roll_up_hour(conn, hour)
    return due


async def roll_up_dirty_hours(conn: asyncpg.Connection, limit: int = 10_000) -> int:
    """Rolls up again the (organization, hour) pairs late events changed."""
    dirty = await rollup.dirty_hours(conn, limit)
    for org_id, hour in dirty:
        async with conn.transaction():
            await rollup.roll_up_hour(conn, hour, org_id)
    return len(dirty)


async def plan_due_days(conn: asyncpg.Connection, now: datetime, sync_hour: int) -> list[date]:
    """Plans every day whose sync time has come and whose 24 hours are rolled up, oldest first."""
    first, last = await outbox.rolled_span(conn)
    if first is None or last is None:
        return []
    planned = await outbox.planned_until(conn)
    next_day = utc_day(planned) + DAY if planned is not None else utc_day(first)
    rolled_until = last + HOUR
    done: list[date] = []
    for day in days_due(next_day, now, sync_hour):
        if day_start(day) + DAY > rolled_until:
            break
        async with conn.transaction():
            await outbox.plan_next_day(conn, day, now)
        done.append(day)
    return done


async def plan_reconciliations(conn: asyncpg.Connection, now: datetime, limit: int = 1000) -> int:
    """Re-plans (organization, day) pairs that late events changed after the day was planned."""
    planned = await outbox.planned_until(conn)
    if planned is None:
        return 0
    added = 0
    for org_id, usage_day in await outbox.reconciliations_due(conn, utc_day(planned), limit):
        async with conn.transaction():
            added += await outbox.replan(conn, org_id, usage_day, utc_day(planned), now)
    return added
