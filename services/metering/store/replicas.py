"""The replicas' heartbeats: each live replica refreshes its own row; every replica reads which
ones are live by PostgreSQL's clock, so replicas with skewed clocks agree."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

BEAT = """
INSERT INTO ledger_replicas (address, heartbeat_at) VALUES ($1, statement_timestamp())
ON CONFLICT (address) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at"""

SELECT_LIVE = """
SELECT address FROM ledger_replicas WHERE heartbeat_at > statement_timestamp() - $1::interval
ORDER BY address"""

DELETE_REPLICA = "DELETE FROM ledger_replicas WHERE address = $1"

DELETE_LONG_GONE = """
DELETE FROM ledger_replicas WHERE heartbeat_at < statement_timestamp() - $1::interval"""


async def beat(conn: asyncpg.Connection, address: str) -> None:
    await conn.execute(BEAT, address)


async def live(conn: asyncpg.Connection, within: timedelta) -> list[str]:
    """The addresses of the replicas whose last heartbeat is more recent than `within`."""
    return [r["address"] for r in await conn.fetch(SELECT_LIVE, within)]


async def leave(conn: asyncpg.Connection, address: str) -> None:
    await conn.execute(DELETE_REPLICA, address)


async def forget_long_gone(conn: asyncpg.Connection, older_than: timedelta) -> None:
    await conn.execute(DELETE_LONG_GONE, older_than)
