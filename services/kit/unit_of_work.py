"""One unit of work: a pooled connection inside one transaction, committed when the block ends
and rolled back when it raises. Services open it; store functions only take the connection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg


@asynccontextmanager
async def unit_of_work(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    async with pool.acquire() as conn, conn.transaction():
        yield conn
