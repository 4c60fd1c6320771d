"""Three sidecar processes hammering one key: admitted <= capacity + rate x elapsed, with the
elapsed time measured on the Redis server; a replica whose wall clock is an hour off changes
nothing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
import redis

from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2 as pb
from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2_grpc as pb_grpc
from tests import stores
from tests.ratelimiter.harness import Sidecar, descriptor

BURST, RATE_PER_S = 20, 50
LIMITS = f"""\
domain: hammer
descriptors:
  - key: hot
    rate_limit: {{requests_per_unit: {RATE_PER_S}, window: 1s, burst: {BURST}}}
  - key: slow
    rate_limit: {{requests_per_unit: 1, unit: hour, burst: 5}}
"""
# Runs the sidecar with time.time() an hour ahead: the buckets must not notice.
WRONG_CLOCK = """\
import sys, time
_time, _time_ns = time.time, time.time_ns
time.time = lambda: _time() + 3600.0
time.time_ns = lambda: _time_ns() + 3_600_000_000_000
sys.argv = ["ratelimiter", *sys.argv[1:]]
from ratelimiter.cli import main
main()
"""


def redis_ms() -> int:
    seconds, micros = redis.Redis.from_url(stores.redis_url()).time()
    return int(seconds) * 1000 + int(micros) // 1000


@pytest.fixture
def replicas(tmp_path: Path, prefix: str, start_sidecar: Callable[..., Sidecar]) -> list[Sidecar]:
    config = tmp_path / "limits.yaml"
    config.write_text(LIMITS)
    env = {"RATELIMITER_REDIS_TIMEOUT_MS": "5000"}
    return [start_sidecar(prefix, config=config, extra_env=env),
            start_sidecar(prefix, config=config, extra_env=env),
            start_sidecar(prefix, config=config, extra_env=env, bootstrap=WRONG_CLOCK)]


async def hammer(replicas: list[Sidecar], *, callers_per_replica: int, max_requests: int,
                 max_seconds: float) -> tuple[int, int, int]:
    """Returns (admitted, answered, elapsed_ms by Redis TIME)."""
    request = pb.CheckRequest(domain="hammer", descriptors=[descriptor(("hot", "key"))])
    channels = [grpc.aio.insecure_channel(r.grpc_addr) for r in replicas]
    stubs = [pb_grpc.RateLimiterStub(c) for c in channels]
    counts = {"admitted": 0, "answered": 0, "degraded": 0}
    deadline = time.monotonic() + max_seconds

    async def caller(stub: pb_grpc.RateLimiterStub) -> None:
        while counts["answered"] < max_requests and time.monotonic() < deadline:
            answer = await stub.Check(request)
            counts["answered"] += 1
            counts["admitted"] += answer.allowed
            counts["degraded"] += answer.degraded

    peek = pb.CheckRequest(domain="hammer", hits=0, descriptors=[descriptor(("hot", "key"))])
    await asyncio.gather(*(s.Check(peek) for s in stubs))  # connected before the clock starts
    start = redis_ms()
    await asyncio.gather(*(caller(s) for s in stubs for _ in range(callers_per_replica)))
    elapsed = redis_ms() - start
    for channel in channels:
        await channel.close()
    assert counts["degraded"] == 0
    return counts["admitted"], counts["answered"], elapsed


async def test_three_replicas_never_admit_more_than_capacity_plus_rate_times_elapsed(
    replicas: list[Sidecar],
):
    admitted, answered, elapsed_ms = await hammer(
        replicas, callers_per_replica=16, max_requests=4000, max_seconds=3.0)
    ceiling = BURST + RATE_PER_S * elapsed_ms / 1000
    assert answered > admitted  # the key really was contended past its limit
    assert admitted <= ceiling
    # and the limiter is not refusing what it owes (slack for the callers' ramp-up and ramp-down)
    assert admitted >= ceiling - RATE_PER_S * 0.5


@pytest.mark.slow
async def test_three_replicas_hold_the_bound_over_a_longer_run(replicas: list[Sidecar]):
    admitted, answered, elapsed_ms = await hammer(
        replicas, callers_per_replica=32, max_requests=100_000, max_seconds=20.0)
    assert answered > admitted
    assert admitted <= BURST + RATE_PER_S * elapsed_ms / 1000


def test_a_replica_with_a_wrong_clock_sees_the_same_buckets(replicas: list[Sidecar]):
    right, _, wrong = (pb_grpc.RateLimiterStub(grpc.insecure_channel(r.grpc_addr))
                       for r in replicas)

    def check(stub: pb_grpc.RateLimiterStub, hits: int) -> pb.CheckResponse:
        return stub.Check(pb.CheckRequest(domain="hammer", hits=hits,
                                          descriptors=[descriptor(("slow", "k"))]))

    assert check(wrong, 3).remaining == 2
    assert check(right, 0).remaining == 2
    assert check(right, 1).remaining == 1
    assert check(wrong, 0).remaining == 1
    refused = check(wrong, 2)
    assert not refused.allowed
    # one token per hour: the wrong clock's extra hour bought nothing
    assert 3_500_000 <= refused.retry_after.ToMilliseconds() <= 3_600_000
