"""The benchmark's surroundings: its own database, seeded organizations and server subprocesses."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from devstack.ports import free_addr
from devstack.supervised import Probe, Supervised, grpc_serving, status_kb, tcp_accepts
from services.app.config import read_batch_helper_threads, read_batch_wait
from services.kit.event_loop import loop_named
from services.metering.domain.credits import DeductOp
from services.metering.service.credit_ledger import CreditLedger
from services.metering.store.organizations import NewOrganization, add_bonus_grant, create_organization
from services.schema.migrations import migrate

BIG_BONUS = Decimal(1_000_000_000)
# Deductions written before the first phase (through the credit ledger, by an organization of
# their own): the ledger's tables of a database in use are never empty, and statements planned
# on empty tables scan them whole as a phase grows them.
HISTORY = 20_000
HISTORY_ORG = "bench-history"


@dataclass(frozen=True)
class Orgs:
    hot: str  # every service Deduct and GetQuota; a large bonus grant so it never runs dry
    hot_apart: str  # the scale-out bound's second server deducts from this one, as large, instead
    raw_hot: str  # the raw one-UPDATE-per-deduction baseline (it bypasses the ledger, so apart)
    usage: str  # RecordUsage, service and raw
    small: str  # the free plan's 500 credits only: exactness and no overdraft
    tokens: dict[str, str] = field(default_factory=dict)  # org -> service API key, when keys exist


def database_dsn(admin_dsn: str, name: str) -> str:
    parts = urlsplit(admin_dsn)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def create_database(admin_dsn: str) -> str:
    name = f"metering_bench_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def drop_database(admin_dsn: str, name: str) -> None:
    if not name.startswith("metering_bench_"):
        raise ValueError(f"refusing to drop {name!r}: not a benchmark database")
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def seed(dsn: str) -> Orgs:
    """Applies the migrations (as `metering migrate` does) and creates the benchmark organizations."""
    await migrate(dsn)
    orgs = Orgs(hot="bench-hot", hot_apart="bench-hot-apart", raw_hot="bench-raw-hot", usage="bench-usage",
                small="bench-small")
    conn = await asyncpg.connect(dsn)
    try:
        for org_id in (orgs.hot, orgs.hot_apart, orgs.raw_hot, orgs.usage, orgs.small):
            await create_organization(conn, NewOrganization(org_id, org_id))
        for org_id in (orgs.hot, orgs.hot_apart, orgs.raw_hot):
            await add_bonus_grant(conn, org_id, BIG_BONUS, "benchmark")
        orgs.tokens.update(await _service_keys(conn, [orgs.hot, orgs.hot_apart, orgs.usage, orgs.small]))
        await create_organization(conn, NewOrganization(HISTORY_ORG, HISTORY_ORG))
        await add_bonus_grant(conn, HISTORY_ORG, BIG_BONUS, "benchmark")
    finally:
        await conn.close()
    await _write_history(dsn)
    return orgs


async def _write_history(dsn: str, batch: int = 500) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        ledger = CreditLedger(pool)
        for start in range(0, HISTORY, batch):
            await asyncio.gather(*(ledger.deduct(HISTORY_ORG, DeductOp(f"history-{n}", Decimal(1)))
                                   for n in range(start, start + batch)))
    finally:
        await pool.close()


async def _service_keys(conn: asyncpg.Connection, org_ids: list[str]) -> dict[str, str]:
    """A service API key per organization, as the callers of the hot path hold; {} before API keys exist."""
    try:
        from services.kit.caller import Role
        from services.metering.store.api_keys import create_api_key
    except ImportError:
        return {}
    if await conn.fetchval("SELECT to_regclass('api_keys')") is None:
        return {}
    return {org_id: (await create_api_key(conn, org_id, Role.SERVICE, "benchmark"))[1] for org_id in org_ids}


async def available(dsn: str, *org_ids: str) -> Decimal:
    """The credits the organizations hold together."""
    conn = await asyncpg.connect(dsn)
    try:
        value: Decimal = await conn.fetchval(
            "SELECT sum(monthly_remaining + bonus_remaining) FROM balances WHERE org_id = ANY($1::text[])",
            list(org_ids))
        return value
    finally:
        await conn.close()


async def ledger_totals(dsn: str, *org_ids: str) -> tuple[Decimal, int]:
    """Credits taken by `deduct` ledger entries, and the number of granted deductions stored, of
    the organizations together."""
    conn = await asyncpg.connect(dsn)
    try:
        taken: Decimal = await conn.fetchval(
            "SELECT coalesce(-sum(amount), 0) FROM ledger_entries "
            "WHERE org_id = ANY($1::text[]) AND kind = 'deduct'", list(org_ids))
        granted: int = await conn.fetchval(
            "SELECT count(*) FROM deductions WHERE org_id = ANY($1::text[]) AND granted", list(org_ids))
        return taken, granted
    finally:
        await conn.close()


async def per_commit(dsn: str, table: str, org_id: str, tag: str) -> float:
    """Rows per transaction of one phase: rows written by one transaction share its timestamp."""
    stamp = {"deductions": "created_at", "usage_events": "recorded_at"}[table]
    conn = await asyncpg.connect(dsn)
    try:
        rows, commits = await conn.fetchrow(
            f"SELECT count(*), count(DISTINCT {stamp}) FROM {table} "
            "WHERE org_id = $1 AND starts_with(idempotency_key, $2)", org_id, tag)
        return float(rows / commits) if commits else float("nan")
    finally:
        await conn.close()


async def analyze(dsn: str) -> None:
    """Refreshes the planner's statistics, as autovacuum keeps them in a steady state: a phase of
    a few seconds outruns its one-minute nap, and statements planned while the ledger's tables
    were nearly empty scan them whole once an earlier phase has grown them by tens of thousands
    of rows."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def truncate_usage(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("TRUNCATE usage_events")
    finally:
        await conn.close()


class ServerProcess(Supervised):
    """A server subprocess at `addr` (devstack's launcher), its output in <log_dir>/<name>.log."""

    def __init__(self, name: str, argv: list[str], addr: str, log_dir: Path, ready: Probe,
                 env: dict[str, str] | None = None) -> None:
        super().__init__(name, argv, ready, log_dir / f"{name}.log", env={**os.environ, **(env or {})})
        self.addr = addr

    def peak_rss_mb(self) -> float:
        """VmHWM: the resident set's high-water mark since the process started."""
        return status_kb(self.pid, "VmHWM") / 1024


def metering_server(database_url: str, log_dir: Path, argv: list[str] | None = None,
                    peer_token: str | None = None, heartbeat_seconds: float = 2.0) -> ServerProcess:
    """A server; with `peer_token`, one of the replicas routing credit calls to their owner."""
    addr = free_addr()
    argv = argv or [str(Path(sys.executable).with_name("metering")), "serve"]
    env = {"METERING_DATABASE_URL": database_url, "METERING_GRPC_ADDR": addr,
           "METERING_HTTP_ADDR": free_addr()}
    if peer_token is not None:
        env.update(METERING_PEER_ADDR=addr, METERING_PEER_TOKEN=peer_token,
                   METERING_PEER_HEARTBEAT_SECONDS=str(heartbeat_seconds))
    return ServerProcess("metering", argv, addr, log_dir, grpc_serving(addr), env)


def server_loop() -> str:
    """The event loop `metering serve` takes from this environment."""
    return loop_named(os.environ, "METERING_EVENT_LOOP")


def server_batch_wait() -> float:
    """How long `metering serve` lets a batch of credit calls wait under load, from this environment."""
    return read_batch_wait(os.environ)


def server_batch_helpers() -> bool:
    """Whether `metering serve` runs grpc's helper threads under SCHED_BATCH, from this environment."""
    return read_batch_helper_threads(os.environ)


def floor_server(database_url: str, log_dir: Path, orgs: Orgs) -> ServerProcess:
    """The floors of one caller's calls (bench.grpc_floor): an echo call plus GetQuota's read of
    the hot organization, or plus the naive ceiling's UPDATE of its own; on the metering server's
    event loop and with its helper threads' scheduling policy."""
    addr = free_addr()
    argv = [sys.executable, "-m", "bench.grpc_floor", addr, database_url, orgs.hot, orgs.raw_hot,
            server_loop()]
    if server_batch_helpers():
        argv.append("batch-helpers")
    return ServerProcess("floor", argv, addr, log_dir, tcp_accepts(addr))


def echo_server(log_dir: Path) -> ServerProcess:
    """The grpc echo server, on the metering server's event loop and with its helper threads'
    scheduling policy."""
    addr = free_addr()
    argv = [sys.executable, "-m", "bench.grpc_echo", addr, server_loop()]
    if server_batch_helpers():
        argv.append("batch-helpers")
    return ServerProcess("echo", argv, addr, log_dir, tcp_accepts(addr))
