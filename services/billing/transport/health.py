"""The worker's gRPC health service (`BILLING_GRPC_ADDR`): SERVING while its loops make progress.

Kubernetes restarts a worker whose event loop is blocked (the probe is not answered) or one of
whose jobs has been running for longer than `stuck_seconds`, a call hanging past every timeout
(NOT_SERVING). A job that fails is not stuck: it is logged and tried again on its next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator

from grpc_health.v1 import _async as health_aio

from services.kit.observability.grpc_servers import (
    NOT_SERVING,
    SERVING,
    add_health_and_reflection,
    new_server,
)
from services.kit.periodic import run_periodically


class JobWatch:
    """Which jobs are running, and since when."""

    def __init__(self, stuck_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.stuck_seconds = stuck_seconds
        self._clock = clock
        self._running: dict[str, float] = {}

    @contextlib.contextmanager
    def running(self, job: str) -> Iterator[None]:
        self._running[job] = self._clock()
        try:
            yield
        finally:
            self._running.pop(job, None)

    def stuck(self) -> list[str]:
        now = self._clock()
        return sorted(job for job, since in self._running.items() if now - since > self.stuck_seconds)


class HealthService:
    """grpc.health.v1 (and reflection) on one port, reporting the worker's JobWatch."""

    def __init__(self, watch: JobWatch, every: float = 5.0) -> None:
        self._watch = watch
        self._every = every
        # Probes every few seconds are not worth a span each.
        self._server = new_server(traced=False)
        self._health: health_aio.HealthServicer | None = None

    async def start(self, addr: str) -> None:
        """Listens on `addr`; a port that cannot be bound fails the worker's start."""
        try:
            self._server.add_insecure_port(addr)
        except RuntimeError as error:
            raise OSError(f"cannot listen on BILLING_GRPC_ADDR={addr}: {error}") from None
        self._health = await add_health_and_reflection(self._server, ())
        await self._server.start()

    async def report_until(self, stop: asyncio.Event) -> None:
        if self._health is None:
            raise RuntimeError("report_until() before start()")
        health = self._health

        async def report() -> None:
            await health.set("", NOT_SERVING if self._watch.stuck() else SERVING)

        try:
            await run_periodically("health report", report, self._every, stop, quiet=True)
        finally:
            await self._health.enter_graceful_shutdown()
            await self._server.stop(1)
