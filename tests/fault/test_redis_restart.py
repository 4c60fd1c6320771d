"""Redis wedged, then killed and restarted empty, under rate-limit load from many callers.

While Redis is gone every answer follows its domain's failure policy (the built-in `api` domain
fails open; a `strict` domain fails closed), marked degraded, within the configured timeout;
once Redis is back the sidecar notices by itself and enforces limits again: the 101st request of
an IP in a minute is refused. The sidecar never answers with an error.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest

from devstack.private_stores import PrivateRedis
from devstack.supervised import ratelimiter_sidecar
from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2 as pb
from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2_grpc as pb_grpc

# Generous enough that a busy CI machine does not time out a healthy Redis after the recovery
# (at 400 ms one CI run saw a pipeline time out a second after Redis was back).
TIMEOUT_MS = 1000
# Client-side slack over the sidecar's timeout: 16 callers and the sidecar share 2 busy cores.
LATENCY_SLACK_S = 0.4
CALLERS = 16
HUNG_SECONDS = 2.0
DOWN_SECONDS = 2.0
API_LIMIT = 100  # the built-in api domain: 100 requests per minute per client IP
STRICT = """
---
domain: strict
failure_mode: fail_closed
descriptors:
  - key: remote_address
    rate_limit: {unit: minute, requests_per_unit: 1000}
"""


@dataclass(frozen=True)
class Answer:
    domain: str
    started: float
    took: float
    allowed: bool
    degraded: bool


@dataclass
class Load:
    answers: list[Answer] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class Outage:
    load: Load
    wedged: float  # Redis stopped answering (SIGSTOP)
    killed: float  # Redis killed: connections refused from here on
    restarting: float  # Redis being started again, empty, on the same port
    recovered: float  # the first non-degraded answer after the restart
    enforced_before: bool
    enforced_after: bool
    sidecar_alive: bool
    store_transitions: list[str]  # the sidecar's own "store down/up" log lines, for failures


def check(domain: str, ip: str) -> pb.CheckRequest:
    return pb.CheckRequest(domain=domain, descriptors=[
        pb.Descriptor(entries=[pb.Entry(key="remote_address", value=ip)])])


async def load_until(stop: asyncio.Event, stub: pb_grpc.RateLimiterStub, load: Load) -> None:
    """Closed-loop callers over 200 IPs (many of them past their limit), both domains."""
    counter = itertools.count()

    async def caller() -> None:
        while not stop.is_set():
            n = next(counter)
            domain = "strict" if n % 4 == 0 else "api"
            started = time.monotonic()
            try:
                answer = await stub.Check(check(domain, f"10.8.{n % 200 // 100}.{n % 100}"), timeout=10)
            except grpc.aio.AioRpcError as error:
                load.errors.append(f"{error.code().name}: {error.details()}")
                continue
            load.answers.append(Answer(domain, started, time.monotonic() - started, answer.allowed,
                                       answer.degraded))

    await asyncio.gather(*(caller() for _ in range(CALLERS)))


async def enforces_the_101st(stub: pb_grpc.RateLimiterStub, redis: PrivateRedis, round_: int) -> bool:
    """101 concurrent requests of a fresh IP: exactly 100 admitted. A burst stretched past 0.5 s
    of Redis time (when a token may come back) proves nothing and is tried again with a new IP."""
    for attempt in range(5):
        ip = f"10.{20 + round_}.{attempt}.1"  # never one of the load's 10.8.x.y
        start = await asyncio.to_thread(redis.time_ms)
        answers = await asyncio.gather(*(stub.Check(check("api", ip), timeout=10)
                                         for _ in range(API_LIMIT + 1)))
        if await asyncio.to_thread(redis.time_ms) - start < 500:
            return not any(a.degraded for a in answers) and sum(a.allowed for a in answers) == API_LIMIT
    raise AssertionError("no burst of 101 checks finished within 0.5 s: machine too busy")


async def wait_recovered(load: Load, since: float, within: float) -> float:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        back = [a.started for a in load.answers if a.started >= since and not a.degraded]
        if back:
            return min(back)
        await asyncio.sleep(0.05)
    raise AssertionError(f"still degraded {within:.0f}s after Redis was back")


@pytest.fixture(scope="module")
async def outage(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Outage]:
    tmp = tmp_path_factory.mktemp("redis-restart")
    redis = PrivateRedis(tmp / "redis").start()
    config = tmp / "limits.yaml"
    config.write_text((Path(__file__).parents[2] / "ratelimiter" / "defaults.yaml").read_text() + STRICT)
    sidecar = ratelimiter_sidecar("sidecar", redis.url, tmp / "sidecar.log", "fault:", config,
                                  RATELIMITER_REDIS_TIMEOUT_MS=str(TIMEOUT_MS))
    try:
        await asyncio.to_thread(sidecar.start)
        async with grpc.aio.insecure_channel(sidecar.grpc_addr) as channel:
            outage = await _load_through_outage(pb_grpc.RateLimiterStub(channel), redis, sidecar.alive)
        outage.store_transitions = store_transitions(sidecar.log_path)
        yield outage
    finally:
        sidecar.stop()
        if redis.proc is not None and redis.proc.poll() is None:
            os.kill(redis.pid, signal.SIGCONT)
        redis.kill()


async def _load_through_outage(stub: pb_grpc.RateLimiterStub, redis: PrivateRedis,
                               alive: Callable[[], bool]) -> Outage:
    load, stop = Load(), asyncio.Event()
    traffic = asyncio.create_task(load_until(stop, stub, load))
    try:
        await asyncio.sleep(1.0)
        enforced_before = await enforces_the_101st(stub, redis, 0)
        wedged = time.monotonic()
        os.kill(redis.pid, signal.SIGSTOP)  # accepts connections, answers nothing
        await asyncio.sleep(HUNG_SECONDS)
        await asyncio.to_thread(redis.kill)
        killed = time.monotonic()
        await asyncio.sleep(DOWN_SECONDS)
        restarting = time.monotonic()
        await asyncio.to_thread(redis.start)
        recovered = await wait_recovered(load, restarting, within=15)
        await asyncio.sleep(1.0)
        enforced_after = await enforces_the_101st(stub, redis, 1)
        await asyncio.sleep(1.0)
    finally:
        stop.set()
        await traffic
    outage = Outage(load, wedged, killed, restarting, recovered, enforced_before, enforced_after, alive(),
                    store_transitions=[])
    print(summary(outage))  # shown with -s, and on a failure
    return outage


def summary(outage: Outage) -> str:
    parts = [f"redis restart: {len(outage.load.answers)} checks, {len(outage.load.errors)} errors"]
    for name, start, end in (("wedged", outage.wedged, outage.killed),
                             ("down", outage.killed, outage.restarting)):
        took = sorted(a.took for a in during(outage, start, end))
        if took:
            parts.append(f"{name}: {len(took)} answers, p99 {took[int(len(took) * 0.99)] * 1000:.0f} ms, "
                         f"max {took[-1] * 1000:.0f} ms")
    parts.append(f"enforcing again {outage.recovered - outage.restarting:.2f}s after the restart began")
    return "; ".join(parts)


def store_transitions(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if '"message": "store ' in line]


def during(outage: Outage, start: float, end: float) -> list[Answer]:
    return [a for a in outage.load.answers if a.started >= start and a.started + a.took <= end]


def test_sidecar_answers_every_check_through_a_redis_restart(outage: Outage) -> None:
    assert outage.sidecar_alive
    assert outage.load.errors == []
    assert len(outage.load.answers) > 1000


def test_redis_outage_applies_each_domains_failure_policy(outage: Outage) -> None:
    gone = during(outage, outage.wedged + TIMEOUT_MS / 1000, outage.restarting)
    assert len({a.domain for a in gone}) == 2 and len(gone) > 50
    assert all(a.degraded for a in gone)
    assert all(a.allowed for a in gone if a.domain == "api"), "api fails open"
    assert not any(a.allowed for a in gone if a.domain == "strict"), "strict fails closed"


def test_redis_outage_answers_within_the_timeout(outage: Outage) -> None:
    for name, start, end in (("wedged", outage.wedged, outage.killed),
                             ("down", outage.killed, outage.restarting)):
        took = sorted(a.took for a in during(outage, start, end))
        p99 = took[int(len(took) * 0.99)]
        assert p99 < TIMEOUT_MS / 1000 + LATENCY_SLACK_S, f"{name}: p99 {p99 * 1000:.0f} ms"


def test_limits_are_enforced_again_after_redis_is_back(outage: Outage) -> None:
    assert outage.enforced_before
    assert outage.recovered - outage.restarting < 10
    # Once recovered, it stays recovered: no degraded answer to a call started a second later.
    late = [a for a in outage.load.answers if a.started > outage.recovered + 1.0 and a.degraded]
    assert not late, (f"{len(late)} degraded answers after the recovery, the first "
                      f"{late[0].started - outage.restarting:.2f}s after the restart began; "
                      f"the sidecar logged: {outage.store_transitions}")
    assert outage.enforced_after, "the 101st request of an IP within a minute was admitted"
