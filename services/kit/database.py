"""Which failures mean "the database is unreachable right now" (the caller may retry) rather than
"this request is wrong", and connecting while PostgreSQL is still on its way up."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
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
