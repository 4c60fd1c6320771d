"""The idle bound of a streamed session's reads: only time spent waiting for a message counts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.metering.transport.request_stream import EOF, IdleBound, RequestStream

IDLE = 0.2


class _Messages:
    """The reading side of a stream: what a client sent, read in order (EOF once it closed)."""

    def __init__(self) -> None:
        self.sent: asyncio.Queue[Any] = asyncio.Queue()

    async def read(self) -> Any:
        return await self.sent.get()


def _stream(messages: _Messages, first: Any = "open") -> RequestStream:
    return RequestStream(messages, first)  # type: ignore[arg-type]  # reads like a grpc context


async def test_the_first_message_comes_first_then_the_stream_until_it_closes() -> None:
    messages = _Messages()
    for message in ("chunk 0", "chunk 1", EOF):
        messages.sent.put_nowait(message)
    stream = _stream(messages)
    assert [await stream.next() for _ in range(4)] == ["open", "chunk 0", "chunk 1", None]


async def test_a_read_that_waits_past_the_bound_ends_with_a_timeout() -> None:
    stream = _stream(_Messages())
    await stream.next()  # the first message
    bound = IdleBound(stream, IDLE)
    started = asyncio.get_running_loop().time()
    with pytest.raises(TimeoutError):
        async with bound:
            await stream.next()
    waited = asyncio.get_running_loop().time() - started
    assert bound.expired()
    assert IDLE <= waited < IDLE + 0.15


async def test_time_spent_between_reads_does_not_count_toward_the_bound() -> None:
    messages = _Messages()
    stream = _stream(messages)
    async with IdleBound(stream, IDLE) as bound:
        assert await stream.next() == "open"
        for i in range(3):
            await asyncio.sleep(IDLE * 1.5)  # answering a message takes longer than the bound
            messages.sent.put_nowait(f"chunk {i}")
            assert await stream.next() == f"chunk {i}"
        # Messages that keep coming, each within the bound, never end the reads.
        for i in range(6):
            asyncio.get_running_loop().call_later(IDLE * 0.6, messages.sent.put_nowait, f"late {i}")
            assert await stream.next() == f"late {i}"
    assert not bound.expired()


async def test_a_read_is_timed_from_when_it_started_waiting() -> None:
    messages = _Messages()
    stream = _stream(messages)
    loop = asyncio.get_running_loop()
    with pytest.raises(TimeoutError):
        async with IdleBound(stream, IDLE):
            await stream.next()
            await asyncio.sleep(IDLE * 0.9)  # busy until just before the first check
            started = loop.time()
            await stream.next()
    assert loop.time() - started >= IDLE
