"""The benchmark's phases: raw ceilings, echo ceiling, RecordUsage, Deduct and GetQuota, checks."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from multiprocessing.pool import Pool
from pathlib import Path

import asyncpg
from rich.console import Console

from bench import metering_env as env
from bench import metering_raw as raw
from bench.metering_cpu import CpuMeter
from bench.metering_exactness import Books, PhaseExactness, every_phase
from bench.metering_load import LoadResult, LoadSpec, run_grpc_load
from bench.metering_report import APART, FLOORS, Check, Report

PHASES = ("raw", "echo", "usage", "deduct")
# Opt-in: K server processes (and K client processes) on one hot organization, K = 1 and 2.
SCALE_OUT = "scaleout"
ROUTED_HEARTBEAT_SECONDS = 0.5
ALL_PHASES = (*PHASES, SCALE_OUT)
console = Console(stderr=True)


@dataclass(frozen=True)
class Options:
    dsn: str
    seconds: float
    warmup: float
    client_procs: int
    batch_callers: int
    batch: int
    phases: frozenset[str]
    server_cmd: list[str] | None = None  # None: this venv's `metering serve`


@dataclass
class Run:
    options: Options
    dsn: str
    orgs: env.Orgs
    pool: Pool
    metering: env.ServerProcess
    echo: env.ServerProcess
    log_dir: Path

    async def grpc(self, label: str, kind: str, addr: str | list[str], callers: int,
                   org_id: str | list[str] = "", amount: str = "1",
                   servers: list[env.ServerProcess] | None = None) -> LoadResult:
        """One phase from the client worker processes, `callers` coroutines spread over them; with
        several addresses, client process i calls address i (one client process per server), and
        with several organizations, organization i."""
        o = self.options
        addrs = [addr] if isinstance(addr, str) else addr
        org_ids = [org_id] if isinstance(org_id, str) else org_id
        procs = len(addrs) if len(addrs) > 1 else min(o.client_procs, callers)
        base = LoadSpec(kind, addrs[0], 0, o.warmup, o.seconds, f"{kind}-{secrets.token_hex(3)}", "",
                        amount, o.batch)
        specs = [(replace(base, callers=callers // procs + (i < callers % procs), addr=addrs[i % len(addrs)],
                          org_id=(org := org_ids[i % len(org_ids)]), token=self.orgs.tokens.get(org, "")), i)
                 for i in range(procs)]
        await env.analyze(self.dsn)
        meter = await self._cpu_meter(servers).start()
        parts = await asyncio.to_thread(self.pool.starmap, run_grpc_load, specs, 1)
        result = parts[0]
        for part in parts[1:]:
            result = result.merge(part)
        result.cpu = await meter.stop(result.client_cpu)
        _progress(label, result)
        return result

    async def raw(self, label: str, conns: int,
                  load: Callable[[list[asyncpg.Connection]], Awaitable[LoadResult]]) -> LoadResult:
        async with raw.connections(self.dsn, conns) as connections:
            meter = await self._cpu_meter().start()
            result = await load(connections)
            result.cpu = await meter.stop()
        _progress(label, result)
        return result

    def _cpu_meter(self, servers: list[env.ServerProcess] | None = None) -> CpuMeter:
        pids = [s.pid for s in servers or [self.metering]] + [self.echo.pid]
        return CpuMeter(self.dsn, list(dict.fromkeys(pids)))  # an echo phase's server counted once


def _progress(label: str, result: LoadResult) -> None:
    errors = f", {result.errors} errors" if result.errors else ""
    console.log(f"{label}: {result.rate:,.0f}/s over {result.seconds:g}s ({result.calls:,} calls{errors}); "
                f"CPU server/postgres/client {result.cpu}, server {result.server_us_per_item:.0f} us/item")


async def measure(run: Run, report: Report) -> None:
    steps = (("raw", _raw), ("echo", _echo), ("usage", _usage), ("deduct", _deductions),
             (SCALE_OUT, _scale_out))
    for phase, body in steps:
        if phase in run.options.phases:
            await body(run, report)
    report.peak_rss_mb = max(report.peak_rss_mb or 0.0, run.metering.peak_rss_mb())


async def _raw(run: Run, report: Report) -> None:
    o, dsn = run.options, run.dsn
    await env.truncate_usage(dsn)
    report.raw_insert = await run.raw(
        f"raw batched insert ({o.batch_callers} conns x {o.batch:,} events)", o.batch_callers,
        lambda conns: raw.batched_insert(conns, run.orgs.usage, o.batch, o.warmup, o.seconds))
    report.raw_update = await run.raw(
        "raw one UPDATE per deduction (32 conns)", 32,
        lambda conns: raw.hot_row_updates(conns, run.orgs.raw_hot, o.warmup, o.seconds))


async def _echo(run: Run, report: Report) -> None:
    report.echo[32] = await run.grpc("grpc echo (32 callers)", "echo", run.echo.addr, 32)
    report.echo[1] = await run.grpc("grpc echo (1 caller)", "echo", run.echo.addr, 1)


async def _usage(run: Run, report: Report) -> None:
    o, addr, org = run.options, run.metering.addr, run.orgs.usage
    await env.truncate_usage(run.dsn)
    report.usage_batch = await run.grpc(f"RecordUsage batch ({o.batch_callers} callers)", "usage_batch",
                                        addr, o.batch_callers, org)
    report.usage_one = await run.grpc("RecordUsage single (32 callers)", "usage_one", addr, 32, org)
    report.per_commit["RecordUsage single events (32 callers)"] = await env.per_commit(
        run.dsn, "usage_events", org, report.usage_one.tag)


async def _deductions(run: Run, report: Report) -> None:
    addr, hot = run.metering.addr, run.orgs.hot
    phases = []
    for callers in (32, 64, 1):
        before = await _books(run, [hot])
        result = await run.grpc(f"Deduct hot org ({callers} callers)", "deduct", addr, callers, hot)
        phases.append(await _exactness(run, f"{callers} callers", [hot], before, result))
        report.deduct[callers] = result
        report.per_commit[f"Deduct ({callers} callers)"] = await env.per_commit(
            run.dsn, "deductions", hot, result.tag)
    report.checks.append(every_phase(f"Deduct exactness, {hot}", phases))
    for callers in (1, 32):
        report.quota[callers] = await run.grpc(f"GetQuota ({callers} callers)", "quota", addr, callers, hot)
    report.floors = await _floors(run)
    report.checks.append(await _small_org(run))


async def _floors(run: Run) -> dict[str, LoadResult]:
    """What one caller's GetQuota and Deduct stand on: an echo call plus GetQuota's read, and an
    echo call plus one UPDATE that commits (one WAL flush), from a server of their own."""
    floor = env.floor_server(run.dsn, run.log_dir, run.orgs)
    await asyncio.to_thread(floor.start, 30.0)
    try:
        return {rpc: await run.grpc(f"grpc echo + {label} (1 caller)", kind, floor.addr, 1, servers=[floor])
                for rpc, (kind, label) in FLOORS.items()}
    finally:
        floor.stop()


async def _scale_out(run: Run, report: Report) -> None:
    """Deduct on one hot organization from K = 1, then K = 2 server processes (one client process
    each), beside the naive one-UPDATE ceiling of the raw phase and K = 1 and K = 2 echo servers:
    two servers that each apply what they receive; the same two, each client process on an
    organization of its own (the bound: no balance row shared); then two that route the
    organization's calls to its owner replica (started for their phase only, so they take no CPU
    from the others)."""
    (run.log_dir / "echo-second").mkdir(exist_ok=True)
    second_echo = env.echo_server(run.log_dir / "echo-second")
    started = [await _start_server(run, "second")]
    try:
        await asyncio.to_thread(second_echo.start, 30.0)
        await _scale_out_echo(run, report, [run.echo, second_echo])
        hot, both = run.orgs.hot, [run.orgs.hot, run.orgs.hot_apart]
        phases = []
        for label in ("1", "2", APART, "2 routed"):
            if label == "2 routed":
                token = secrets.token_hex(16)
                started += [await _start_server(run, f"routed-{i}", token) for i in range(2)]
                await asyncio.sleep(3 * ROUTED_HEARTBEAT_SECONDS)  # each has seen the other
            two = [run.metering, started[0]]
            servers = {"1": [run.metering], "2": two, APART: two, "2 routed": started[1:]}[label]
            for callers in (32, 64):
                before = await _books(run, both)
                result = await run.grpc(f"Deduct hot org, {label} server(s) ({callers} callers)", "deduct",
                                        [s.addr for s in servers], callers, both if label == APART else hot,
                                        servers=servers)
                phases.append(await _exactness(run, f"K={label} ({callers} callers)", both, before, result))
                report.scale_out[(label, callers)] = result
                report.per_commit[f"Deduct K={label} ({callers} callers)"] = await env.per_commit(
                    run.dsn, "deductions", hot, result.tag)
        name = f"Deduct exactness, {' and '.join(both)}, K=1 and K=2 servers"
        report.checks.append(every_phase(name, phases))
        report.peak_rss_mb = max([report.peak_rss_mb or 0.0, *(s.peak_rss_mb() for s in started)])
    finally:
        for server in [*started, second_echo]:
            server.stop()


async def _scale_out_echo(run: Run, report: Report, echoes: list[env.ServerProcess]) -> None:
    """The transport's own scaling on this machine: K = 1 and K = 2 echo servers, one client
    process each, as the Deduct phases run them."""
    for k in (1, 2):
        for callers in (32, 64):
            report.scale_out_echo[(k, callers)] = await run.grpc(
                f"grpc echo, {k} server(s) ({callers} callers)", "echo", [e.addr for e in echoes[:k]],
                callers, servers=echoes[:k])


async def _start_server(run: Run, name: str, peer_token: str | None = None) -> env.ServerProcess:
    (run.log_dir / name).mkdir(exist_ok=True)
    server = env.metering_server(run.dsn, run.log_dir / name, run.options.server_cmd, peer_token=peer_token,
                                 heartbeat_seconds=ROUTED_HEARTBEAT_SECONDS)
    await asyncio.to_thread(server.start, 30.0)
    return server


async def _small_org(run: Run) -> Check:
    """32 callers asking 3 credits each of an org holding 500: all but the last 2 credits go."""
    small = run.orgs.small
    before = await _books(run, [small])
    result = await run.grpc("Deduct small org (32 callers, 3 credits each)", "deduct", run.metering.addr,
                            32, small, amount="3")
    phase = await _exactness(run, "32 callers", [small], before, result)
    left = before.available - phase.drop
    never_overdrawn = Decimal(0) <= left < 3 and result.denied > 0
    return Check(f"Deduct exactness, {small}", phase.passed and never_overdrawn,
                 f"{phase.detail}; left {left} (< 3), {result.denied:,} refused")


async def _books(run: Run, org_ids: list[str]) -> Books:
    """The organizations' credits, and what the ledger's `deduct` entries took from them."""
    taken, deductions = await env.ledger_totals(run.dsn, *org_ids)
    return Books(await env.available(run.dsn, *org_ids), taken, deductions)


async def _exactness(run: Run, label: str, org_ids: list[str], before: Books,
                     result: LoadResult) -> PhaseExactness:
    return PhaseExactness.of(label, before, await _books(run, org_ids), result)
