"""`metering dev`: the whole system on one machine, with nothing but this package's `local` extra.

Starts an embedded PostgreSQL and Redis (from wheels), applies migrations, seeds demo organizations,
starts the other processes of the system (rate-limiter sidecar, billing worker with the
Stripe test server) and serves metering.v1 over gRPC and the HTTP API, which the sidecar limits and
whose payment RPCs use the Stripe test server. A new demo organization gets a month of demo usage;
each start gives the demo organizations their Stripe side. Data stays in the data folder between
runs (--fresh starts over). SIGINT, SIGTERM and SIGHUP stop everything in order: server,
companions, Redis, PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import traceback
from collections.abc import Awaitable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from devstack.account import postgres_account
from devstack.companions import (
    COMPANIONS,
    STRIPE_TEST_KEY,
    STRIPE_TEST_SERVER,
    Stores,
)
from devstack.errors import DevError
from devstack.home import DevHome, HomeLock
from devstack.ports import accepts_tcp, ensure_free
from devstack.postgres import EmbeddedPostgres
from devstack.processes import Child
from devstack.redis import EmbeddedRedis
from services.app.config import ServerConfig
from services.app.dev.banner import Running, print_ready
from services.app.dev.demo_billing import stock_demo_billing
from services.app.dev.demo_month import look_at_the_page, seed_demo_month
from services.app.dev.keys import PEOPLE_ROLES, ensure_demo_keys, person_entry, read_keys
from services.app.dev.seed import DEMO_ORGANIZATIONS, seed_demo_data
from services.billing.config import StripeSettings
from services.kit.config import ConfigError

log = logging.getLogger(__name__)

SERVER_START_TIMEOUT_SECONDS = 30.0
EXIT_INTERRUPTED = 130


class Interrupted(Exception):
    """Stopped by a signal before everything was up."""


@dataclass(frozen=True)
class DevSettings:
    home: DevHome
    fresh: bool
    grpc_addr: str
    env: Mapping[str, str]

    @classmethod
    def from_env(cls, home: Path | None, fresh: bool, env: Mapping[str, str] | None = None) -> DevSettings:
        env = dict(os.environ if env is None else env)
        grpc_addr = env.get("METERING_GRPC_ADDR") or ServerConfig.grpc_addr
        # The HTTP API is limited by the sidecar this run starts, and the dashboard's rate-limit bars
        # read it, wherever it listens.
        sidecar_http = env.get("RATELIMITER_HTTP_ADDR") or "127.0.0.1:8081"
        env.setdefault("METERING_RATELIMITER_URL", f"http://{sidecar_http}")
        env.setdefault("METERING_RATELIMITER_ADDR", sidecar_http)
        return cls(DevHome.choose(home, env), fresh, grpc_addr, env)

    def stripe(self) -> StripeSettings:
        """The Stripe test server the billing worker serves; never the real Stripe."""
        return StripeSettings(STRIPE_TEST_KEY, f"http://{STRIPE_TEST_SERVER.addr(self.env)}")


def run_dev(home: Path | None, fresh: bool) -> int:
    """Runs until stopped; returns the exit code. Failures end in one line on stderr."""
    settings = DevSettings.from_env(home, fresh)
    try:
        # asyncio's loop, whatever METERING_EVENT_LOOP says: the embedded stores run under another
        # account when started by root, a subprocess option uvloop does not offer.
        return asyncio.run(_run(settings, Console(soft_wrap=True, highlight=False)))
    except DevError as error:
        print(f"metering dev: {error}", file=sys.stderr)
        return 1
    except (Interrupted, KeyboardInterrupt):
        print("metering dev: stopped before start-up finished", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:
        where = _save_traceback(settings.home)
        print(f"metering dev: unexpected {type(error).__name__}: {error} (details in {where})",
              file=sys.stderr)
        return 1


async def _run(settings: DevSettings, console: Console) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    settings.home.prepare()
    lock = HomeLock(settings.home)
    lock.acquire()
    try:
        async with AsyncExitStack() as stack:
            code = await _run_locked(settings, console, stop, stack)
        if code == 0:
            console.print(f"metering dev stopped everything; the data stays in {settings.home.root}",
                          markup=False)
        return code
    finally:
        lock.release()


async def _run_locked(settings: DevSettings, console: Console, stop: asyncio.Event,
                      stack: AsyncExitStack) -> int:
    _check_ports_free(settings)
    postgres, redis = await _stores(settings)
    children = [await _started(stack, postgres.start())]
    _check(stop)
    created = await _prepare_database(postgres.dsn(), settings.home)
    children.append(await _started(stack, redis.start()))
    for companion in COMPANIONS:
        _check(stop)
        log_path = settings.home.logs / f"{companion.command[0]}.log"
        children.append(await _started(stack, companion.start(Stores(postgres.dsn(), redis.url), log_path)))
    _check(stop)
    server = await _start_server(settings, postgres.dsn(), stop)
    await _demo_data(settings, postgres.dsn(), created)
    print_ready(console, Running(
        settings.home.root, postgres.dsn(), redis.url, settings.grpc_addr, settings.env,
        started=list(COMPANIONS),
        notices=_notices(postgres),
    ))
    return await _serve_until_stopped(stop, server, children)


def _check_ports_free(settings: DevSettings) -> None:
    """Fails before anything starts if a port is taken."""
    ensure_free(settings.grpc_addr, "METERING_GRPC_ADDR")
    ensure_free(settings.env.get("METERING_HTTP_ADDR") or ServerConfig.http_addr, "METERING_HTTP_ADDR")
    for companion in COMPANIONS:
        companion.check_ports(settings.env)


async def _stores(settings: DevSettings) -> tuple[EmbeddedPostgres, EmbeddedRedis]:
    """The embedded stores, ready to start: leftovers of a killed run stopped, --fresh applied."""
    home = settings.home
    postgres = EmbeddedPostgres(home.postgres, home.logs / "postgres.log", postgres_account())
    redis = EmbeddedRedis(home.redis, home.logs / "redis.log")
    await postgres.stop_leftover()
    await redis.stop_leftover()
    if settings.fresh:
        home.wipe()
    return postgres, redis


async def _started(stack: AsyncExitStack, starting: Awaitable[Child]) -> Child:
    child = await starting
    stack.push_async_callback(child.stop)
    return child


def _check(stop: asyncio.Event) -> None:
    if stop.is_set():
        raise Interrupted


async def _prepare_database(dsn: str, home: DevHome) -> list[str]:
    from services.schema.migrations import MigrationError, migrate

    try:
        applied = await migrate(dsn)
        created = await seed_demo_data(dsn)
        await ensure_demo_keys(dsn, [demo.organization.org_id for demo in DEMO_ORGANIZATIONS], home.api_keys)
    except MigrationError as error:
        raise DevError(f"cannot migrate the embedded database: {error}") from None
    if applied:
        log.info("applied %d migration(s): %s", len(applied), ", ".join(applied))
    if created:
        log.info("seeded demo organization(s): %s", ", ".join(created))
    return created


async def _demo_data(settings: DevSettings, dsn: str, created: list[str]) -> None:
    """A month of usage for the demo organizations created by this run; their Stripe side."""
    keys = read_keys(settings.home.api_keys)
    for demo in DEMO_ORGANIZATIONS:
        org = demo.organization
        if org.org_id in created:
            await seed_demo_month(dsn, settings.grpc_addr, org.org_id, org.billing_model, keys[org.org_id])
            log.info("seeded a month of demo usage for %s", org.org_id)
    first = DEMO_ORGANIZATIONS[0].organization.org_id
    if first in created:
        http_addr = settings.env.get("METERING_HTTP_ADDR") or ServerConfig.http_addr
        await look_at_the_page(http_addr, keys[person_entry(first, PEOPLE_ROLES[0])])
    await stock_demo_billing(dsn, settings.stripe(), [d.organization.org_id for d in DEMO_ORGANIZATIONS])


async def _start_server(settings: DevSettings, dsn: str, stop: asyncio.Event) -> asyncio.Task[None]:
    from services.app.server import serve

    # The payment RPCs read Stripe's settings from the process environment.
    stripe = settings.stripe()
    os.environ["STRIPE_API_KEY"], os.environ["STRIPE_API_BASE"] = stripe.api_key, stripe.api_base or ""
    try:
        config = ServerConfig.from_env({**settings.env, "METERING_DATABASE_URL": dsn})
    except ConfigError as error:
        raise DevError(f"configuration error: {error}") from None
    server = asyncio.create_task(serve(config, stop))
    try:
        await _until_listening(settings.grpc_addr, server, stop)
    except BaseException:
        stop.set()
        await asyncio.gather(server, return_exceptions=True)
        raise
    return server


async def _until_listening(addr: str, server: asyncio.Task[None], stop: asyncio.Event) -> None:
    deadline = asyncio.get_running_loop().time() + SERVER_START_TIMEOUT_SECONDS
    while not await accepts_tcp(addr):
        _check(stop)
        if server.done():
            error = server.exception()
            raise DevError(f"the metering server failed: {error}" if error else
                           "the metering server stopped unexpectedly")
        if asyncio.get_running_loop().time() > deadline:
            raise DevError(f"the metering server did not listen on {addr} within "
                           f"{SERVER_START_TIMEOUT_SECONDS:.0f}s")
        await asyncio.sleep(0.1)


async def _serve_until_stopped(stop: asyncio.Event, server: asyncio.Task[None], children: list[Child]) -> int:
    """Waits for a signal (exit 0), or for the server or a child to end by itself (exit 1)."""
    exits = {asyncio.create_task(child.process.wait()): child for child in children}
    stopped = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stopped, server, *exits], return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    for task in (stopped, *exits):
        task.cancel()
    code = 0
    for task, child in exits.items():
        if task in done:
            print(f"metering dev: {child.describe_exit()}; stopping everything", file=sys.stderr)
            code = 1
    try:
        await server  # serve() returns only once `stop` is set, after draining in-flight calls
    except Exception as error:
        print(f"metering dev: the metering server failed: {error}; stopping everything", file=sys.stderr)
        code = 1
    return code


def _notices(postgres: EmbeddedPostgres) -> list[str]:
    if postgres.account is None:
        return []
    notices = [f"running as root: PostgreSQL runs as the system user {postgres.account.name!r}"]
    if postgres.made_reachable:
        folders = ", ".join(str(folder) for folder in postgres.made_reachable)
        notices.append(f"gave others search (x) permission on {folders} so that user can reach its files")
    return notices


def _save_traceback(home: DevHome) -> Path:
    path = home.logs / "dev-error.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(traceback.format_exc())
    except OSError:
        return Path("(could not write the traceback)")
    return path
