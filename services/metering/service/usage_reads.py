"""Reading an organization's use this period, unknown organizations and meters told apart, and
the reads of concurrent GetQuota and Project calls shared.

A call waits for the next read of its organization and meter that starts after it arrived,
never for one already under way, so it sees everything committed before it called; the calls
that queued while a read ran share the next one. While the process is CPU-bound, that next read
first waits, for a bounded time, for as many calls as the last one answered (see
batch_gathering), as a batch of deductions does. Each read is a round trip of its own, with the
wake-ups it costs the event loop and PostgreSQL, and under load those cost a server far more
than the read itself.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable

import asyncpg

from services.kit.database import Borrowed
from services.kit.errors import NotFoundError, RetryLater
from services.metering.domain.readings import Usage
from services.metering.service.batch_gathering import BatchGathering, answer
from services.metering.service.organizations import unknown_organization
from services.metering.store.quota import Missing, find_usage

Read = Callable[[asyncpg.Connection, str, str], Awaitable[Usage]]


async def read_usage(conn: asyncpg.Connection, org_id: str, meter: str) -> Usage:
    """The credits (`meter` empty) or one meter's use; NotFoundError naming what does not exist."""
    found = await find_usage(conn, org_id, meter)
    if found is Missing.ORGANIZATION:
        raise unknown_organization(org_id)
    if found is Missing.METER:
        raise NotFoundError("meter", f"meter {meter!r} does not exist")
    assert not isinstance(found, Missing)
    return found


class UsageReads:
    """One process's usage reads, shared by the calls of one organization and meter."""

    def __init__(self, pool: asyncpg.Pool, gathering: BatchGathering, read: Read = read_usage) -> None:
        self._pool = pool
        self._gathering = gathering
        self._read = read
        self._queues: dict[tuple[str, str], list[asyncio.Future[Usage]]] = defaultdict(list)
        self._draining: dict[tuple[str, str], asyncio.Task[None]] = {}  # held until each ends

    async def usage(self, org_id: str, meter: str) -> Usage:
        """As `read_usage`, from a read that starts after this call."""
        key = (org_id, meter)
        loop = asyncio.get_running_loop()
        call: asyncio.Future[Usage] = loop.create_future()
        queue = self._queues[key]
        queue.append(call)
        self._gathering.queued(key, len(queue))
        if key not in self._draining:
            self._draining[key] = loop.create_task(self._drain(key))
        return await call

    async def _drain(self, key: tuple[str, str]) -> None:
        waiting: list[asyncio.Future[Usage]] = []
        try:
            while self._queues.get(key):
                await self._gathering.wait(key, len(self._queues[key]))
                waiting = self._queues.pop(key)
                self._gathering.took(key, len(waiting))
                try:
                    async with Borrowed(self._pool) as conn:
                        usage = await self._read(conn, *key)
                except Exception as error:
                    _answer(waiting, error)
                else:
                    _answer(waiting, usage)
        finally:
            del self._draining[key]
            # Calls still waiting when the read is cancelled (the process stopping) are not left
            # hanging; the others were answered already.
            _answer(waiting + self._queues.pop(key, []), RetryLater("the server is stopping; retry the call"))


def _answer(waiting: list[asyncio.Future[Usage]], outcome: Usage | Exception) -> None:
    for call in waiting:
        answer(call, outcome)
