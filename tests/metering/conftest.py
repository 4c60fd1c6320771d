"""Fixtures for the metering tests: a database of their own, and real server processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import IO

import asyncpg
import pytest

from devstack.supervised import metering_server
from services.gen.metering.v1 import admin_pb2_grpc
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc
from services.kit.caller import Role
from services.metering.store.api_keys import create_api_key
from services.metering.store.organizations import NewOrganization, add_bonus_grant, create_organization
from services.schema.migrations import distribute_schema, migrate
from tests import stores
from tests.metering.clients import aio_channel

SERVER_PROCESSES = 3


# A database of a Citus cluster to run the session against instead (its coordinator; the
# extension created and the workers added): migrated and distributed, never dropped.
CITUS_URL = "METERING_TEST_CITUS_URL"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A database created for this test session, migrated, dropped at the end (or the Citus
    database named by METERING_TEST_CITUS_URL, distributed by organization: docs/citus.md)."""
    citus = os.environ.get(CITUS_URL)
    if citus:
        asyncio.run(migrate(citus))
        asyncio.run(distribute_schema(citus))
        yield citus
        return
    yield from _session_database()


def _session_database() -> Iterator[str]:
    name = f"metering_test_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        conn = await asyncpg.connect(stores.admin_dsn())
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        await migrate(stores.database_url(name))

    async def drop() -> None:
        conn = await asyncpg.connect(stores.admin_dsn())
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    asyncio.run(create())
    yield stores.database_url(name)
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


@pytest.fixture
async def statements(database_url: str) -> AsyncIterator[tuple[asyncpg.Pool, list[str]]]:
    """A pool of one connection noting the kind of every statement it runs (`statement_kind`)."""
    seen: list[str] = []

    async def note(conn: asyncpg.Connection) -> None:
        conn.add_query_logger(lambda record: seen.append(statement_kind(record.query)))

    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1, init=note)
    yield pool, seen
    await pool.close()


def statement_kind(query: str) -> str:
    """A credit ledger statement's kind: warm write, write, lock and read, read; or its first word."""
    if query.lstrip().startswith("WITH"):
        if "INSERT INTO" in query:
            return "warm write" if "EXISTS (SELECT FROM warm)" in query else "write"
        return "lock and read" if "FOR UPDATE" in query else "read"
    return query.split()[0].rstrip(";")


def start_server(
    database_url: str, output: IO[str] | None = None, **env: str
) -> tuple[str, subprocess.Popen[bytes]]:
    """A `metering serve` process on free ports, healthy when returned; `output` takes its (JSON) logs."""
    server = metering_server("metering serve", database_url, output, METERING_LOG_FORMAT="json", **env)
    server.start(within=20.0)
    assert server.proc is not None
    return server.grpc_addr, server.proc


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
