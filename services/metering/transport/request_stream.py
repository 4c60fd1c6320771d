"""Reading a bidirectional stream's requests with grpc's reader API, and bounding a silence.

grpc.aio hands a streaming handler its requests as an async iterator, and takes its answers as
an async generator; each message then passes through a generator frame per layer (grpc's, the
guard's, the servicer's). Handlers behind the guard instead read with `context.read()` and write
with `context.write()`: one await per message either way.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

import grpc

Context = grpc.aio.ServicerContext[Any, Any]
# What `context.read()` returns once the client has closed its side (grpc-stubs does not know it).
EOF: Any = grpc.aio.EOF  # type: ignore[attr-defined]


class RequestStream:
    """A stream's requests, the first of them already read (the guard reads it to authorize the
    call: it names the organization). It notes when a read started waiting, for IdleBound."""

    def __init__(self, context: Context, first: Any) -> None:
        self._context = context
        self._first = first
        self._clock = asyncio.get_running_loop().time
        self.waiting_since: float | None = None
        """When the read in progress started waiting for a message; None between reads."""

    async def next(self) -> Any | None:
        """The next request, or None once the client has closed its side of the stream."""
        if self._first is not None:
            first, self._first = self._first, None
            return first
        self.waiting_since = self._clock()
        message = await self._context.read()
        self.waiting_since = None
        return None if message is EOF else message


class IdleBound:
    """Ends a read of `requests` that has waited `idle` seconds: the read raises TimeoutError and
    `expired()` says so. Time spent between reads (answering a message) does not count.

    The reads themselves only note when they start and end (RequestStream.waiting_since). One
    timer checks, at most once per `idle` seconds, whether a read has waited that long:
    re-arming a deadline around every read cost about 5 % of a streamed chunk's CPU, and a
    coroutine wrapped around each read about 2 %.
    """

    def __init__(self, requests: RequestStream, idle: float) -> None:
        self._requests = requests
        self._idle = idle
        self._loop = asyncio.get_running_loop()
        self._timeout = asyncio.timeout(None)
        self._check: asyncio.TimerHandle | None = None

    async def __aenter__(self) -> IdleBound:
        await self._timeout.__aenter__()
        self._arm(self._loop.time())
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        if self._check is not None:
            self._check.cancel()
        await self._timeout.__aexit__(kind, error, traceback)

    def expired(self) -> bool:
        return self._timeout.expired()

    def _arm(self, since: float) -> None:
        self._check = self._loop.call_at(since + self._idle, self._on_check)

    def _on_check(self) -> None:
        now, since = self._loop.time(), self._requests.waiting_since
        if since is not None and now - since >= self._idle:
            self._timeout.reschedule(now)  # the reading task gets TimeoutError
        else:
            self._arm(now if since is None else since)
