"""Raw PostgreSQL ceilings: asyncpg straight to the database, no service in between."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg

from bench.hot_row import HOT_UPDATE
from bench.metering_load import Call, LoadResult, closed_loop
from services.metering.store.usage import INSERT_EVENTS


@asynccontextmanager
async def connections(dsn: str, n: int) -> AsyncIterator[list[asyncpg.Connection]]:
    conns = [await asyncpg.connect(dsn) for _ in range(n)]
    try:
        yield conns
    finally:
        for conn in conns:
            await conn.close()


async def batched_insert(conns: list[asyncpg.Connection], org_id: str, batch: int, warmup: float,
                         seconds: float) -> LoadResult:
    """Idempotent inserts of `batch` events per statement, the service's own statement."""
    calls = [_insert_call(conn, org_id, batch, f"raw-{i}") for i, conn in enumerate(conns)]
    return await closed_loop(calls, warmup, seconds)


def _insert_call(conn: asyncpg.Connection, org_id: str, batch: int, prefix: str) -> Call:
    # Columns that do not vary are built once: the ceiling is the database's, not this client's.
    orgs, meters = [org_id] * batch, ["api_requests"] * batch
    quantities, nulls = [Decimal(1)] * batch, [None] * batch
    seq = itertools.count()

    async def call() -> tuple[int, Decimal | None]:
        n = next(seq)
        keys = [f"{prefix}-{n}-{i}" for i in range(batch)]
        occurred = [datetime.now(UTC)] * batch
        rows = await conn.fetch(INSERT_EVENTS, orgs, keys, meters, quantities, occurred,
                                nulls, nulls, nulls, nulls, nulls)
        return len(rows), None

    return call


async def hot_row_updates(conns: list[asyncpg.Connection], org_id: str, warmup: float,
                          seconds: float) -> LoadResult:
    """One autocommit UPDATE per deduction on one hot row: bound by WAL flushes and the row lock."""
    return await closed_loop([_update_call(conn, org_id) for conn in conns], warmup, seconds)


def _update_call(conn: asyncpg.Connection, org_id: str) -> Call:
    async def call() -> tuple[int, Decimal | None]:
        status = await conn.execute(HOT_UPDATE, org_id)
        return (1, None) if status == "UPDATE 1" else (0, None)

    return call
