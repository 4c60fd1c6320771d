"""The billing worker's jobs besides the outbox pusher: hourly roll-ups and the planning of due
days (on one replica at a time: they take a PostgreSQL advisory lock), and the copy of Stripe's
invoices into the database. `services.app.worker` runs them on their schedules.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

import asyncpg

from services.billing.config import WorkerConfig
from services.billing.domain.invoices import from_stripe
from services.billing.service import scheduling
from services.billing.store import accounts, invoices, rollup
from services.billing.store.stripe_gateway import StripeFailure, StripeGateway

log = logging.getLogger(__name__)
T = TypeVar("T")
SCHEDULE_LOCK = 0x62696C6C_726F6C6C  # "billroll": roll-ups and planning, one replica at a time


async def schedule(pool: asyncpg.Pool, config: WorkerConfig, now: datetime) -> dict[str, int]:
    """Late events, due roll-ups and due days, on one replica at a time."""
    async def work(conn: asyncpg.Connection) -> dict[str, int]:
        late = await rollup.mark_late_events(conn)
        hours = await scheduling.roll_up_due_hours(conn, now, config.rollup_minute)
        rerolled = await scheduling.roll_up_dirty_hours(conn)
        days = await scheduling.plan_due_days(conn, now, config.sync_hour)
        corrections = await scheduling.plan_reconciliations(conn, now)
        return {"late_hours": late, "hours_rolled": len(hours), "hours_rerolled": rerolled,
                "days_planned": len(days), "corrections": corrections}

    return await _exclusive(pool, SCHEDULE_LOCK, work) or {}


async def copy_invoices(pool: asyncpg.Pool, gateway: StripeGateway, now: datetime) -> int:
    async with pool.acquire() as conn:
        customers = await accounts.customers(conn)
    copied = 0
    for org_id, customer in customers:
        try:
            found = await gateway.invoices(customer)
        except StripeFailure as error:
            log.warning("invoices of %s not copied: %s", org_id, error)
            continue
        async with pool.acquire() as conn:
            copied += await invoices.save_invoices(conn, org_id, [from_stripe(i) for i in found], now)
    return copied


async def _exclusive(pool: asyncpg.Pool, key: int,
                     job: Callable[[asyncpg.Connection], Awaitable[T]]) -> T | None:
    async with pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
            return None
        try:
            return await job(conn)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", key)
