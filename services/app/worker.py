"""`metering worker`: hourly roll-ups (at :05), the daily Stripe sync (02:00 UTC), the outbox
pusher and the invoice copy, with its configuration, secret redaction in logs, the optional
health service and the optional Stripe test server. Any number of replicas may run: roll-ups and
planning take a PostgreSQL advisory lock (one replica at a time), pushes lock their
(customer, meter) lane.

`--once [--now T]` runs every job once as if it were T and exits: catching up by hand, and tests
that drive hours and days without sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg

from services.billing.config import WorkerConfig
from services.billing.service.stripe_sync import Clock, Pusher
from services.billing.service.worker import copy_invoices, schedule
from services.billing.store.stripe_gateway import StripeGateway
from services.billing.transport.health import HealthService, JobWatch
from services.kit.config import ConfigError, redact_dsn
from services.kit.periodic import run_periodically

log = logging.getLogger(__name__)


class RedactSecret(logging.Filter):
    """Replaces a secret in every log record, whoever logs it (a second line of defence: the
    worker itself never logs the Stripe key)."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.secret in message:
            record.msg, record.args = message.replace(self.secret, "sk_***"), None
        return True


def redact_in_logs(secret: str) -> None:
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactSecret(secret))


async def worker_main(once: bool, now: str | None, stripe_test_server: str | None) -> None:
    moment = parse_now(now)
    if moment is not None and not once:
        raise ConfigError("--now only makes sense with --once")
    env = dict(os.environ)
    server = None
    if stripe_test_server is not None:
        from services.app.dev.stripe import serve_stripe_test_server

        server = await serve_stripe_test_server(stripe_test_server, env)
    config = WorkerConfig.from_env(env)
    redact_in_logs(config.stripe.api_key)
    try:
        await run_worker(config, once=once, now=moment)
    finally:
        if server is not None:
            await server.stop()


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
