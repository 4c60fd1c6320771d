"""The client side of the fault tests: callers that retry with the same idempotency key.

A caller of the metering service that gets no answer (UNAVAILABLE, a dropped connection, a
deadline) cannot know whether its call was applied, so it sends the very same request again,
possibly to another replica, until one answers. Every failed attempt is counted by status code,
so a test can also check that an outage looked like UNAVAILABLE and nothing worse.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import grpc

T = TypeVar("T")

# What an outage of a store or a replica may look like to a caller: the server says so, or the
# transport fails (a dropped connection is UNAVAILABLE on the client too), or no answer in time.
OUTAGE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
# Answers about the request itself: retrying the same request cannot change them.
FINAL_CODES = frozenset({grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
                         grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED,
                         grpc.StatusCode.RESOURCE_EXHAUSTED})


class GaveUp(AssertionError):
    """No replica answered a request within the test's patience: the service did not recover."""


@dataclass
class RetryLog:
    """Failed attempts by status code, with one sample message per code for the report."""

    codes: Counter[grpc.StatusCode] = field(default_factory=Counter)
    messages: dict[grpc.StatusCode, str] = field(default_factory=dict)

    def failed(self, error: grpc.aio.AioRpcError) -> None:
        self.codes[error.code()] += 1
        self.messages.setdefault(error.code(), error.details() or "")

    def unexpected(self) -> dict[str, str]:
        """Codes other than an outage's, with a sample message each."""
        return {code.name: self.messages[code] for code in self.codes if code not in OUTAGE_CODES}

    @property
    def failures(self) -> int:
        return sum(self.codes.values())


async def until_answered(attempt: Callable[[int], Awaitable[T]], log: RetryLog,
                         patience: float = 120.0) -> tuple[T, int]:
    """Calls `attempt(n)` for n = 0, 1, ... until one returns; returns it and the attempts made.

    Every failure but a final one is retried, even INTERNAL or UNKNOWN, so that "nothing lost
    or doubled" is proved even where the outage was reported with the wrong code (the log tells).
    """
    deadline = time.monotonic() + patience
    n = 0
    while True:
        try:
            return await attempt(n), n + 1
        except grpc.aio.AioRpcError as error:
            if error.code() in FINAL_CODES:
                raise
            log.failed(error)
            if time.monotonic() > deadline:
                raise GaveUp(f"no answer after {n + 1} attempts in {patience:.0f}s: "
                             f"{error.code().name} {error.details()}") from error
        n += 1
        # Short, growing pauses: the outage is seconds long and the test waits for the recovery.
        await asyncio.sleep(min(0.05 * 2 ** min(n, 5), 1.0))
