"""Where the CPU went during a phase, in cores: the server under test, PostgreSQL backends, clients.

On a 2-core machine this tells a CPU-bound phase (one of them near 1.0, or all together near 2.0)
from a latency-bound one (everybody waiting on round trips and WAL flushes).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg

BACKENDS = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"


@dataclass(frozen=True)
class CpuUse:
    server: float
    postgres: float
    client: float
    server_queued: float  # the server's event-loop thread runnable but waiting for a CPU
    wall: float  # seconds the phase took, warm-up included

    def __str__(self) -> str:
        return f"{self.server:.2f}+{self.server_queued:.2f}q / {self.postgres:.2f} / {self.client:.2f}"


def run_queue_seconds(pid: int) -> float:
    """Time the process's main thread spent runnable but not running (scheduler statistics)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, all its threads included; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """Snapshot at start, difference at stop; backends that connect during the phase count in full."""

    def __init__(self, dsn: str, server_pids: list[int]) -> None:
        self._dsn = dsn
        self._servers = server_pids
        self._before: dict[int, float] = {}
        self._queued: dict[int, float] = {}
        self._own = 0.0
        self._wall = 0.0

    async def start(self) -> CpuMeter:
        self._before = {pid: cpu_seconds(pid) for pid in self._servers + await self._backends()}
        self._queued = {pid: run_queue_seconds(pid) for pid in self._servers}
        self._own = time.process_time()
        self._wall = time.perf_counter()
        return self

    async def stop(self, client_seconds: float | None = None) -> CpuUse:
        wall = time.perf_counter() - self._wall
        own = time.process_time() - self._own
        pg = sum(self._spent(pid) for pid in await self._backends())
        server = sum(self._spent(pid) for pid in self._servers)
        client = own if client_seconds is None else client_seconds
        queued = sum(run_queue_seconds(pid) - self._queued[pid] for pid in self._servers)
        return CpuUse(server / wall, pg / wall, client / wall, queued / wall, wall)

    def _spent(self, pid: int) -> float:
        return cpu_seconds(pid) - self._before.get(pid, 0.0)

    async def _backends(self) -> list[int]:
        conn = await asyncpg.connect(self._dsn)
        try:
            return [r["pid"] for r in await conn.fetch(BACKENDS)]
        finally:
            await conn.close()
