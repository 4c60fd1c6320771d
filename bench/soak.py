"""Soak: mixed traffic against real processes for minutes, watching throughput, p99 and RSS.

    .venv/bin/python -m bench.soak [--minutes 10] [--sample-seconds 5] [--max-growth-mb 16]

Starts a private PostgreSQL cluster (system binaries, temp folder, free port; or, with `--dsn`,
creates and drops a database `metering_bench_<random>` in that server) and a private
redis-server on a free port, starts `metering serve` and `ratelimiter serve`
on free loopback ports, and drives RecordUsage (single events and batches), Reserve/Deduct/Release
flows, GetQuota and rate-limit Checks at them. Every few seconds it samples the calls per second,
the p99 of each operation and the RSS (VmRSS) of each process. It fails (exit status 1) when a
server's RSS grows beyond the limit after the warm-up (least-squares fit), when any call fails,
or when the credits the callers were granted differ from what left the balance in PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shlex
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import asyncpg
from rich.console import Console

from bench import metering_env as env
from bench import soak_traffic as traffic_mod
from bench.soak_report import (
    Check,
    Sample,
    SoakResult,
    checks_table,
    growth,
    over_time_table,
    totals_table,
    verdict_table,
)
from bench.soak_traffic import OPERATIONS, Mix, Targets, Traffic, percentile
from devstack.errors import DevError
from devstack.private_stores import PrivatePostgres, PrivateRedis
from devstack.supervised import ServedProcess, metering_server, ratelimiter_sidecar, rss_mb

DROP_TIMEOUT_SECONDS = 60
JUDGED = ("metering", "sidecar")  # our processes; redis-server's RSS is shown, not judged
console = Console(stderr=True, width=None if sys.stderr.isatty() else 150)


@dataclass(frozen=True)
class Options:
    minutes: float
    sample_seconds: float
    warmup_seconds: float
    max_growth_mb: float
    dsn: str | None  # None: a private PostgreSQL cluster
    scale: int
    rows: int
    json_path: Path | None
    server_cmd: list[str] | None  # None: this venv's `metering serve`


async def main_async(options: Options) -> SoakResult:
    async with _database(options) as dsn:
        usage_org, credits_org, keys = await _seed(dsn)
        with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
            return await _with_processes(options, dsn, usage_org, credits_org, keys, Path(tmp))


@asynccontextmanager
async def _database(options: Options) -> AsyncIterator[str]:
    """A database of the soak's own: in a private PostgreSQL cluster (default), or created in the
    server of --dsn and dropped afterwards."""
    if options.dsn is None:
        try:
            pg = PrivatePostgres()
        except DevError as error:
            raise SystemExit(f"{error}; or pass --dsn") from None
        try:
            await asyncio.to_thread(lambda: pg.init().start())
            console.log(f"private PostgreSQL {pg.bin_dir} on port {pg.port} in {pg.root}")
            conn = await asyncpg.connect(pg.dsn())
            try:
                await conn.execute('CREATE DATABASE "soak"')
            finally:
                await conn.close()
            yield pg.dsn("soak")
        finally:
            await asyncio.to_thread(pg.destroy)
        return
    name = await env.create_database(options.dsn)
    console.log(f"database {name}")
    try:
        yield env.database_dsn(options.dsn, name)
    finally:
        try:
            # A shared server can be wedged by someone else's session; never hang on it forever.
            await asyncio.wait_for(env.drop_database(options.dsn, name), DROP_TIMEOUT_SECONDS)
            console.log(f"dropped {name}")
        except TimeoutError:
            console.log(f"could not drop {name} within {DROP_TIMEOUT_SECONDS}s; drop it by hand")


async def _seed(dsn: str) -> tuple[str, str, dict[str, str]]:
    """Migrations, an organization for usage and one with credits that never run dry, and a
    service API key each (what internal callers hold)."""
    from services.kit.caller import Role
    from services.metering.store.api_keys import create_api_key
    from services.metering.store.organizations import NewOrganization, add_bonus_grant, create_organization
    from services.schema.migrations import migrate

    await migrate(dsn)
    usage_org, credits_org = "soak-usage", "soak-credits"
    conn = await asyncpg.connect(dsn)
    try:
        for org in (usage_org, credits_org):
            await create_organization(conn, NewOrganization(org, org))
        await add_bonus_grant(conn, credits_org, env.BIG_BONUS, "soak")
        keys = {org: (await create_api_key(conn, org, Role.SERVICE, "soak"))[1]
                for org in (usage_org, credits_org)}
    finally:
        await conn.close()
    return usage_org, credits_org, keys


async def _with_processes(options: Options, dsn: str, usage_org: str, credits_org: str,
                          keys: dict[str, str], tmp: Path) -> SoakResult:
    redis = PrivateRedis(tmp / "redis").start()
    metering = metering_server("metering", dsn, tmp / "metering.log", options.server_cmd)
    sidecar = ratelimiter_sidecar("sidecar", redis.url, tmp / "sidecar.log", "soak:")
    try:
        await asyncio.gather(asyncio.to_thread(metering.start), asyncio.to_thread(sidecar.start))
        console.log(f"metering pid {metering.pid} on {metering.grpc_addr}, sidecar pid {sidecar.pid} on "
                    f"{sidecar.grpc_addr}, redis-server pid {redis.pid} on {redis.port}")
        targets = Targets(metering.grpc_addr, sidecar.grpc_addr, usage_org, credits_org, keys)
        before = await env.available(dsn, credits_org)
        result, traffic = await _soak(options, targets, {"metering": metering.pid, "sidecar": sidecar.pid,
                                                         "redis": redis.pid})
        result.checks += await _credit_checks(dsn, credits_org, before, traffic)
        result.checks += _health_checks(traffic, [metering, sidecar])
        return result
    finally:
        for process in (metering, sidecar):
            if not process.alive():
                console.log(f"{process.name} died; its log ends:\n{process.log_tail()}")
            process.stop()
        redis.kill()


async def _soak(options: Options, targets: Targets, pids: dict[str, int]) -> tuple[SoakResult, Traffic]:
    traffic, stop = Traffic(), asyncio.Event()
    result = SoakResult(options.minutes, options.warmup_seconds)
    load = asyncio.create_task(traffic_mod.run(stop, targets, Mix().scaled(options.scale), traffic))
    try:
        result.samples = await _sample(options, traffic, pids, load)
    finally:
        stop.set()
        await load
    result.growth = [growth(result.samples, p, options.warmup_seconds, options.max_growth_mb) for p in JUDGED]
    result.totals = {op: {"calls": s.calls, "errors": s.errors,
                          "p50_ms": percentile(s.all_latencies, 50) * 1000,
                          "p99_ms": percentile(s.all_latencies, 99) * 1000}
                     for op, s in traffic.stats.items()}
    return result, traffic


async def _sample(options: Options, traffic: Traffic, pids: dict[str, int],
                  load: asyncio.Task[None]) -> list[Sample]:
    """A sample every `sample_seconds` until the time is up (or the load died)."""
    samples: list[Sample] = []
    start = last = time.monotonic()
    end = start + options.minutes * 60
    errors_before = 0
    while (now := time.monotonic()) < end and not load.done():
        await asyncio.sleep(min(options.sample_seconds, end - now))
        now = time.monotonic()
        windows = {op: s.drain() for op, s in traffic.stats.items()}
        errors = sum(s.errors for s in traffic.stats.values())
        sample = Sample(now - start, sum(len(w) for w in windows.values()) / (now - last),
                        {op: percentile(w, 99) * 1000 for op, w in windows.items()},
                        errors - errors_before, {name: rss_mb(pid) for name, pid in pids.items()})
        samples.append(sample)
        console.log(_progress(sample))
        last, errors_before = now, errors
    if load.done():
        load.result()  # a caller that crashed is the soak's failure, with its traceback
    return samples


def _progress(sample: Sample) -> str:
    p99 = " ".join(f"{op}={v:.0f}" for op, v in sample.p99_ms.items() if not math.isnan(v))
    rss = " ".join(f"{name}={mb:.1f}" for name, mb in sample.rss_mb.items())
    return (f"t={sample.t:5.0f}s {sample.rate:7,.0f} calls/s errors={sample.errors} p99 ms {p99} "
            f"| RSS MiB {rss}")


async def _credit_checks(dsn: str, org: str, before: Decimal, traffic: Traffic) -> list[Check]:
    """Granted to the callers = gone from the balance = stored as granted deductions; no hold left."""
    after = await env.available(dsn, org)
    conn = await asyncpg.connect(dsn)
    try:
        stored = await conn.fetchval(
            "SELECT coalesce(sum(amount), 0) FROM deductions WHERE org_id = $1 AND granted", org)
        open_holds = await conn.fetchval(
            "SELECT count(*) FROM holds WHERE org_id = $1 AND status = 'open'", org)
        reserved = await conn.fetchval("SELECT reserved FROM balances WHERE org_id = $1", org)
    finally:
        await conn.close()
    told = traffic.ledger.granted
    return [
        Check("credits exact", told == before - after == stored,
              f"granted {told}, balance drop {before - after}, stored {stored}"),
        Check("no hold left open", open_holds == 0 and reserved == 0,
              f"{open_holds} open, {reserved} reserved"),
    ]


def _health_checks(traffic: Traffic, processes: list[ServedProcess]) -> list[Check]:
    errors = sum(s.errors for s in traffic.stats.values())
    calls = {op: s.calls for op, s in traffic.stats.items()}
    return [
        Check("no failed call", errors == 0, f"{errors} errors {traffic.error_samples[:3]}"),
        Check("every operation ran", all(calls[op] > 0 for op in OPERATIONS),
              ", ".join(f"{op} {n:,}" for op, n in calls.items())),
        Check("servers alive", all(p.alive() for p in processes), ", ".join(p.name for p in processes)),
    ]


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the traffic")
    parser.add_argument("--sample-seconds", type=float, default=5.0, help="time between samples")
    parser.add_argument("--warmup-seconds", type=float, default=None,
                        help="samples before this are not judged (default: a quarter of the run, "
                             "at most 120)")
    parser.add_argument("--max-growth-mb", type=float, default=16.0,
                        help="largest fitted RSS growth per server after the warm-up")
    parser.add_argument("--dsn", default=None,
                        help="use this PostgreSQL (a database is created and dropped in it) instead of "
                             "a private cluster started from the system binaries")
    parser.add_argument("--scale", type=int, default=1, help="multiplies the number of callers of each kind")
    parser.add_argument("--rows", type=int, default=20, help="at most this many rows over time")
    parser.add_argument("--json", type=Path, default=None, help="also write samples and verdicts here")
    parser.add_argument("--server-cmd", default=None,
                        help="command serving metering.v1 instead of this venv's `metering serve` "
                             "(it reads METERING_DATABASE_URL, METERING_GRPC_ADDR, METERING_HTTP_ADDR)")
    a = parser.parse_args(argv)
    warmup = a.warmup_seconds if a.warmup_seconds is not None else min(120.0, a.minutes * 60 / 4)
    return Options(a.minutes, a.sample_seconds, warmup, a.max_growth_mb, a.dsn, a.scale, a.rows, a.json,
                   shlex.split(a.server_cmd) if a.server_cmd else None)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    # SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so every process started is stopped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    load_before = os.getloadavg()[0]
    try:
        result = asyncio.run(main_async(options))
    except KeyboardInterrupt:
        console.log("interrupted: every process started was stopped")
        return 130
    # Wide enough for every column when the output goes to a file or a CI log, not a terminal.
    out = Console(width=None if sys.stdout.isatty() else 150)
    out.print(over_time_table(result, [*JUDGED, "redis"], options.rows))
    out.print(totals_table(result))
    out.print(verdict_table(result))
    out.print(checks_table(result))
    out.print(f"load average (1 min) {load_before:.2f} before, {os.getloadavg()[0]:.2f} after; "
              f"{os.cpu_count()} CPUs shared with whatever else runs")
    out.print("PASS" if result.passed else "FAIL", style="bold green" if result.passed else "bold red")
    if options.json_path is not None:
        options.json_path.write_text(json.dumps(result.as_json(), indent=1, default=str))
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
