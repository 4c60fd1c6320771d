"""Token buckets in Redis: one Lua script, called by EVALSHA, concurrent calls pipelined.

Every decision taken in one event-loop turn rides in one pipeline (one round trip), and at most
MAX_IN_FLIGHT pipelines are out at once, so a busy sidecar sends fewer, fuller pipelines; a NOSCRIPT
answer (a restarted or new node) reloads the script and retries those calls. While Redis is
unreachable the buckets answer `StoreUnavailable` at once, and a probe brings them back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import ConnectionPool
from redis.exceptions import NoScriptError, RedisClusterException, RedisError, ResponseError

log = logging.getLogger(__name__)

SCRIPT = Path(__file__).with_name("bucket.lua").read_text()
MAX_IN_FLIGHT = 2
FULL_BATCH = 32
_NUMKEYS = [b"%d" % n for n in range(64)]
# When busy (a pipeline out, or the last one carried several decisions), a flush less than
# BUSY_GAP_S after the previous one waits until COALESCE_S after it: a lone caller is answered at
# once, a crowd shares fuller pipelines (fewer round trips and syscalls per decision).
BUSY_GAP_S = 0.004
COALESCE_S = 0.002
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}

RedisClient = Redis | RedisCluster


class StoreUnavailable(Exception):
    """Redis did not answer in time (or at all)."""


@dataclass(slots=True)
class BucketCall:
    """One script call: the buckets of one descriptor, spent all-or-nothing."""

    keys: tuple[bytes, ...]
    """Bucket keys sharing one hash tag (encoded)."""
    spec: bytes
    """b"hits burst requests window_ms [burst requests window_ms ...]", one triple per key."""


@dataclass(slots=True)
class BucketResult:
    """The script's answer for one BucketCall."""

    admitted: bool
    """All buckets had the tokens (and spent them)."""
    buckets: tuple[tuple[int, int, int], ...]
    """Per key: whole tokens left, ms until full, ms until admissible."""


def redacted(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else "***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def connect(url: str, timeout_s: float) -> RedisClient:
    """A client for `redis://`, `rediss://`, `unix://`, or a cluster for `redis+cluster://`."""
    scheme, sep, rest = url.partition("://")
    # No per-read socket_timeout: RedisBuckets bounds each whole pipeline with one timer instead
    # of one per reply, which costs a measurable share of a decision.
    options: dict[str, Any] = {"socket_timeout": None, "socket_connect_timeout": timeout_s}
    if scheme in CLUSTER_SCHEMES:
        return RedisCluster.from_url(f"{CLUSTER_SCHEMES[scheme]}{sep}{rest}", **options)
    return Redis.from_url(url, **options)


class RedisBuckets:
    """Runs bucket calls against Redis, one pipeline per event-loop turn."""

    def __init__(
        self,
        client: RedisClient,
        *,
        timeout_s: float,
        probe_interval_s: float = 0.5,
        on_transition: Callable[[bool, str], None] | None = None,
        on_round_trip: Callable[[], None] | None = None,
        traced: bool = False,
    ) -> None:
        self.client = client
        self.timeout_s = timeout_s
        self.probe_interval_s = probe_interval_s
        self.on_transition = on_transition
        self.on_round_trip = on_round_trip
        # Traced: through redis-py's pipeline, which OpenTelemetry's instrumentation wraps.
        self.traced = traced
        self.up = True
        self.round_trips = 0
        self._sha: str | None = None
        self._pending: list[tuple[Sequence[BucketCall], asyncio.Future[list[BucketResult]]]] = []
        self._flush_handle: asyncio.Handle | None = None
        self._last_flush = 0.0
        self._last_batch = 0
        self._alone = 0
        self._probe: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()

    async def take(self, calls: Sequence[BucketCall]) -> list[BucketResult]:
        """Runs the calls in the next pipeline; raises StoreUnavailable when Redis is down."""
        if not calls:
            return []
        if not self.up:
            raise StoreUnavailable("store marked down")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[BucketResult]] = loop.create_future()
        if self._idle():
            return await self._take_alone(calls, future, loop)
        self._pending.append((calls, future))
        self._schedule_flush(loop)
        return await future

    def _idle(self) -> bool:
        return (not self._pending and self._flush_handle is None and not self._inflight
                and not self._alone and self._last_batch <= 1)

    async def _take_alone(
        self, calls: Sequence[BucketCall], future: asyncio.Future[list[BucketResult]],
        loop: asyncio.AbstractEventLoop,
    ) -> list[BucketResult]:
        # A lone caller on an idle sidecar sends its pipeline itself, sparing two event-loop
        # hops; whoever arrives meanwhile sees it out and queues behind it as usual.
        self._alone += 1
        self._last_flush, self._last_batch = loop.time(), 1
        try:
            await self._run([(calls, future)])
        finally:
            self._alone -= 1
            self._schedule_flush(loop)
        return future.result()

    def _schedule_flush(self, loop: asyncio.AbstractEventLoop) -> None:
        # While MAX_IN_FLIGHT pipelines are out, decisions wait for one to return and then all
        # go together: under load the batches grow instead of the syscalls and round trips.
        if not self._pending or len(self._inflight) + self._alone >= MAX_IN_FLIGHT:
            return
        if len(self._pending) >= FULL_BATCH:
            # Full enough: send now, so Redis runs this batch while Python builds the next one.
            if self._flush_handle is not None:
                self._flush_handle.cancel()
            self._flush()
        elif self._flush_handle is None:
            busy = self._inflight or self._alone or self._last_batch > 1
            if busy and loop.time() - self._last_flush < BUSY_GAP_S:
                self._flush_handle = loop.call_at(self._last_flush + COALESCE_S, self._flush)
            else:
                self._flush_handle = loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_handle = None
        self._last_flush = asyncio.get_running_loop().time()
        batch, self._pending = self._pending, []
        self._last_batch = len(batch)
        task = asyncio.create_task(self._run(batch))
        self._inflight.add(task)
        task.add_done_callback(self._landed)

    def _landed(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._schedule_flush(asyncio.get_running_loop())

    async def _run(
        self, batch: list[tuple[Sequence[BucketCall], asyncio.Future[list[BucketResult]]]]
    ) -> None:
        calls = [call for group, _ in batch for call in group]
        try:
            async with asyncio.timeout(self.timeout_s):
                replies = await self._execute(calls)
        except (RedisError, RedisClusterException, OSError, TimeoutError) as exc:
            self._fail(batch, exc)
            return
        except Exception as exc:
            log.exception("unexpected store failure")
            self._fail(batch, exc)
            return
        start = 0
        for group, future in batch:
            if not future.done():
                future.set_result([_parse(r) for r in replies[start:start + len(group)]])
            start += len(group)

    def _fail(
        self, batch: list[tuple[Sequence[BucketCall], asyncio.Future[list[BucketResult]]]],
        exc: BaseException,
    ) -> None:
        self._mark_down(exc)
        for _, future in batch:
            if not future.done():
                future.set_exception(StoreUnavailable(_describe(exc)))

    async def _execute(self, calls: list[BucketCall]) -> list[Any]:
        if self._sha is None:
            self._sha = await self._load()
        replies = await self._pipeline(calls)
        missing = [i for i, r in enumerate(replies) if isinstance(r, NoScriptError)]
        if missing:
            self._sha = await self._load()
            retried = await self._pipeline([calls[i] for i in missing])
            for i, reply in zip(missing, retried, strict=True):
                replies[i] = reply
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        return replies

    async def _pipeline(self, calls: list[BucketCall]) -> list[Any]:
        assert self._sha is not None
        sha = self._sha.encode()
        # Arguments are bytes already, so packing skips the encoder; the command name stays a
        # str: the cluster client routes EVAL/EVALSHA by comparing it to one.
        commands: list[tuple[Any, ...]] = [
            ("EVALSHA", sha, _NUMKEYS[len(call.keys)], *call.keys, call.spec) for call in calls]
        self.round_trips += 1
        if self.on_round_trip is not None:
            self.on_round_trip()
        if isinstance(self.client, RedisCluster) or self.traced:
            # The cluster pipeline splits the calls by slot (one round trip per node); it refuses
            # its evalsha() helper but routes the raw command by key.
            pipe = self.client.pipeline(transaction=False)
            for command in commands:
                pipe.execute_command(*command)
            return list(await pipe.execute(raise_on_error=False))
        return await _round_trip(self.client.connection_pool, commands)

    async def _load(self) -> str:
        sha = await self.client.script_load(SCRIPT)
        return sha.decode() if isinstance(sha, bytes) else str(sha)

    def _mark_down(self, exc: BaseException) -> None:
        if not self.up:
            return
        self.up = False
        if self.on_transition is not None:
            self.on_transition(False, _describe(exc))
        self._probe = asyncio.create_task(self._probe_until_up())

    async def _probe_until_up(self) -> None:
        while True:
            await asyncio.sleep(self.probe_interval_s)
            try:
                async with asyncio.timeout(self.timeout_s * 4):
                    await self.client.ping()
                    self._sha = await self._load()
            except (RedisError, RedisClusterException, OSError, TimeoutError):
                continue
            self.up = True
            if self.on_transition is not None:
                self.on_transition(True, "store answered a probe")
            return

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
        for task in list(self._inflight):
            task.cancel()
        await self.client.aclose()


async def _round_trip(pool: ConnectionPool, commands: list[tuple[Any, ...]]) -> list[Any]:
    """All commands in one write on a pooled connection, then every reply in order: what a
    non-transactional redis-py pipeline sends, without its per-execute bookkeeping (measured
    here: about 60 us of a 150 us round trip). Error replies come back in place, as exceptions.
    """
    conn = await pool.get_connection()  # type: ignore[no-untyped-call]
    try:
        await conn.send_packed_command(conn.pack_commands(commands), check_health=False)
        replies: list[Any] = []
        for _ in commands:
            try:
                replies.append(await conn.read_response())
            except ResponseError as error:  # NOSCRIPT or a script error: the next replies follow
                replies.append(error)
        return replies
    except BaseException:
        # Cut short (timeout, cancellation, a broken socket): unread replies may be on the wire.
        await conn.disconnect()
        raise
    finally:
        await pool.release(conn)


def _parse(reply: list[int]) -> BucketResult:
    buckets = tuple((int(reply[i]), int(reply[i + 1]), int(reply[i + 2]))
                    for i in range(1, len(reply), 3))
    return BucketResult(admitted=bool(reply[0]), buckets=buckets)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
