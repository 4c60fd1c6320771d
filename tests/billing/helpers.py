"""Helpers of the billing tests: databases of their own, organizations, raw usage events."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

import asyncpg

from services.metering.store.organizations import NewOrganization, create_organization
from services.schema.migrations import migrate
from tests import stores

Event = tuple[str, str, str, Decimal, datetime, str | None]  # org, key, meter, quantity, occurred_at, user


def _url(name: str) -> str:
    return stores.database_url(name)


def own_database() -> Iterator[str]:
    """A new migrated database, dropped afterwards (only this one)."""
    name = f"billing_test_{uuid.uuid4().hex[:10]}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(stores.admin_dsn())
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        asyncio.run(migrate(_url(name)))
        yield _url(name)
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def new_org(db: asyncpg.Pool | asyncpg.Connection, anchor: datetime | None = None,
                  **fields: object) -> str:
    org_id = f"org-{uuid.uuid4().hex[:10]}"
    new = NewOrganization(org_id, f"Billing {org_id}", billing_anchor=anchor, **fields)  # type: ignore[arg-type]
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            await create_organization(conn, new)
    else:
        await create_organization(db, new)
    return org_id


async def insert_events(conn: asyncpg.Connection, rows: list[Event]) -> None:
    await conn.executemany(
        "INSERT INTO usage_events (org_id, idempotency_key, meter, quantity, occurred_at, user_id) "
        "VALUES ($1, $2, $3, $4, $5, $6)", rows)
