"""What every gRPC server of the platform carries: a port of its own, a span per RPC when
tracing is on, grpc.health.v1 and server reflection (metering server, sidecar, worker)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc
from grpc_health.v1 import _async as health_aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import aio_server_interceptor

from services.kit.observability.telemetry import tracing_enabled

HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def new_server(traced: bool = True) -> grpc.aio.Server:
    """An aio server; with `traced` and tracing configured, a span per RPC, the parent of the SQL
    and Redis spans made while serving it."""
    interceptors: list[grpc.aio.ServerInterceptor[Any, Any]] = []
    if traced and tracing_enabled():
        interceptors.append(aio_server_interceptor())  # type: ignore[no-untyped-call]
    # A port already in use must fail loudly instead of being shared through SO_REUSEPORT.
    return grpc.aio.server(options=[("grpc.so_reuseport", 0)], interceptors=interceptors)


async def add_health_and_reflection(server: grpc.aio.Server,
                                    services: Sequence[str]) -> health_aio.HealthServicer:
    """Health answers SERVING for the server ("") and each of `services`; reflection lists them."""
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    for name in ("", *services):
        await health.set(name, SERVING)
    reflection.enable_server_reflection((*services, HEALTH_SERVICE, reflection.SERVICE_NAME), server)
    return health
