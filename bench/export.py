"""Usage export benchmark: 1,000,000 events exported through the real server in bounded memory.

    .venv/bin/python -m bench.export [--events 1000000] [--format csv|json] [--dsn ...]

Creates its own database, inserts the events with one INSERT … SELECT generate_series, starts a
real `metering serve`, exports them through POST /api/v1/usage/export, waits for the background
job, downloads the file (streamed, counted, not kept) and prints the export's time and size beside
a raw ceiling measured in the same run (PostgreSQL's own COPY … TO STDOUT of the same rows), and
the server's peak RSS (VmHWM) before and after. Exits 1 when the peak grew by more than the
budget (the export must not hold the events in memory).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta

import aiohttp
import asyncpg

from devstack.supervised import Supervised, metering_server, status_kb
from services.kit.caller import Role
from services.metering.store.api_keys import create_api_key
from services.metering.store.organizations import NewOrganization, create_organization
from services.schema.migrations import migrate

RSS_GROWTH_BUDGET_MB = 64.0

SEED_EVENTS = """
INSERT INTO usage_events (org_id, idempotency_key, meter, quantity, occurred_at, workspace_id, user_id,
                          source, model, token_kind)
SELECT $1, 'bench-' || i, (ARRAY['llm_tokens', 'queries', 'api_requests', 'bandwidth_gb'])[1 + i % 4],
       (i % 997) + 0.25, $2::timestamptz - (i % 2592000) * interval '1 second', 'ws-' || (i % 50),
       'user-' || (i % 200), (ARRAY['web', 'cli', 'api'])[1 + i % 3], NULL, NULL
FROM generate_series(1, $3) AS i"""

RAW_COPY = """
SELECT event_id, occurred_at, meter, quantity, workspace_id, user_id, source, model, token_kind,
       idempotency_key, recorded_at
FROM usage_events WHERE org_id = '{org}' ORDER BY occurred_at, event_id"""


def _mb(kb: float) -> str:
    return f"{kb / 1024:.1f} MB"


class _Sink:
    def __init__(self) -> None:
        self.size = 0

    async def __call__(self, data: bytes) -> None:
        self.size += len(data)


async def _seed(dsn: str, events: int) -> tuple[str, str]:
    conn = await asyncpg.connect(dsn)
    try:
        await create_organization(conn, NewOrganization("bench-export", "Export benchmark", "starter"))
        key = (await create_api_key(conn, "bench-export", Role.TENANT_ADMIN, "bench"))[1]
        now = await conn.fetchval("SELECT statement_timestamp()")
        started = time.perf_counter()
        await conn.execute(SEED_EVENTS, "bench-export", now, events)
        await conn.execute("ANALYZE usage_events")
        print(f"seeded {events:,} events in {time.perf_counter() - started:.1f}s")
        return key, now.isoformat()
    finally:
        await conn.close()


async def _raw_copy(dsn: str) -> tuple[float, int]:
    conn = await asyncpg.connect(dsn)
    try:
        sink = _Sink()
        started = time.perf_counter()
        await conn.copy_from_query(RAW_COPY.format(org="bench-export"), output=sink, format="csv",
                                   header=True)
        return time.perf_counter() - started, sink.size
    finally:
        await conn.close()


async def _export(base: str, key: str, fmt: str, now: str, pid: int) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {key}"}
    start = (datetime.fromisoformat(now) - timedelta(days=31)).isoformat()
    body = {"format": fmt, "period": {"from": start, "to": now}}
    async with aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=3600)) as session:
        started = time.perf_counter()
        async with session.post(f"{base}/api/v1/usage/export", json=body) as r:
            made = await r.json()
            assert r.status == 202, made
        peak_during = 0.0
        while True:
            peak_during = max(peak_during, status_kb(pid, "VmRSS"))
            async with session.get(f"{base}/api/v1/usage/export/{made['export_id']}") as r:
                state = await r.json()
            if state["status"] != "processing":
                break
            await asyncio.sleep(0.2)
        produced = time.perf_counter() - started
        assert state["status"] == "completed", state
        started = time.perf_counter()
        size = 0
        async with session.get(state["download_url"]) as r:
            async for chunk in r.content.iter_chunked(1 << 16):
                size += len(chunk)
        downloaded = time.perf_counter() - started
    assert size == state["file_size_bytes"], (size, state)
    return {"produced": produced, "downloaded": downloaded, "size": size, "rows": state["row_count"],
            "rss_during": peak_during}


async def main(args: argparse.Namespace) -> int:
    name = f"metering_bench_{uuid.uuid4().hex[:8]}"
    base_dsn = args.dsn.rsplit("/", 1)[0]
    dsn = f"{base_dsn}/{name}"
    admin = await asyncpg.connect(args.dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    server: Supervised | None = None
    try:
        await migrate(dsn)
        key, now = await _seed(dsn, args.events)
        raw_seconds, raw_size = await _raw_copy(dsn)
        server = metering_server("metering serve", dsn, subprocess.DEVNULL, ready_on_http="/healthz",
                                 METERING_EXPORT_POLL_SECONDS="0.5")
        await asyncio.to_thread(server.start, 20.0)
        before = status_kb(server.pid, "VmHWM")
        result = await _export(server.http_base, key, args.format, now, server.pid)
        after = status_kb(server.pid, "VmHWM")
    finally:
        if server is not None:
            server.stop(within=30)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    rows = int(result["rows"])
    print(f"\nexport of {rows:,} events ({args.format}), one server process")
    print(f"  {'':36} {'seconds':>9} {'events/s':>12} {'bytes':>14}")
    print(f"  {'raw ceiling: COPY TO STDOUT (csv)':36} {raw_seconds:9.2f} {rows / raw_seconds:12,.0f} "
          f"{raw_size:14,}")
    print(f"  {'export job (to chunks in PostgreSQL)':36} {result['produced']:9.2f} "
          f"{rows / result['produced']:12,.0f} {int(result['size']):14,}   "
          f"{raw_seconds / result['produced']:.0%} of the ceiling")
    print(f"  {'download (streamed)':36} {result['downloaded']:9.2f} {rows / result['downloaded']:12,.0f}")
    growth = after - before
    print(f"\nserver peak RSS (VmHWM): {_mb(before)} before the export, {_mb(after)} after "
          f"(+{_mb(growth)}; budget +{RSS_GROWTH_BUDGET_MB:.0f} MB); "
          f"export file {int(result['size']) / 2**20:.0f} MB")
    ok = rows == args.events and growth / 1024 <= RSS_GROWTH_BUDGET_MB
    print("PASS: bounded memory" if ok else "FAIL")
    return 0 if ok else 1


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--format", choices=("csv", "json"), default="csv")
    sys.exit(asyncio.run(main(parser.parse_args())))


if __name__ == "__main__":
    cli()
