"""Gathering a batch under load: while the server process is CPU-bound, an organization's next
batch of credit calls, or its next shared usage read, waits for a bounded time until as many
calls have queued as its last batch took.

Group commit takes whatever queued while the previous batch ran. In a CPU-bound process that is
a handful of calls, however many callers wait: the rest are still being read off the
connections, and the batch starts before they reach the queue. Each batch has a cost of its own
(the statement, the credit book, the commit), and a CPU-bound process pays it for every
handful. Waiting for as many calls as the last batch took, which is how many callers it just
answered, lets one transaction take them together, so that cost is shared by many calls, and
the process answers more calls per second and each of them sooner.

A process with CPU to spare never waits: its next batch may as well start at once, and a wait
would only add to the calls' latency. Nor does a batch wait when the last one took a single
call, so one caller at a time never waits. The last batch's size is remembered for a second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")

# The share of wall time the event loop's thread ran or waited to run (kit.thread_load) from
# which the process counts as CPU-bound; measured on 2 cores, it read 0.75 at 4 callers in a
# closed loop and 0.98 at 32, where the server could not answer more.
SATURATED = 0.8
# The default bound of a wait (METERING_BATCH_WAIT_SECONDS): under load, about the time the
# server needs to read the next 25-30 calls on 2 cores.
DEFAULT_WAIT_SECONDS = 0.02
# How long a key's last batch size is remembered.
MEMORY_SECONDS = 1.0
# Keys whose last batch size is remembered, at most.
CAPACITY = 10_000


class BatchGathering:
    """The batch sizes and waits of one process's batches of one kind, by what a batch is for (an
    organization's credit calls, or its reads of one meter)."""

    def __init__(self, max_wait: float, load: Callable[[], float]) -> None:
        self._max_wait = max_wait
        self._load = load
        self._last: dict[Hashable, tuple[int, float]] = {}  # key -> (size of its last batch, when)
        self._waiting: dict[Hashable, tuple[int, asyncio.Future[None]]] = {}  # key -> (target, wake)

    async def wait(self, key: Hashable, queued: int) -> None:
        """Returns once the key's next batch may start, `queued` calls being queued."""
        target = self._target(key)
        if (queued >= target or self._max_wait <= 0 or key in self._waiting
                or self._load() < SATURATED):
            return
        loop = asyncio.get_running_loop()
        wake: asyncio.Future[None] = loop.create_future()
        self._waiting[key] = (target, wake)
        timer = loop.call_later(self._max_wait, _set, wake)
        try:
            await wake
        finally:
            timer.cancel()
            del self._waiting[key]

    def queued(self, key: Hashable, queued: int) -> None:
        """A call joined the key's queue, which now holds `queued`."""
        waiting = self._waiting.get(key)
        if waiting is not None and queued >= waiting[0]:
            _set(waiting[1])

    def took(self, key: Hashable, size: int) -> None:
        """A batch of `size` calls starts."""
        if size <= 1:
            self._last.pop(key, None)
            return
        if len(self._last) >= CAPACITY and key not in self._last:
            self._last.clear()
        self._last[key] = (size, time.monotonic())

    def _target(self, key: Hashable) -> int:
        size, at = self._last.get(key, (1, 0.0))
        return size if time.monotonic() - at < MEMORY_SECONDS else 1


def answer(call: asyncio.Future[T], outcome: T | BaseException) -> None:
    """Answers one call of a batch with its outcome (an exception is raised to its caller),
    unless it was answered already or its caller gave up."""
    if call.done():
        return
    if isinstance(outcome, BaseException):
        call.set_exception(outcome)
    else:
        call.set_result(outcome)


def _set(wake: asyncio.Future[None]) -> None:
    if not wake.done():
        wake.set_result(None)
