"""Metering benchmark: the service's figures beside raw ceilings measured in the same run.

    .venv/bin/python -m bench.metering [--seconds 5] [--dsn postgresql://postgres@127.0.0.1:5432/postgres]
                                       [--record [--results docs/benchmarks/metering-results.md]]

Creates its own database `metering_bench_<random>` (the DSN is used for nothing else), migrates
and seeds it, starts `metering serve` and a plain grpcio echo server as subprocesses, measures
the raw ceilings (asyncpg straight to PostgreSQL; the echo server for the gRPC transport) and the
service, prints each figure beside its ceiling, then stops everything and drops the database.
With `--record` (as `make bench-metering` runs it) the figures are also appended, dated and with
the machine's cores and load, to the results file.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shlex
import sys
import tempfile
from multiprocessing.pool import Pool
from pathlib import Path

from rich.console import Console

from bench import metering_env as env
from bench.metering_phases import ALL_PHASES, PHASES, SCALE_OUT, Options, Run, console, measure
from bench.metering_report import Report
from bench.results import RESULTS_DIR, append, code_version

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
RESULTS = RESULTS_DIR / "metering-results.md"
TITLE = "Metering benchmark results"


async def main_async(options: Options) -> Report:
    report = Report(options.client_procs, options.batch_callers, options.batch, code=code_version())
    report.load_before = os.getloadavg()[0]
    name = await env.create_database(options.dsn)
    console.log(f"database {name}")
    try:
        dsn = env.database_dsn(options.dsn, name)
        orgs = await env.seed(dsn)
        with tempfile.TemporaryDirectory(prefix="bench-metering-") as tmp, \
                multiprocessing.get_context("spawn").Pool(_client_processes(options)) as pool:
            await _with_servers(options, dsn, orgs, pool, Path(tmp), report)
    finally:
        await env.drop_database(options.dsn, name)
        console.log(f"dropped {name}")
    return report


async def _with_servers(options: Options, dsn: str, orgs: env.Orgs, pool: Pool, tmp: Path,
                        report: Report) -> None:
    metering, echo = env.metering_server(dsn, tmp, options.server_cmd), env.echo_server(tmp)
    try:
        await asyncio.gather(asyncio.to_thread(metering.start, 30.0), asyncio.to_thread(echo.start, 30.0))
        console.log(f"metering server pid {metering.pid} on {metering.addr}, echo pid {echo.pid}")
        await measure(Run(options, dsn, orgs, pool, metering, echo, tmp), report)
        report.load_after = os.getloadavg()[0]
    finally:
        metering.stop()
        echo.stop()


def _client_processes(options: Options) -> int:
    """One client process per server process in the scale-out phase (K = 2), else as asked."""
    return max(options.client_procs, 2 if SCALE_OUT in options.phases else 1)


def parse_args(argv: list[str] | None = None) -> tuple[Options, Path | None]:
    """The run's options, and the results file to append to (None: print only)."""
    parser = argparse.ArgumentParser(prog="python -m bench.metering", description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=DEFAULT_DSN,
                        help="PostgreSQL to create (and drop) the benchmark database in")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each phase")
    parser.add_argument("--client-procs", type=int, default=1,
                        help="gRPC client processes (each one channel, callers spread over them)")
    parser.add_argument("--batch-callers", type=int, default=2,
                        help="concurrent callers of the 1,000-event batches, raw and service alike")
    parser.add_argument("--batch", type=int, default=1000, help="events per RecordUsage batch")
    parser.add_argument("--phases", default=",".join(PHASES),
                        help=f"comma-separated subset of {', '.join(ALL_PHASES)} (e.g. to profile one; "
                        f"{SCALE_OUT}: K=1 and K=2 server processes on one hot organization, opt-in)")
    parser.add_argument("--server-cmd", help="command serving metering.v1 instead of this venv's "
                        "`metering serve` (e.g. another build); it gets METERING_DATABASE_URL and _GRPC_ADDR")
    parser.add_argument("--record", action=argparse.BooleanOptionalAction, default=False,
                        help="append the figures, dated, with the machine's cores and load, to --results")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the results file --record appends to")
    a = parser.parse_args(argv)
    phases = frozenset(p.strip() for p in a.phases.split(",") if p.strip())
    if not phases <= set(ALL_PHASES):
        parser.error(f"--phases: unknown {', '.join(sorted(phases - set(ALL_PHASES)))}")
    server_cmd = shlex.split(a.server_cmd) if a.server_cmd else None
    options = Options(a.dsn, a.seconds, a.warmup, a.client_procs, a.batch_callers, a.batch, phases,
                      server_cmd)
    return options, (a.results if a.record else None)


def describe(options: Options) -> str:
    """The options of a run, as its results entry states them."""
    return (f"{options.seconds:g} s per phase after {options.warmup:g} s warm-up; phases "
            f"{','.join(p for p in ALL_PHASES if p in options.phases)}; {options.client_procs} client "
            f"process(es); {options.batch_callers} batch callers, {options.batch:,} events per batch; "
            f"event loop of server and echo: {env.server_loop()}; "
            f"batch wait under load (METERING_BATCH_WAIT_SECONDS): {env.server_batch_wait():g} s; "
            f"helper threads of server and echo under SCHED_BATCH (METERING_BATCH_HELPER_THREADS): "
            f"{'on' if env.server_batch_helpers() else 'off'}"
            + ("; server: " + " ".join(options.server_cmd) if options.server_cmd else ""))


def main(argv: list[str] | None = None) -> int:
    options, results = parse_args(argv)
    report = asyncio.run(main_async(options))
    out = Console() if sys.stdout.isatty() else Console(width=170)
    out.print(report.table())
    out.print(report.notes())
    if results is not None:
        out.print(f"recorded in {append(report.entry(describe(options)), results, TITLE)}")
    return 0 if all(c.passed for c in report.checks) else 1


if __name__ == "__main__":
    sys.exit(main())
