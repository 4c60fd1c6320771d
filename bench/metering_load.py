"""Closed-loop load: N concurrent callers, each issuing its next call as soon as the last returns.

`closed_loop` drives any coroutine (asyncpg or gRPC); `run_grpc_load` is the entry point of a client
worker process and builds the gRPC calls of one benchmark phase.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import grpc

from bench.grpc_echo import PATH as ECHO_PATH
from bench.grpc_floor import READ_PATH, WRITE_PATH
from bench.metering_cpu import CpuUse
from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc

ECHO_PAYLOAD = b"x" * 64  # about the size of a serialized DeductRequest

# One call: returns (items done, credits granted or None when the call spends nothing).
Call = Callable[[], Awaitable[tuple[int, Decimal | None]]]


@dataclass
class LoadResult:
    seconds: float
    calls: int = 0  # completed inside the measured window
    items: int = 0  # events written (usage) or calls, inside the window
    latencies: list[float] = field(default_factory=list)  # of calls started inside the window
    errors: int = 0  # over the whole run, warm-up included
    granted: Decimal = Decimal(0)  # over the whole run: exactness is checked against the database
    denied: int = 0  # over the whole run
    tag: str = ""  # the phase's idempotency-key prefix, to find its rows in the database
    client_cpu: float = 0.0  # CPU seconds of the client process(es)
    cpu: CpuUse | None = None
    all_items: int = 0  # warm-up included: the denominator of CPU per item

    @property
    def server_us_per_item(self) -> float:
        """Server CPU per call (per event for batches), in microseconds."""
        if self.cpu is None or not self.all_items:
            return float("nan")
        return self.cpu.server * self.cpu.wall / self.all_items * 1e6

    @property
    def rate(self) -> float:
        return self.items / self.seconds

    def merge(self, other: LoadResult) -> LoadResult:
        return LoadResult(self.seconds, self.calls + other.calls, self.items + other.items,
                          self.latencies + other.latencies, self.errors + other.errors,
                          self.granted + other.granted, self.denied + other.denied, self.tag,
                          self.client_cpu + other.client_cpu, None, self.all_items + other.all_items)


@dataclass(frozen=True)
class LoadSpec:
    kind: str  # echo | floor_read | floor_write | deduct | quota | usage_one | usage_batch
    addr: str
    callers: int  # in this process
    warmup: float
    seconds: float
    tag: str  # prefix making idempotency keys unique across phases and processes
    org_id: str = ""
    amount: str = "1"
    batch: int = 1000
    token: str = ""  # API key, sent as `authorization: Bearer` when the server asks for one

    @property
    def metadata(self) -> tuple[tuple[str, str], ...] | None:
        return (("authorization", f"Bearer {self.token}"),) if self.token else None


async def closed_loop(callers: list[Call], warmup: float, seconds: float) -> LoadResult:
    """Runs every caller until warm-up plus `seconds` have passed; measures only after warm-up."""
    result = LoadResult(seconds)
    start = time.perf_counter() + warmup
    end = start + seconds

    async def drive(call: Call) -> None:
        while (began := time.perf_counter()) < end:
            try:
                items, granted = await call()
            except grpc.RpcError:
                result.errors += 1
                continue
            _account(result, granted)
            result.all_items += items
            done = time.perf_counter()
            if start <= done <= end:
                result.calls += 1
                result.items += items
            if began >= start:
                result.latencies.append(done - began)

    await asyncio.gather(*(drive(c) for c in callers))
    return result


def _account(result: LoadResult, granted: Decimal | None) -> None:
    if granted is None:
        return
    if granted:
        result.granted += granted
    else:
        result.denied += 1


def run_grpc_load(spec: LoadSpec, worker: int) -> LoadResult:
    """Entry point in a client worker process."""
    return asyncio.run(_grpc_load(spec, worker))


async def _grpc_load(spec: LoadSpec, worker: int) -> LoadResult:
    cpu = time.process_time()
    async with grpc.aio.insecure_channel(spec.addr) as channel:
        await asyncio.wait_for(channel.channel_ready(), 10)
        callers = [_make_call(channel, spec, f"{spec.tag}-{worker}-{i}") for i in range(spec.callers)]
        result = await closed_loop(callers, spec.warmup, spec.seconds)
    result.tag = spec.tag
    result.client_cpu = time.process_time() - cpu
    return result


def _make_call(channel: grpc.aio.Channel, spec: LoadSpec, prefix: str) -> Call:
    makers: dict[str, Callable[[grpc.aio.Channel, LoadSpec, str], Call]] = {
        "echo": _raw_call(ECHO_PATH),
        "floor_read": _raw_call(READ_PATH), "floor_write": _raw_call(WRITE_PATH),
        "deduct": _deduct_call, "quota": _quota_call,
        "usage_one": _usage_one_call, "usage_batch": _usage_batch_call,
    }
    return makers[spec.kind](channel, spec, prefix)


def _raw_call(path: str) -> Callable[[grpc.aio.Channel, LoadSpec, str], Call]:
    """Calls of `path` with raw bytes both ways: the echo server's, or a floor's (an echo call
    plus one database step, bench.grpc_floor)."""
    def make(channel: grpc.aio.Channel, spec: LoadSpec, prefix: str) -> Call:
        method = channel.unary_unary(path, None, None)

        async def call() -> tuple[int, Decimal | None]:
            await method(ECHO_PAYLOAD)
            return 1, None

        return call

    return make


def _deduct_call(channel: grpc.aio.Channel, spec: LoadSpec, prefix: str) -> Call:
    stub = pb_grpc.MeteringServiceStub(channel)  # type: ignore[no-untyped-call]
    seq = itertools.count()

    async def call() -> tuple[int, Decimal | None]:
        request = pb.DeductRequest(org_id=spec.org_id, idempotency_key=f"{prefix}-{next(seq)}",
                                   amount=spec.amount)
        response: Any = await stub.Deduct(request, metadata=spec.metadata)
        return 1, Decimal(response.amount) if response.granted else Decimal(0)

    return call


def _quota_call(channel: grpc.aio.Channel, spec: LoadSpec, prefix: str) -> Call:
    stub = pb_grpc.MeteringServiceStub(channel)  # type: ignore[no-untyped-call]
    request = pb.GetQuotaRequest(org_id=spec.org_id)

    async def call() -> tuple[int, Decimal | None]:
        await stub.GetQuota(request, metadata=spec.metadata)
        return 1, None

    return call


def _usage_one_call(channel: grpc.aio.Channel, spec: LoadSpec, prefix: str) -> Call:
    stub = pb_grpc.MeteringServiceStub(channel)  # type: ignore[no-untyped-call]
    seq = itertools.count()

    async def call() -> tuple[int, Decimal | None]:
        event = pb.UsageEvent(idempotency_key=f"{prefix}-{next(seq)}", meter="api_requests", quantity="1")
        response: Any = await stub.RecordUsage(pb.RecordUsageRequest(org_id=spec.org_id, event=event),
                                              metadata=spec.metadata)
        return response.accepted, None

    return call


def _usage_batch_call(channel: grpc.aio.Channel, spec: LoadSpec, prefix: str) -> Call:
    stub = pb_grpc.MeteringServiceStub(channel)  # type: ignore[no-untyped-call]
    seq = itertools.count()

    async def call() -> tuple[int, Decimal | None]:
        n = next(seq)
        request = pb.RecordUsageRequest(org_id=spec.org_id)
        for i in range(spec.batch):
            request.events.add(idempotency_key=f"{prefix}-{n}-{i}", meter="api_requests", quantity="1")
        response: Any = await stub.RecordUsage(request, metadata=spec.metadata)
        return response.accepted, None

    return call


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile, q in 0..100."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))
    return ordered[rank]
