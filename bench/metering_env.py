"""The benchmark's surroundings: its own database, seeded organizations and server subprocesses."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.metering.store.organizations import NewOrganization, add_bonus_grant, create_organization
from services.schema.migrations import migrate

BIG_BONUS = Decimal(1_000_000_000)


@dataclass(frozen=True)
class Orgs:
    hot: str  # every service Deduct and GetQuota; a large bonus grant so it never runs dry
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
    orgs = Orgs(hot="bench-hot", raw_hot="bench-raw-hot", usage="bench-usage", small="bench-small")
    conn = await asyncpg.connect(dsn)
    try:
        for org_id in (orgs.hot, orgs.raw_hot, orgs.usage, orgs.small):
            await create_organization(conn, NewOrganization(org_id, org_id))
        for org_id in (orgs.hot, orgs.raw_hot):
            await add_bonus_grant(conn, org_id, BIG_BONUS, "benchmark")
        orgs.tokens.update(await _service_keys(conn, [orgs.hot, orgs.usage, orgs.small]))
    finally:
        await conn.close()
    return orgs


async def _service_keys(conn: asyncpg.Connection, org_ids: list[str]) -> dict[str, str]:
    """A service API key per organization, as the callers of the hot path hold; {} before API keys exist."""
    try:
        from services.metering.domain.access import Role
        from services.metering.store.api_keys import create_api_key
    except ImportError:
        return {}
    if await conn.fetchval("SELECT to_regclass('api_keys')") is None:
        return {}
    return {org_id: (await create_api_key(conn, org_id, Role.SERVICE, "benchmark"))[1] for org_id in org_ids}


async def available(dsn: str, org_id: str) -> Decimal:
    conn = await asyncpg.connect(dsn)
    try:
        value: Decimal = await conn.fetchval(
            "SELECT monthly_remaining + bonus_remaining FROM balances WHERE org_id = $1", org_id)
        return value
    finally:
        await conn.close()


async def ledger_totals(dsn: str, org_id: str) -> tuple[Decimal, int]:
    """Credits taken by `deduct` ledger entries, and the number of granted deductions stored."""
    conn = await asyncpg.connect(dsn)
    try:
        taken: Decimal = await conn.fetchval(
            "SELECT coalesce(-sum(amount), 0) FROM ledger_entries WHERE org_id = $1 AND kind = 'deduct'",
            org_id)
        granted: int = await conn.fetchval(
            "SELECT count(*) FROM deductions WHERE org_id = $1 AND granted", org_id)
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


async def truncate_usage(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("TRUNCATE usage_events")
    finally:
        await conn.close()


def free_addr() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


class ServerProcess:
    """A server subprocess with its output in a log file; ready once its gRPC port answers."""

    def __init__(self, name: str, argv: list[str], addr: str, log_dir: Path,
                 env: dict[str, str] | None = None) -> None:
        self.name = name
        self.addr = addr
        self.log_path = log_dir / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                         env={**os.environ, **(env or {})})

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def wait_ready(self, health: bool, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        async with grpc.aio.insecure_channel(self.addr) as channel:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
                if await _answers(channel, health):
                    return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} did not become ready in {within:.0f}s:\n{self.log_tail()}")

    def peak_rss_mb(self) -> float:
        """VmHWM: the resident set's high-water mark since the process started."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


async def _answers(channel: grpc.aio.Channel, health: bool) -> bool:
    try:
        if health:
            stub = health_pb2_grpc.HealthStub(channel)
            response = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
            return bool(response.status == health_pb2.HealthCheckResponse.SERVING)
        await asyncio.wait_for(channel.channel_ready(), 1)
        return True
    except (grpc.RpcError, TimeoutError):
        return False


def metering_server(database_url: str, log_dir: Path, argv: list[str] | None = None) -> ServerProcess:
    addr = free_addr()
    argv = argv or [str(Path(sys.executable).with_name("metering")), "serve"]
    env = {"METERING_DATABASE_URL": database_url, "METERING_GRPC_ADDR": addr}
    return ServerProcess("metering", argv, addr, log_dir, env)


def echo_server(log_dir: Path) -> ServerProcess:
    addr = free_addr()
    return ServerProcess("echo", [sys.executable, "-m", "bench.grpc_echo", addr], addr, log_dir)
