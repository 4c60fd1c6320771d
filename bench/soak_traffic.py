"""The soak's mixed traffic: closed-loop callers of every hot path, counted per operation.

- RecordUsage, one event per call (the group-insert path) and batches of 100 events;
- Deduct against a hold: Reserve 5 credits, two Deducts of 1 credit naming the hold, Release;
- GetQuota;
- rate-limit Checks of the sidecar's built-in `api` domain over 500 client IPs (a share of them
  past their 100 requests a minute, so refusals are part of the mix).

Every caller finishes the flow it started before it stops, so no hold is left open.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from array import array
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import grpc

from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2 as rl_pb
from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2_grpc as rl_grpc
from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc

OPERATIONS = ("usage", "batch", "reserve", "deduct", "release", "quota", "check")
BATCH = 100
CLIENT_IPS = 500
CALL_TIMEOUT = 30.0


def percentile(samples: Any, q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a sequence of seconds; NaN when empty."""
    if not len(samples):
        return float("nan")
    ordered = sorted(samples)
    return float(ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))])


@dataclass
class OpStats:
    """One operation's calls: a window the sampler drains, and totals over the whole run."""

    window: list[float] = field(default_factory=list)  # latencies of calls ended since the last sample
    errors: int = 0
    calls: int = 0
    all_latencies: array[float] = field(default_factory=lambda: array("d"))

    def done(self, seconds: float) -> None:
        self.window.append(seconds)
        self.all_latencies.append(seconds)
        self.calls += 1

    def drain(self) -> list[float]:
        window, self.window = self.window, []
        return window


@dataclass
class Ledger:
    """What the callers were told about credits, to check against PostgreSQL at the end."""

    granted: Decimal = Decimal(0)
    denied: int = 0
    holds_released: int = 0


@dataclass
class Traffic:
    stats: dict[str, OpStats] = field(default_factory=lambda: {op: OpStats() for op in OPERATIONS})
    ledger: Ledger = field(default_factory=Ledger)
    error_samples: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Targets:
    metering_addr: str
    sidecar_addr: str
    usage_org: str
    credits_org: str
    keys: dict[str, str]  # org -> service API key


@dataclass(frozen=True)
class Mix:
    """Closed-loop callers per kind of work."""

    usage: int = 6
    batch: int = 1
    holds: int = 4
    quota: int = 2
    check: int = 6

    def scaled(self, factor: int) -> Mix:
        return Mix(*(n * factor for n in (self.usage, self.batch, self.holds, self.quota, self.check)))


async def timed(traffic: Traffic, op: str, call: Awaitable[Any]) -> Any:
    """Awaits one RPC, counting it under `op`; an error is counted and returned as None."""
    started = time.perf_counter()
    try:
        answer = await call
    except grpc.aio.AioRpcError as error:
        traffic.stats[op].errors += 1
        if len(traffic.error_samples) < 20:
            traffic.error_samples.append(f"{op}: {error.code().name} {error.details()}")
        return None
    traffic.stats[op].done(time.perf_counter() - started)
    return answer


# A caller of the metering service: (stop, stub, targets, traffic, name) -> runs until stop is set.
MeteringCaller = Callable[[asyncio.Event, Any, Targets, Traffic, str], Awaitable[None]]


def _metadata(targets: Targets, org: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {targets.keys[org]}"),)


async def usage_caller(stop: asyncio.Event, stub: Any, targets: Targets, traffic: Traffic, name: str) -> None:
    auth = _metadata(targets, targets.usage_org)
    for n in itertools.count():
        if stop.is_set():
            return
        event = pb.UsageEvent(idempotency_key=f"{name}-{n}", meter="api_requests", quantity="1")
        request = pb.RecordUsageRequest(org_id=targets.usage_org, event=event)
        await timed(traffic, "usage", stub.RecordUsage(request, metadata=auth, timeout=CALL_TIMEOUT))


async def batch_caller(stop: asyncio.Event, stub: Any, targets: Targets, traffic: Traffic, name: str) -> None:
    auth = _metadata(targets, targets.usage_org)
    for n in itertools.count():
        if stop.is_set():
            return
        request = pb.RecordUsageRequest(org_id=targets.usage_org)
        for i in range(BATCH):
            request.events.add(idempotency_key=f"{name}-{n}-{i}", meter="llm_tokens", quantity="250",
                               model="claude-sonnet-4", token_kind=pb.TOKEN_KIND_OUTPUT)
        await timed(traffic, "batch", stub.RecordUsage(request, metadata=auth, timeout=CALL_TIMEOUT))


async def hold_caller(stop: asyncio.Event, stub: Any, targets: Targets, traffic: Traffic, name: str) -> None:
    """Reserve 5, Deduct 1 twice against the hold, Release the rest: a streamed LLM response."""
    org, auth = targets.credits_org, _metadata(targets, targets.credits_org)
    for n in itertools.count():
        if stop.is_set():
            return
        hold = f"{name}-{n}"
        reserve = pb.ReserveRequest(org_id=org, idempotency_key=hold, amount="5")
        reserved = await timed(traffic, "reserve", stub.Reserve(reserve, metadata=auth, timeout=CALL_TIMEOUT))
        if reserved is None or not reserved.granted:
            continue
        for chunk in range(2):
            answer = await timed(traffic, "deduct", stub.Deduct(pb.DeductRequest(
                org_id=org, idempotency_key=f"{hold}-{chunk}", hold_id=hold, amount="1"),
                metadata=auth, timeout=CALL_TIMEOUT))
            if answer is not None:
                _account(traffic.ledger, answer)
        release = pb.ReleaseRequest(org_id=org, hold_id=hold)
        if await timed(traffic, "release", stub.Release(release, metadata=auth, timeout=CALL_TIMEOUT)):
            traffic.ledger.holds_released += 1


def _account(ledger: Ledger, answer: Any) -> None:
    if answer.granted:
        ledger.granted += Decimal(answer.amount)
    else:
        ledger.denied += 1


async def quota_caller(stop: asyncio.Event, stub: Any, targets: Targets, traffic: Traffic, name: str) -> None:
    auth = _metadata(targets, targets.credits_org)
    request = pb.GetQuotaRequest(org_id=targets.credits_org)
    while not stop.is_set():
        await timed(traffic, "quota", stub.GetQuota(request, metadata=auth, timeout=CALL_TIMEOUT))


async def check_caller(stop: asyncio.Event, stub: Any, traffic: Traffic, offset: int) -> None:
    for n in itertools.count(offset * 7919):
        if stop.is_set():
            return
        ip = f"10.77.{n % CLIENT_IPS // 250}.{n % 250}"
        request = rl_pb.CheckRequest(domain="api", descriptors=[
            rl_pb.Descriptor(entries=[rl_pb.Entry(key="remote_address", value=ip)])])
        await timed(traffic, "check", stub.Check(request, timeout=CALL_TIMEOUT))


async def run(stop: asyncio.Event, targets: Targets, mix: Mix, traffic: Traffic) -> None:
    """Runs every caller until `stop` is set; returns once each has finished its flow."""
    async with grpc.aio.insecure_channel(targets.metering_addr) as metering, \
            grpc.aio.insecure_channel(targets.sidecar_addr) as sidecar:
        stub = pb_grpc.MeteringServiceStub(metering)  # type: ignore[no-untyped-call]
        checks = rl_grpc.RateLimiterStub(sidecar)  # type: ignore[no-untyped-call]
        kinds: tuple[tuple[str, int, MeteringCaller], ...] = (
            ("u", mix.usage, usage_caller), ("b", mix.batch, batch_caller),
            ("h", mix.holds, hold_caller), ("q", mix.quota, quota_caller))
        callers = [body(stop, stub, targets, traffic, f"{kind}{i}") for kind, count, body in kinds
                   for i in range(count)]
        callers += [check_caller(stop, checks, traffic, i) for i in range(mix.check)]
        await asyncio.gather(*callers)
