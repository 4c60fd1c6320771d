"""Rate-limiter benchmark: each figure beside its raw ceiling, measured in the same run.

`python -m bench.ratelimiter [--seconds 3] [--redis redis://127.0.0.1:6379/0]` (or
`make bench-ratelimiter`). About a minute and a half; every loop is bounded in count and time;
only loopback; all keys live under a fresh prefix and are deleted at the end.

Ceilings: the raw EVALSHA token bucket from redis-py (1/16/64 concurrent, pipelined batches of
16), the `limits` library's moving window at 64 concurrent, and a plain grpcio echo server.
Ours: the decision engine in-process at 64 concurrent, Check over gRPC at 1/32/128 callers, and
ShouldRateLimit with two descriptors (Redis round trips per call, from the sidecar's metrics).
With `--record` (as `make bench-ratelimiter` runs it) the figures are also appended, dated and
with the machine's cores and load, to `docs/benchmarks/ratelimiter-results.md`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from redis.asyncio import Redis

from bench.ratelimiter_report import TITLE, Figures
from bench.results import RESULTS_DIR, append
from devstack.ports import free_addr
from devstack.supervised import Probe, Supervised, grpc_serving, tcp_accepts
from ratelimiter.config import load_limits
from ratelimiter.limiter import Limiter
from ratelimiter.model import CheckRequest, Descriptor
from ratelimiter.settings import load_settings
from ratelimiter.store import SCRIPT, RedisBuckets, connect

KEYS = 10_000
MAX_OPS = 2_000_000
LIMITS = """\
domain: bench
descriptors:
  - key: remote_address
    rate_limit: {requests_per_unit: 1000000000, unit: minute}
  - key: user
    rate_limit: {requests_per_unit: 1000000000, unit: minute}
"""


@dataclass
class Figure:
    name: str
    ops_per_s: float
    p50_ms: float
    p99_ms: float

    def line(self) -> str:
        return (f"{self.name:<44} {self.ops_per_s:>9,.0f}/s   p50 {self.p50_ms:6.2f} ms   "
                f"p99 {self.p99_ms:6.2f} ms")


async def load(name: str, op: Callable[[int], Awaitable[Any]], concurrency: int,
               seconds: float, per_op: int = 1) -> Figure:
    """Runs `op` from `concurrency` workers for `seconds` (after a short warm-up)."""
    counter = itertools.count()
    latencies: list[float] = []

    async def worker(deadline: float, record: bool) -> None:
        while time.perf_counter() < deadline:
            i = next(counter)
            if i >= MAX_OPS:
                return
            started = time.perf_counter()
            await op(i)
            if record:
                latencies.append(time.perf_counter() - started)

    warm = time.perf_counter() + min(0.5, seconds / 4)
    await asyncio.gather(*(worker(warm, False) for _ in range(concurrency)))
    started = time.perf_counter()
    await asyncio.gather(*(worker(started + seconds, True) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pick(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return Figure(name, len(latencies) * per_op / elapsed, pick(0.5), pick(0.99))


def ratio(ours: Figure, ceiling: Figure) -> str:
    return f"{ours.ops_per_s / ceiling.ops_per_s:6.2f}x"


async def raw_evalsha(url: str, prefix: str, seconds: float) -> dict[str, Figure]:
    client = Redis.from_url(url)
    sha = await client.script_load(SCRIPT)
    spec = b"1 1000000000 1000000000 60000"  # hits, burst, requests, window_ms

    async def one(i: int) -> None:
        await client.evalsha(sha, 1, f"{prefix}raw:{{{i % KEYS}}}", spec)

    async def batch(i: int) -> None:
        pipe = client.pipeline(transaction=False)
        for j in range(16):
            pipe.evalsha(sha, 1, f"{prefix}raw:{{{(i * 16 + j) % KEYS}}}", spec)
        await pipe.execute()

    figures = {f"raw{c}": await load(f"raw EVALSHA, {c} concurrent", one, c, seconds)
               for c in (1, 16, 64)}
    figures["raw_pipe"] = await load("raw EVALSHA, pipelined batches of 16 (x4)", batch, 4,
                                     seconds, per_op=16)
    await client.aclose()
    return figures


async def limits_moving_window(url: str, prefix: str, seconds: float) -> Figure:
    from limits import RateLimitItemPerMinute
    from limits.aio.storage import RedisStorage
    from limits.aio.strategies import MovingWindowRateLimiter

    storage = RedisStorage(url.replace("redis://", "async+redis://", 1), implementation="redispy",
                           key_prefix=f"{prefix}limits")
    limiter = MovingWindowRateLimiter(storage)
    item = RateLimitItemPerMinute(1_000_000)

    async def hit(i: int) -> None:
        await limiter.hit(item, str(i % KEYS))

    return await load("`limits` moving window, 64 concurrent", hit, 64, seconds)


async def engine(url: str, prefix: str, seconds: float, workdir: Path) -> tuple[Figure, float]:
    config = workdir / "limits.yaml"
    config.write_text(LIMITS)
    buckets = RedisBuckets(connect(url, 2.0), timeout_s=2.0)
    limiter = Limiter(load_limits(config), buckets, key_prefix=prefix)
    requests = [CheckRequest(domain="bench", descriptors=(
        Descriptor(entries=(("remote_address", f"10.{i // 256 % 256}.{i % 256}.1"),)),))
        for i in range(KEYS)]

    calls = 0

    async def decide(i: int) -> None:
        nonlocal calls
        decision = await limiter.decide(requests[i % KEYS])
        assert decision.allowed and not decision.degraded
        calls += 1

    before = buckets.round_trips
    figure = await load("decision engine in-process, 64 concurrent", decide, 64, seconds)
    trips = buckets.round_trips - before
    await buckets.close()
    return figure, trips / max(1, calls)


@contextmanager
def process(name: str, cmd: list[str], env: dict[str, str], log: Path, ready: Probe) -> Iterator[Supervised]:
    """A server subprocess (devstack's launcher), ready inside the block, stopped after it."""
    server = Supervised(name, cmd, ready, log, env=env).start(within=20)
    try:
        yield server
    finally:
        server.stop(within=10)


async def echo_ceiling(seconds: float, workdir: Path, payload: bytes) -> dict[int, Figure]:
    from bench.grpc_echo import PATH

    address = free_addr()
    cmd = [sys.executable, "-m", "bench.grpc_echo", address, "asyncio"]
    if sidecar_batch_helpers():  # the sidecar's own setting, so that the ceiling runs as it does
        cmd.append("batch-helpers")
    with process("echo server", cmd, dict(os.environ), workdir / "echo.log", tcp_accepts(address)):
        async with grpc.aio.insecure_channel(address) as channel:
            echo = channel.unary_unary(PATH, None, None)  # raw bytes both ways

            async def call(i: int) -> None:
                await echo(payload)

            return {callers: await load(
                f"grpc echo (transport ceiling), {callers} caller{'s' * (callers > 1)}", call,
                callers, seconds) for callers in (1, 32)}


def sidecar_batch_helpers() -> bool:
    """Whether `ratelimiter serve` runs grpc's helper threads under SCHED_BATCH, from this environment."""
    return load_settings().batch_helper_threads


def round_trips(http: str) -> float:
    with urllib.request.urlopen(f"{http}/metrics", timeout=5) as response:
        text = response.read().decode()
    match = re.search(r"^ratelimiter_store_round_trips_total (\S+)$", text, re.MULTILINE)
    return float(match[1]) if match else float("nan")


async def sidecar_figures(url: str, prefix: str, seconds: float, workdir: Path
                          ) -> tuple[dict[str, Figure], float, float]:
    from ratelimiter.gen.envoy.extensions.common.ratelimit.v3 import ratelimit_pb2 as common
    from ratelimiter.gen.envoy.service.ratelimit.v3 import rls_pb2, rls_pb2_grpc
    from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2 as pb
    from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2_grpc as pb_grpc

    config = workdir / "limits.yaml"
    config.write_text(LIMITS)
    grpc_addr, http = free_addr(), free_addr()
    env = {**os.environ, "RATELIMITER_REDIS_URL": url, "RATELIMITER_GRPC_ADDR": grpc_addr,
           "RATELIMITER_HTTP_ADDR": http, "RATELIMITER_CONFIG": str(config),
           "RATELIMITER_KEY_PREFIX": prefix, "RATELIMITER_REDIS_TIMEOUT_MS": "1000",
           "RATELIMITER_LOG_LEVEL": "WARNING"}
    checks = [pb.CheckRequest(domain="bench", descriptors=[pb.Descriptor(entries=[
        pb.Entry(key="remote_address", value=f"10.{i // 256 % 256}.{i % 256}.2")])])
        for i in range(KEYS)]
    pairs = [rls_pb2.RateLimitRequest(domain="bench", descriptors=[
        common.RateLimitDescriptor(entries=[common.RateLimitDescriptor.Entry(
            key="remote_address", value=f"10.{i // 256 % 256}.{i % 256}.3")]),
        common.RateLimitDescriptor(entries=[common.RateLimitDescriptor.Entry(
            key="user", value=f"u{i}")])]) for i in range(KEYS)]
    figures: dict[str, Figure] = {}
    cmd = [sys.executable, "-m", "ratelimiter", "serve"]
    with process("sidecar", cmd, env, workdir / "sidecar.log", grpc_serving(grpc_addr)):
        async with grpc.aio.insecure_channel(grpc_addr) as channel:
            stub = pb_grpc.RateLimiterStub(channel)  # type: ignore[no-untyped-call]
            rls = rls_pb2_grpc.RateLimitServiceStub(channel)  # type: ignore[no-untyped-call]

            async def check(i: int) -> None:
                answer = await stub.Check(checks[i % KEYS])
                assert answer.allowed and not answer.degraded

            calls = 0

            async def should(i: int) -> None:
                nonlocal calls
                answer = await rls.ShouldRateLimit(pairs[i % KEYS])
                assert answer.overall_code == rls_pb2.RateLimitResponse.OK
                calls += 1

            for callers in (1, 32, 128):
                figures[f"check{callers}"] = await load(
                    f"Check over gRPC, {callers} caller{'s' * (callers > 1)}", check, callers,
                    seconds)
            trips_per_call = {}
            for callers in (1, 32):
                before, calls = round_trips(f"http://{http}"), 0
                figures[f"rls{callers}"] = await load(
                    f"ShouldRateLimit, 2 descriptors, {callers} caller{'s' * (callers > 1)}",
                    should, callers, seconds / 2)
                trips_per_call[callers] = (round_trips(f"http://{http}") - before) / max(1, calls)
    return figures, trips_per_call[1], trips_per_call[32]


async def delete_prefix(url: str, prefix: str) -> int:
    client = Redis.from_url(url)
    deleted = 0
    batch = [key async for key in client.scan_iter(match=prefix + "*", count=5000)]
    for i in range(0, len(batch), 1000):
        deleted += await client.delete(*batch[i:i + 1000])
    await client.aclose()
    return deleted


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per figure")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--record", action=argparse.BooleanOptionalAction, default=False,
                        help="append the figures, dated, with the machine's cores and load, to --results")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR / "ratelimiter-results.md",
                        help="the results file --record appends to")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    prefix = f"bench:rl:{uuid.uuid4().hex[:8]}:"
    print(f"rate-limiter benchmark: {os.cpu_count()} cores, Redis {args.redis}, "
          f"{args.seconds:g}s per figure\n")
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        try:
            raw = await raw_evalsha(args.redis, prefix, args.seconds)
            for figure in raw.values():
                print(figure.line())
            moving = await limits_moving_window(args.redis, prefix, args.seconds)
            print(moving.line())
            ours, engine_trips = await engine(args.redis, prefix, args.seconds, workdir)
            print(ours.line())
            payload = b"x" * 48
            echoes = await echo_ceiling(args.seconds, workdir, payload)
            echo = echoes[32]
            for figure in echoes.values():
                print(figure.line())
            served, trips1, trips32 = await sidecar_figures(args.redis, prefix, args.seconds,
                                                            workdir)
            for figure in served.values():
                print(figure.line())
        finally:
            await delete_prefix(args.redis, prefix)
    print("\nratios (ours / ceiling)")
    print(f"  engine in-process vs `limits` moving window (64):  {ratio(ours, moving)}"
          "   target >= 2x")
    print(f"  engine in-process vs raw EVALSHA (64):             {ratio(ours, raw['raw64'])}")
    print(f"  engine in-process vs raw pipelined batches of 16:  {ratio(ours, raw['raw_pipe'])}")
    print(f"  Check over gRPC vs grpc echo (32 callers):         "
          f"{ratio(served['check32'], echo)}   target >= 0.70x")
    print(f"  Check p99 at 32 callers: {served['check32'].p99_ms:.2f} ms (target < 12; echo "
          f"{echo.p99_ms:.2f}), at 1 caller: {served['check1'].p99_ms:.2f} ms (target < 1.5; "
          f"echo {echoes[1].p99_ms:.2f})")
    print(f"  Check at 1 caller vs grpc echo at 1 caller:        "
          f"{ratio(served['check1'], echoes[1])}")
    print(f"  Redis round trips per decision, engine at 64 concurrent: {engine_trips:.3f}")
    print(f"  Redis round trips per ShouldRateLimit (2 descriptors): {trips1:.3f} at 1 caller, "
          f"{trips32:.3f} at 32 callers   target <= 1")
    if args.record:
        figures = Figures(raw, moving, ours, engine_trips, echoes, served, {1: trips1, 32: trips32})
        run = (f"{args.seconds:g} s per figure; Redis {args.redis}; helper threads of sidecar and echo "
               f"under SCHED_BATCH: {'on' if sidecar_batch_helpers() else 'off'}")
        print(f"\nrecorded in {append(figures.entry(load_before, run), args.results, TITLE)}")


if __name__ == "__main__":
    asyncio.run(main())
