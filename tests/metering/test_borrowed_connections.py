"""A connection lent for one read goes back to its pool after the block, without the block's
caller waiting for it."""

from __future__ import annotations

import asyncio

import asyncpg

from services.kit.database import Borrowed


async def test_a_borrowed_connection_goes_back_to_the_pool_after_the_caller_has_moved_on(
    database_url: str,
) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    try:
        async with Borrowed(pool) as conn:
            assert await conn.fetchval("SELECT 41 + 1") == 42
            assert pool.get_idle_size() == 0
        # The block's caller goes on at once; the connection is back a turn of the loop later.
        assert pool.get_idle_size() == 0
        await asyncio.sleep(0.05)
        assert pool.get_idle_size() == 1
        async with asyncio.timeout(5), Borrowed(pool) as again:  # the pool's only connection
            assert await again.fetchval("SELECT 1") == 1
    finally:
        await pool.close()


async def test_a_connection_borrowed_by_a_failing_read_is_given_back_too(database_url: str) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    try:
        for _ in range(3):  # each failure returns the pool's only connection, or the next waits forever
            try:
                async with Borrowed(pool) as conn:
                    await conn.fetchval("SELECT 1 / 0")
            except asyncpg.DivisionByZeroError:
                pass
        async with asyncio.timeout(5), Borrowed(pool) as conn:
            assert await conn.fetchval("SELECT 2") == 2
    finally:
        await pool.close()
