"""Fixtures for the metering tests: a database of their own, and real server processes."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import IO

import asyncpg
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.gen.metering.v1 import admin_pb2_grpc
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc
from services.kit.caller import Role
from services.metering.store.api_keys import create_api_key
from services.metering.store.organizations import NewOrganization, add_bonus_grant, create_organization
from services.schema.migrations import migrate
from tests.metering.clients import aio_channel

ADMIN_DSN = os.environ.get("METERING_TEST_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
SERVER_PROCESSES = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _database_url(name: str) -> str:
    base = ADMIN_DSN.rsplit("/", 1)[0]
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A database created for this test session, migrated, dropped at the end."""
    yield from _session_database()


def _session_database() -> Iterator[str]:
    name = f"metering_test_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        conn = await asyncpg.connect(ADMIN_DSN)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        await migrate(_database_url(name))

    async def drop() -> None:
        conn = await asyncpg.connect(ADMIN_DSN)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    asyncio.run(create())
    yield _database_url(name)
    asyncio.run(drop())


@pytest.fixture(scope="session")
def platform_key(database_url: str) -> str:
    """A platform admin API key: it may act for every organization."""

    async def create() -> str:
        conn = await asyncpg.connect(database_url)
        try:
            return (await create_api_key(conn, None, Role.PLATFORM_ADMIN, "tests"))[1]
        finally:
            await conn.close()

    return asyncio.run(create())


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await asyncpg.create_pool(database_url, min_size=1, max_size=8)
    yield p
    await p.close()


@pytest.fixture
async def make_org(pool: asyncpg.Pool):  # type: ignore[no-untyped-def]
    """Creates an organization of its own for a test: make_org(bonus=..., plan_id=..., ...)."""

    async def make(bonus: Decimal | int = 0, **fields: object) -> str:
        org_id = f"org-{uuid.uuid4().hex[:12]}"
        async with pool.acquire() as conn:
            await create_organization(conn, NewOrganization(org_id, f"Test {org_id}", **fields))  # type: ignore[arg-type]
            if bonus:
                await add_bonus_grant(conn, org_id, Decimal(bonus), "test")
        return org_id

    return make


def _wait_serving(addr: str, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(addr) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"metering serve exited with {proc.returncode}")
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                time.sleep(0.1)
    raise TimeoutError(f"metering serve on {addr} did not become healthy")


def start_server(
    database_url: str, output: IO[str] | None = None, **env: str
) -> tuple[str, subprocess.Popen[bytes]]:
    """A `metering serve` process on a free port, healthy when returned; `output` takes its logs."""
    addr = f"127.0.0.1:{free_port()}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.app.cli", "serve"],
        env={**os.environ, "METERING_DATABASE_URL": database_url, "METERING_GRPC_ADDR": addr,
             "METERING_HTTP_ADDR": f"127.0.0.1:{free_port()}", **env},
        stdout=output,
        stderr=output,
    )
    _wait_serving(addr, proc)
    return addr, proc


@pytest.fixture(scope="session")
def server_addrs(database_url: str) -> Iterator[list[str]]:
    """Three `metering serve` processes on one database: the replicas the invariants race across."""
    # They deliver no alerts (no SMTP here): the delivery tests start notifying servers of their own,
    # which these would otherwise race for the outbox.
    started = [start_server(database_url, METERING_HOLD_SWEEP_SECONDS="0.2", METERING_NOTIFY_SECONDS="86400")
               for _ in range(SERVER_PROCESSES)]
    yield [addr for addr, _ in started]
    for _, proc in started:
        proc.terminate()
    for _, proc in started:
        proc.wait(timeout=15)


@pytest.fixture(scope="session")
async def stubs(
    server_addrs: list[str], platform_key: str
) -> AsyncIterator[list[pb_grpc.MeteringServiceStub]]:
    channels = [aio_channel(addr, platform_key) for addr in server_addrs]
    yield [pb_grpc.MeteringServiceStub(c) for c in channels]
    for channel in channels:
        await channel.close()


@pytest.fixture(scope="module")
async def admin(
    server_addrs: list[str], platform_key: str
) -> AsyncIterator[admin_pb2_grpc.MeteringAdminServiceStub]:
    """The admin service of one of the replicas, called as a platform admin."""
    async with aio_channel(server_addrs[-1], platform_key) as channel:
        yield admin_pb2_grpc.MeteringAdminServiceStub(channel)
