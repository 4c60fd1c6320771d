"""The reporting side of a `metering serve` process: its gRPC servicer, HTTP server and jobs."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import asyncpg
import grpc
from aiohttp import web
from aiohttp.typedefs import Middleware

from services.app.config import ServerConfig
from services.gen.metering.v1 import reporting_pb2_grpc
from services.kit.periodic import run_periodically
from services.metering.store.api_keys import KeyRing
from services.reporting.service.api_metrics import ApiMetricsRecorder
from services.reporting.service.exports import Exports
from services.reporting.service.reports import Reports
from services.reporting.store.rate_limit_checks import RateLimitChecks
from services.reporting.store.rate_limits import RateLimitReader
from services.reporting.transport.grpc_servicer import ReportingServicer
from services.reporting.transport.http_api import Deps, build_app
from services.reporting.transport.rate_limiting import RateLimiting

log = logging.getLogger(__name__)
EXPORT_SWEEP_SECONDS = 60.0


class Reporting:
    def __init__(self, pool: asyncpg.Pool, keys: KeyRing, config: ServerConfig) -> None:
        self.config = config
        self.reports = Reports(pool)
        self.exports = Exports(pool, ttl=timedelta(seconds=config.export_ttl_seconds))
        self.rate_limits = RateLimitReader(config.ratelimiter_url)
        self.metrics = ApiMetricsRecorder(pool)
        self.keys = keys
        addr = config.ratelimiter_addr
        self.checks = RateLimitChecks(addr if "//" in addr else f"http://{addr}") if addr else None
        self._runner: web.AppRunner | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def add_to(self, server: grpc.aio.Server) -> None:
        reporting_pb2_grpc.add_ReportingServiceServicer_to_server(  # type: ignore[no-untyped-call]
            ReportingServicer(self.reports, self.exports, self.rate_limits, self.metrics,
                              self.config.public_url or f"http://{self.config.http_addr}"), server)

    async def start(self) -> None:
        """Serves HTTP on METERING_HTTP_ADDR and starts the export runner and metric flushes."""
        app = build_app(Deps(self.reports, self.exports, self.rate_limits, self.keys, self.metrics,
                             self.config.rate_limit_ips, self.config.client_ip_header,
                             self.config.public_url, self._middlewares()))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        host, _, port = self.config.http_addr.rpartition(":")
        await web.TCPSite(self._runner, host.strip("[]"), int(port), reuse_port=False).start()
        log.info("metering HTTP listening on %s (/api/v1, /dashboard); /api rate limited: %s",
                 self.config.http_addr, self.config.ratelimiter_addr or "no")
        self._tasks = [
            asyncio.create_task(self.exports.run(self._stop, self.config.export_poll_seconds)),
            asyncio.create_task(run_periodically("API metrics flush", self.metrics.flush,
                                                 self.config.metrics_flush_seconds, self._stop, quiet=True)),
            asyncio.create_task(run_periodically("expired exports swept", self.exports.sweep_expired,
                                                 EXPORT_SWEEP_SECONDS, self._stop)),
        ]

    def _middlewares(self) -> tuple[Middleware, ...]:
        if self.checks is None:
            return ()
        return (RateLimiting(self.checks, self.config.client_ip_header).middleware,)

    async def stop(self) -> None:
        """Stops taking HTTP requests, lets the jobs finish their round, keeps the last metrics."""
        if self._runner is not None:
            await self._runner.cleanup()
        self._stop.set()
        for task in self._tasks[1:]:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            await self.metrics.flush()
        except Exception:
            log.exception("could not store the last API metrics")
        await self.rate_limits.close()
        if self.checks is not None:
            await self.checks.close()
