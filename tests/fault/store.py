"""Setting up and reading the metering database of the fault tests (short-lived connections, so
nothing here holds a connection across a PostgreSQL restart)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import asyncpg

from services.kit.caller import Role
from services.metering.store.api_keys import create_api_key
from services.metering.store.organizations import NewOrganization, add_bonus_grant, create_organization
from services.schema.migrations import migrate


@asynccontextmanager
async def connected(dsn: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        yield conn
    finally:
        await conn.close()


async def create_metering_database(admin_dsn: str, name: str) -> tuple[str, str]:
    """Creates and migrates the database; returns its DSN and a platform admin API key."""
    async with connected(admin_dsn) as conn:
        await conn.execute(f'CREATE DATABASE "{name}"')
    dsn = admin_dsn.rsplit("/", 1)[0] + f"/{name}"
    await migrate(dsn)
    async with connected(dsn) as conn:
        _, key = await create_api_key(conn, None, Role.PLATFORM_ADMIN, "fault tests")
    return dsn, key


async def new_org(dsn: str, bonus: Decimal | int = 0) -> str:
    """A Free-plan organization (500 monthly credits) plus `bonus` bonus credits."""
    org_id = f"fault-{uuid.uuid4().hex[:10]}"
    async with connected(dsn) as conn:
        await create_organization(conn, NewOrganization(org_id, f"Fault {org_id}"))
        if bonus:
            await add_bonus_grant(conn, org_id, Decimal(bonus), "fault tests")
    return org_id


async def available(dsn: str, org_id: str) -> Decimal:
    async with connected(dsn) as conn:
        row = await conn.fetchrow(
            "SELECT monthly_remaining + bonus_remaining AS available, reserved FROM balances "
            "WHERE org_id = $1", org_id)
    assert row["reserved"] == 0, "these tests hold nothing: a reservation means a leaked hold"
    value: Decimal = row["available"]
    return value
