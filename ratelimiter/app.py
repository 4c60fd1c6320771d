"""Wires settings, limits, Redis buckets and the front doors together, and keeps limits fresh."""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import suppress

import grpc
from aiohttp import web

from ratelimiter.config import load_limits, snapshot
from ratelimiter.limiter import Limiter
from ratelimiter.metrics import Metrics
from ratelimiter.settings import Settings
from ratelimiter.store import RedisBuckets, connect, redacted
from ratelimiter.transport.grpc_server import build_server
from ratelimiter.transport.http import build_app
from services.kit.config import ConfigError
from services.kit.loop_thread import batch_helper_threads
from services.kit.observability.telemetry import tracing_enabled
from services.kit.periodic import run_periodically

log = logging.getLogger("ratelimiter")


class Sidecar:
    """The running sidecar: gRPC and HTTP servers over one Limiter."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = Metrics()
        limits = load_limits(settings.config_path)
        self.buckets = RedisBuckets(connect(settings.redis_url, settings.redis_timeout_s),
                                    timeout_s=settings.redis_timeout_s,
                                    on_transition=self.metrics.store_transition,
                                    on_round_trip=self.metrics.store_round_trips.inc,
                                    traced=tracing_enabled())
        self.limiter = Limiter(limits, self.buckets, key_prefix=settings.key_prefix,
                               recorder=self.metrics)
        self._files = snapshot(settings.config_path)
        self._grpc: grpc.aio.Server | None = None
        self._http: web.AppRunner | None = None
        self._watch: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._grpc, _ = await build_server(self.limiter, self.settings.grpc_addr)
        await self._grpc.start()
        self._http = web.AppRunner(build_app(self.limiter, self.buckets, self.metrics),
                                   access_log=None)
        await self._http.setup()
        host, _, port = self.settings.http_addr.rpartition(":")
        await web.TCPSite(self._http, host.strip("[]"), int(port)).start()
        loop = asyncio.get_running_loop()
        with suppress(NotImplementedError):
            loop.add_signal_handler(signal.SIGHUP, self.reload)
        if self.settings.config_path is not None and self.settings.reload_interval_s > 0:
            self._watch = asyncio.create_task(self._watch_files())
        batched = batch_helper_threads() if self.settings.batch_helper_threads else 0
        log.info("serving grpc=%s http=%s redis=%s limits=%s domains=%s helper_threads_batch=%d",
                 self.settings.grpc_addr, self.settings.http_addr,
                 redacted(self.settings.redis_url), self.limiter.limits.source,
                 ",".join(sorted(self.limiter.limits.domains)), batched)

    def reload(self) -> None:
        """Swaps in the configuration from disk; a bad file keeps the limits in force."""
        try:
            limits = load_limits(self.settings.config_path)
        except ConfigError as exc:
            self.metrics.config_reloads.labels("rejected").inc()
            log.error("config reload rejected, previous limits stay in force: %s", exc)
            return
        self.limiter.limits = limits
        self.metrics.config_reloads.labels("applied").inc()
        log.info("config reloaded from %s: domains=%s", limits.source,
                 ",".join(sorted(limits.domains)))

    async def _watch_files(self) -> None:
        await run_periodically("config file watch", self._reload_if_changed,
                               self.settings.reload_interval_s, quiet=True)

    async def _reload_if_changed(self) -> None:
        current = snapshot(self.settings.config_path)
        if current != self._files:
            self._files = current
            self.reload()

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
        if self._grpc is not None:
            await self._grpc.stop(grace=1.0)
        if self._http is not None:
            await self._http.cleanup()
        await self.buckets.close()


async def serve(settings: Settings) -> None:
    """Runs until SIGINT or SIGTERM."""
    sidecar = Sidecar(settings)
    await sidecar.start()
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stopped.set)
    try:
        await stopped.wait()
    finally:
        await sidecar.stop()
