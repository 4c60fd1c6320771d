"""The metering server process: PostgreSQL pool, gRPC server, health, reflection, hold sweeper."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from typing import Any

import asyncpg
import grpc
from grpc_health.v1 import _async as health_aio

from services.app.config import ServerConfig
from services.app.reporting import Reporting
from services.billing.transport.registration import BILLING_SERVICE_NAMES, add_billing_servicers
from services.gen.metering.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    ledger_peer_pb2,
    ledger_peer_pb2_grpc,
    metering_pb2,
    metering_pb2_grpc,
    reporting_pb2,
)
from services.kit.config import redact_dsn
from services.kit.database import keep_trying
from services.kit.event_loop import running_loop
from services.kit.loop_thread import batch_helper_threads
from services.kit.observability.grpc_servers import add_health_and_reflection, new_server
from services.kit.periodic import run_periodically
from services.metering.service.alert_delivery import AlertCourier, SmtpSettings
from services.metering.service.metering import Metering
from services.metering.service.replicas import Replicas
from services.metering.store.api_keys import KeyRing
from services.metering.transport.admin_servicer import AdminServicer
from services.metering.transport.grpc_servicer import MeteringServicer
from services.metering.transport.guard import GuardedServer
from services.metering.transport.peers import Peers, PeerServicer

log = logging.getLogger(__name__)

SERVICE_NAMES = (
    metering_pb2.DESCRIPTOR.services_by_name["MeteringService"].full_name,
    admin_pb2.DESCRIPTOR.services_by_name["MeteringAdminService"].full_name,
    reporting_pb2.DESCRIPTOR.services_by_name["ReportingService"].full_name,
    ledger_peer_pb2.DESCRIPTOR.services_by_name["CreditLedgerPeerService"].full_name,
    *BILLING_SERVICE_NAMES,
)


async def serve(config: ServerConfig, stop: asyncio.Event | None = None) -> None:
    """Runs until `stop` is set (or SIGTERM/SIGINT arrives), then drains in-flight calls."""
    if stop is None:
        # Only a server that owns its process takes over its stop signals; an embedding caller
        # (metering dev) passes its own event.
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
    pool = await keep_trying(
        lambda: asyncpg.create_pool(config.database_url, min_size=config.pool_min_size,
                                    max_size=config.pool_max_size, reset=_keep_session),
        config.db_connect_seconds, stop,
    )
    if pool is None:
        return  # stopped before the database came back
    try:
        metering = Metering(pool, config.batch_wait_seconds)
        keys = KeyRing(pool)
        reporting = Reporting(pool, keys, config)
        replicas = (Replicas(pool, config.peer_addr, config.peer_heartbeat_seconds)
                    if config.peer_addr else None)
        peers = Peers(replicas, config.peer_token) if replicas else None
        server, health_servicer = await _build_server(metering, keys, reporting, peers, config.peer_token)
        server.add_insecure_port(config.grpc_addr)
        await server.start()
        await reporting.start()
        batched = batch_helper_threads() if config.batch_helper_threads else 0
        log.info("metering gRPC listening on %s (database %s, event loop %s, %d helper threads "
                 "SCHED_BATCH)", config.grpc_addr, redact_dsn(config.database_url), running_loop(), batched)
        # Long-lived start-up objects need no collecting; fewer, larger young-generation sweeps
        # keep the collector off the hot path.
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
        courier = AlertCourier(pool, SmtpSettings(config.smtp_host, config.smtp_port, config.smtp_sender))
        background = [
            asyncio.create_task(run_periodically("release expired holds", metering.ledger.expire_lapsed_holds,
                                                 config.hold_sweep_seconds)),
            asyncio.create_task(run_periodically("deliver alerts", courier.deliver_due,
                                                 config.notify_seconds)),
        ]
        if replicas:
            background.append(asyncio.create_task(run_periodically(
                "replica heartbeat", replicas.beat, config.peer_heartbeat_seconds)))
        await stop.wait()
        log.info("shutting down: draining in-flight calls")
        await health_servicer.enter_graceful_shutdown()
        if replicas:
            with contextlib.suppress(Exception):  # the others stop counting on it within 3 heartbeats
                await replicas.leave()
        await reporting.stop()
        await server.stop(config.shutdown_grace_seconds)
        await metering.sessions.wait_settled()
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await courier.close()
        if peers:
            await peers.close()
    finally:
        await pool.close()


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Skips asyncpg's per-release reset query (a round trip per call): the server sets no
    session state, listens to nothing and takes no advisory locks on pooled connections; asyncpg
    still rolls back a transaction left open."""


async def _build_server(metering: Metering, keys: KeyRing, reporting: Reporting, peers: Peers | None,
                        peer_token: str) -> tuple[grpc.aio.Server, health_aio.HealthServicer]:
    server = new_server()
    guarded: Any = GuardedServer(server, keys, peer_token)
    metering_pb2_grpc.add_MeteringServiceServicer_to_server(  # type: ignore[no-untyped-call]
        MeteringServicer(metering, peers), guarded
    )
    ledger_peer_pb2_grpc.add_CreditLedgerPeerServiceServicer_to_server(  # type: ignore[no-untyped-call]
        PeerServicer(metering), guarded
    )
    admin_pb2_grpc.add_MeteringAdminServiceServicer_to_server(  # type: ignore[no-untyped-call]
        AdminServicer(metering.pool, keys), guarded
    )
    reporting.add_to(guarded)
    add_billing_servicers(guarded, metering.pool)
    guarded.check_complete()
    health_servicer = await add_health_and_reflection(server, SERVICE_NAMES)
    return server, health_servicer
