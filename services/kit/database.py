"""Which failures mean "the database is unreachable right now" (the caller may retry) rather than
"this request is wrong", connecting while PostgreSQL is still on its way up, and a pooled
connection lent for one read."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TypeVar

import asyncpg

log = logging.getLogger(__name__)

DATABASE_UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,  # e.g. a pooled connection PostgreSQL has just ended
    asyncpg.InternalClientError,
)

T = TypeVar("T")


async def keep_trying(connect: Callable[[], Awaitable[T]], within_seconds: float,
                      stop: asyncio.Event | None = None) -> T | None:
    """Calls `connect` until it succeeds, while the database is unreachable, for at most
    `within_seconds` (capped exponential back-off with jitter). Returns None when `stop` is set;
    other errors (a wrong password, a missing database) and the last failure propagate."""
    deadline = time.monotonic() + within_seconds
    delay = 0.2
    while True:
        try:
            return await connect()
        except DATABASE_UNREACHABLE as error:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("database unreachable (%s); retrying in %.1fs", type(error).__name__, delay)
        if stop is not None:
            try:
                await asyncio.wait_for(stop.wait(), delay)
                return None
            except TimeoutError:
                pass
        else:
            await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0) * random.uniform(0.8, 1.2)


class Borrowed:
    """`async with Borrowed(pool) as conn`: a pooled connection, given back in the background
    once the block ends, so that the caller's answer does not wait for the pool (asyncpg's own
    release is shielded and takes two turns of the event loop). For reads that commit nothing:
    a failed return is logged, and the pool ends that connection."""

    __slots__ = ("_conn", "_pool")

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._conn: asyncpg.Connection | None = None

    async def __aenter__(self) -> asyncpg.Connection:
        self._conn = await self._pool.acquire()
        return self._conn

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            task = asyncio.get_running_loop().create_task(self._pool.release(conn))
            _RETURNING.add(task)
            task.add_done_callback(_returned)


_RETURNING: set[asyncio.Task[None]] = set()  # held, so that no return under way is collected


def _returned(task: asyncio.Task[None]) -> None:
    _RETURNING.discard(task)
    if not task.cancelled() and (error := task.exception()) is not None:
        log.warning("a pooled connection could not be given back: %s", type(error).__name__)
