"""`metering worker`: hourly roll-ups (at :05), the daily Stripe sync (02:00 UTC), the outbox
pusher and the invoice copy. Any number of replicas may run: roll-ups and planning take a
PostgreSQL advisory lock (one replica at a time), pushes lock their (customer, meter) lane.

`--once [--now T]` runs every job once as if it were T and exits: catching up by hand, and tests
that drive hours and days without sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import asyncpg

from services.billing.config import WorkerConfig
from services.billing.domain.invoices import from_stripe
from services.billing.service.stripe_sync import Clock, Pusher
from services.billing.store import accounts, invoices, outbox, rollup
from services.billing.store.stripe_gateway import StripeFailure, StripeGateway
from services.billing.transport.health import HealthService, JobWatch
from services.kit.config import ConfigError, redact_dsn
from services.kit.periodic import run_periodically

log = logging.getLogger(__name__)
T = TypeVar("T")
SCHEDULE_LOCK = 0x62696C6C_726F6C6C  # "billroll": roll-ups and planning, one replica at a time


async def run_worker(config: WorkerConfig, *, once: bool = False, now: datetime | None = None,
                     stop: asyncio.Event | None = None) -> Counter[str]:
    clock: Clock = (lambda: now) if now is not None else (lambda: datetime.now(UTC))
    pool = await asyncpg.create_pool(config.database_url, min_size=1, max_size=config.push_concurrency + 3)
    gateway = StripeGateway(config.stripe)
    log.info("billing worker started (database %s, Stripe %s)", redact_dsn(config.database_url),
             config.stripe.api_base or "api.stripe.com")
    try:
        pusher = Pusher(pool, gateway, config, clock, random.Random())
        if once:
            return await _once(pool, gateway, pusher, config, clock)
        await _forever(pool, gateway, pusher, config, clock, stop or _signalled())
        return Counter()
    finally:
        await gateway.close()
        await pool.close()


async def _once(pool: asyncpg.Pool, gateway: StripeGateway, pusher: Pusher, config: WorkerConfig,
                clock: Clock) -> Counter[str]:
    report = Counter(await schedule(pool, config, clock()))
    report.update(await pusher.push_due())
    report["invoices"] += await copy_invoices(pool, gateway, clock())
    log.info("billing worker run: %s", dict(report))
    return report


async def _forever(pool: asyncpg.Pool, gateway: StripeGateway, pusher: Pusher, config: WorkerConfig,
                   clock: Clock, stop: asyncio.Event) -> None:
    watch = JobWatch(config.stuck_seconds)
    jobs = [
        _every(config.tick_seconds, lambda: schedule(pool, config, clock()), "roll-up and planning",
               stop, watch),
        _every(config.push_poll_seconds, pusher.push_due, "Stripe pushes", stop, watch),
        _every(config.invoice_sync_seconds, lambda: copy_invoices(pool, gateway, clock()), "invoices",
               stop, watch),
    ]
    if config.health_addr is not None:
        health = HealthService(watch)
        await health.start(config.health_addr)
        jobs.append(health.report_until(stop))
        log.info("health service on %s", config.health_addr)
    tasks = [asyncio.create_task(job) for job in jobs]
    await stop.wait()
    log.info("billing worker stopping")
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def schedule(pool: asyncpg.Pool, config: WorkerConfig, now: datetime) -> dict[str, int]:
    """Late events, due roll-ups and due days, on one replica at a time."""
    async def work(conn: asyncpg.Connection) -> dict[str, int]:
        late = await rollup.mark_late_events(conn)
        hours = await rollup.roll_up_due_hours(conn, now, config.rollup_minute)
        rerolled = await rollup.roll_up_dirty_hours(conn)
        days = await outbox.plan_due_days(conn, now, config.sync_hour)
        corrections = await outbox.plan_reconciliations(conn, now)
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


async def _every(seconds: float, job: Callable[[], Awaitable[object]], what: str,
                 stop: asyncio.Event, watch: JobWatch) -> None:
    async def watched() -> object:
        with watch.running(what):
            return await job()

    await run_periodically(what, watched, seconds, stop)


def _signalled() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    return stop


def parse_now(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"--now must be an ISO 8601 time such as 2024-11-29T02:00:00Z, got {raw!r}") \
            from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
