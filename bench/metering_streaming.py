"""Streaming deduction sessions beside unary Deducts: the cost of one chunk against one Deduct.

    .venv/bin/python -m bench.metering_streaming [--seconds 3] [--callers 32] [--chunks 50]

Creates its own database (dropped at the end), starts `metering serve` and the plain grpcio echo
server, then from one client process drives, with the same number of callers: the echo server's
unary call and one message on an open bidirectional stream (the transport ceilings), unary Deducts
of 1 credit on one organization, and DeductSession streams of `--chunks` chunks of 1 credit each
on the same organization (a caller opens a session, sends each chunk after the previous answer,
closes, opens the next). Prints calls (chunks) per second, latency and server CPU per call beside
each other, the ratios, and an exactness check after each of the two credit phases: the balance
dropped by exactly what the Deducts granted, then by what the sessions settled, and the stored
deductions took the same.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing
import os
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import grpc
from rich.console import Console
from rich.table import Table

from bench import metering_env as env
from bench.grpc_echo import STREAM_PATH
from bench.metering_cpu import CpuMeter
from bench.metering_exactness import Books, PhaseExactness, every_phase
from bench.metering_load import ECHO_PAYLOAD, LoadResult, LoadSpec, closed_loop, percentile, run_grpc_load
from bench.metering_report import Check
from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc

console = Console(stderr=True)
STORED = "SELECT coalesce(sum(amount), 0), count(*) FROM deductions WHERE org_id = $1 AND granted"


@dataclass(frozen=True)
class SessionSpec:
    addr: str
    callers: int
    chunks: int
    warmup: float
    seconds: float
    org_id: str
    token: str
    tag: str


class _EchoStreamCaller:
    """The transport ceiling of one chunk: a 64-byte message out and back on an open stream."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.call: Any = channel.stream_stream(STREAM_PATH, None, None)(None)  # requests written by hand

    async def __call__(self) -> tuple[int, Decimal | None]:
        await self.call.write(ECHO_PAYLOAD)
        await self.call.read()
        return 1, None


class _SessionCaller:
    """One caller: each call is one chunk; every `chunks` chunks the session settles, a new opens."""

    def __init__(self, stub: Any, spec: SessionSpec, prefix: str) -> None:
        self.stub, self.spec, self.prefix = stub, spec, prefix
        self.metadata = (("authorization", f"Bearer {spec.token}"),) if spec.token else None
        self.seq = itertools.count()
        self.call: Any = None
        self.left = 0
        self.settled = Decimal(0)
        self.refused = 0

    async def __call__(self) -> tuple[int, Decimal | None]:
        try:
            return await self._chunk()
        except grpc.RpcError:
            self.call = None  # a broken stream: the next call opens a new session
            raise

    async def _chunk(self) -> tuple[int, Decimal | None]:
        if self.call is None:
            self.call = self.stub.DeductSession(metadata=self.metadata)
            await self.call.write(pb.DeductSessionRequest(org_id=self.spec.org_id, open=pb.DeductSessionOpen(
                idempotency_key=f"{self.prefix}-{next(self.seq)}", amount=str(self.spec.chunks))))
            await self.call.read()
            self.left = self.spec.chunks
        await self.call.write(pb.DeductSessionRequest(chunk=pb.DeductSessionChunk(amount="1")))
        answer = await self.call.read()
        self.refused += not answer.chunk.granted
        self.left -= 1
        if self.left == 0:
            await self.close()
        return 1, None

    async def close(self) -> None:
        if self.call is None:
            return
        await self.call.write(pb.DeductSessionRequest(close=pb.DeductSessionClose()))
        settled = await self.call.read()
        await self.call.done_writing()
        self.settled += Decimal(settled.settled.charged)
        self.call = None


def run_session_load(spec: SessionSpec) -> LoadResult:
    """Entry point in the client worker process."""
    return asyncio.run(_session_load(spec))


def run_echo_stream_load(spec: SessionSpec) -> LoadResult:
    """Entry point in the client worker process."""
    return asyncio.run(_echo_stream_load(spec))


async def _echo_stream_load(spec: SessionSpec) -> LoadResult:
    cpu = time.process_time()
    async with grpc.aio.insecure_channel(spec.addr) as channel:
        callers = [_EchoStreamCaller(channel) for _ in range(spec.callers)]
        result = await closed_loop(list(callers), spec.warmup, spec.seconds)
        for caller in callers:
            await caller.call.done_writing()
    result.client_cpu = time.process_time() - cpu
    return result


async def _session_load(spec: SessionSpec) -> LoadResult:
    cpu = time.process_time()
    async with grpc.aio.insecure_channel(spec.addr) as channel:
        stub = pb_grpc.MeteringServiceStub(channel)  # type: ignore[no-untyped-call]
        callers = [_SessionCaller(stub, spec, f"{spec.tag}-{i}") for i in range(spec.callers)]
        result = await closed_loop(list(callers), spec.warmup, spec.seconds)
        await asyncio.gather(*(c.close() for c in callers))  # settle the sessions still open
    result.granted = sum((c.settled for c in callers), Decimal(0))
    result.denied = sum(c.refused for c in callers)
    result.client_cpu = time.process_time() - cpu
    return result


async def _measure(args: argparse.Namespace, dsn: str, orgs: env.Orgs, tmp: Path) -> list[str]:
    server_cmd = shlex.split(args.server_cmd) if args.server_cmd else None
    server, echo = env.metering_server(dsn, tmp, server_cmd), env.echo_server(tmp)
    pool = multiprocessing.get_context("spawn").Pool(1)
    try:
        await asyncio.gather(asyncio.to_thread(server.start, 30.0), asyncio.to_thread(echo.start, 30.0))
        token, org = orgs.tokens.get(orgs.hot, ""), orgs.hot
        deduct_spec = LoadSpec("deduct", server.addr, args.callers, args.warmup, args.seconds, "bench-unary",
                               org, "1", token=token)
        session_spec = SessionSpec(server.addr, args.callers, args.chunks, args.warmup, args.seconds, org,
                                   token, "bench-session")
        echo_unary = replace(deduct_spec, kind="echo", addr=echo.addr)
        echo_stream = replace(session_spec, addr=echo.addr)
        results, phases = {}, []
        for label, entry, spec, pid in (
            ("grpc echo (unary)", run_grpc_load, (echo_unary, 0), echo.pid),
            ("grpc echo stream message", run_echo_stream_load, (echo_stream,), echo.pid),
            ("Deduct (unary)", run_grpc_load, (deduct_spec, 0), server.pid),
            ("DeductSession chunk", run_session_load, (session_spec,), server.pid),
        ):
            before = await _books(dsn, org)
            meter = await CpuMeter(dsn, [pid]).start()
            result = await asyncio.to_thread(pool.apply, entry, spec)
            result.cpu = await meter.stop(result.client_cpu)
            results[label] = result
            if pid == server.pid:
                phases.append(PhaseExactness.of(label, before, await _books(dsn, org), result, "stored"))
            console.log(f"{label}: {result.rate:,.0f}/s, CPU server/postgres/client {result.cpu}")
        rows = _report(args, results, every_phase("exactness", phases), server.peak_rss_mb())
    finally:
        pool.close()
        server.stop()
        echo.stop()
    return rows


async def _books(dsn: str, org: str) -> Books:
    """The organization's credits, and what its stored deductions took (a session's settlement
    is one deduction, whose ledger entries capture its hold rather than `deduct`)."""
    conn = await asyncpg.connect(dsn)
    try:
        taken, deductions = await conn.fetchrow(STORED, org)
    finally:
        await conn.close()
    return Books(await env.available(dsn, org), taken, deductions)


# A streamed chunk must cost far less than a unary Deduct: at the same callers, a server process
# answers at least this many chunks for each Deduct.
CHUNKS_PER_DEDUCT_TARGET = 3.0


def _report(args: argparse.Namespace, results: dict[str, LoadResult], exactness: Check,
            rss: float) -> list[str]:
    table = Table(title=f"{args.callers} callers, one organization, sessions of {args.chunks} chunks")
    for column in ("call", "per second", "p50 ms", "p99 ms", "server CPU µs/call", "server cores"):
        table.add_column(column, justify="right" if column != "call" else "left")
    for label, r in results.items():
        table.add_row(label, f"{r.rate:,.0f}", f"{percentile(r.latencies, 50) * 1e3:.2f}",
                      f"{percentile(r.latencies, 99) * 1e3:.2f}", f"{r.server_us_per_item:,.0f}",
                      f"{r.cpu.server:.2f}" if r.cpu else "")
    Console(width=150).print(table)
    unary, chunk = results["Deduct (unary)"], results["DeductSession chunk"]
    echo = results["grpc echo stream message"]
    ratio = chunk.rate / unary.rate
    return [
        f"chunks per second / Deducts per second: {ratio:.2f}x (target >= {CHUNKS_PER_DEDUCT_TARGET:g}x: "
        f"{'met' if ratio >= CHUNKS_PER_DEDUCT_TARGET else 'NOT met'}); "
        f"server CPU per Deduct / per chunk: {unary.server_us_per_item / chunk.server_us_per_item:.1f}x; "
        f"chunks per second / echo stream messages per second: {chunk.rate / echo.rate:.2f}x",
        f"exactness {'PASS' if exactness.passed else 'FAIL'}, the Deducts and the sessions checked apart: "
        f"{exactness.detail}; chunks refused {chunk.denied}",
        f"server peak RSS {rss:.0f} MB; load average before/after {args.load_before:.2f}/"
        f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores",
    ]


async def main_async(args: argparse.Namespace) -> list[str]:
    args.load_before = os.getloadavg()[0]
    name = await env.create_database(args.dsn)
    try:
        dsn = env.database_dsn(args.dsn, name)
        orgs = await env.seed(dsn)
        with tempfile.TemporaryDirectory(prefix="bench-streaming-") as tmp:
            return await _measure(args, dsn, orgs, Path(tmp))
    finally:
        await env.drop_database(args.dsn, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.metering_streaming",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="PostgreSQL to create (and drop) the benchmark database in")
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each phase")
    parser.add_argument("--callers", type=int, default=32, help="concurrent callers in each phase")
    parser.add_argument("--chunks", type=int, default=50, help="chunks per session")
    parser.add_argument("--server-cmd", help="command serving metering.v1 instead of this venv's "
                        "`metering serve` (e.g. under a profiler); it gets METERING_DATABASE_URL, _GRPC_ADDR")
    lines = asyncio.run(main_async(parser.parse_args(argv)))
    for line in lines:
        print(line)
    return 0 if any("exactness PASS" in line for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
