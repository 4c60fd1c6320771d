"""gRPC front doors: ratelimiter.v1.RateLimiter and Envoy's RateLimitService, plus health and
reflection, on one grpc.aio server."""

from __future__ import annotations

from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import aio_server_interceptor

from ratelimiter.gen.envoy.service.ratelimit.v3 import rls_pb2, rls_pb2_grpc
from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2, ratelimiter_pb2_grpc
from ratelimiter.limiter import Limiter
from ratelimiter.model import InvalidArgument
from ratelimiter.transport import check_v1, envoy_rls
from services.observability.telemetry import tracing_enabled

CHECK_SERVICE = ratelimiter_pb2.DESCRIPTOR.services_by_name["RateLimiter"].full_name
RLS_SERVICE = rls_pb2.DESCRIPTOR.services_by_name["RateLimitService"].full_name


class RateLimiterServicer(ratelimiter_pb2_grpc.RateLimiterServicer):
    def __init__(self, limiter: Limiter) -> None:
        self.limiter = limiter

    async def Check(
        self, request: ratelimiter_pb2.CheckRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> ratelimiter_pb2.CheckResponse:
        try:
            decision = await self.limiter.decide(check_v1.parse(request))
        except InvalidArgument as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        return check_v1.render(decision)


class RateLimitServiceServicer(rls_pb2_grpc.RateLimitServiceServicer):
    def __init__(self, limiter: Limiter) -> None:
        self.limiter = limiter

    async def ShouldRateLimit(
        self, request: rls_pb2.RateLimitRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> rls_pb2.RateLimitResponse:
        try:
            decision = await self.limiter.decide(envoy_rls.parse(request))
        except InvalidArgument as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        return envoy_rls.render(decision)


async def build_server(limiter: Limiter, address: str) -> tuple[grpc.aio.Server, int]:
    """The server, not yet started, and the port it bound (address may end in :0)."""
    interceptors = []
    if tracing_enabled():
        # A span per decision RPC, the parent of the Redis spans it caused.
        interceptors.append(aio_server_interceptor())  # type: ignore[no-untyped-call]
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)], interceptors=interceptors)
    ratelimiter_pb2_grpc.add_RateLimiterServicer_to_server(  # type: ignore[no-untyped-call]
        RateLimiterServicer(limiter), server)
    rls_pb2_grpc.add_RateLimitServiceServicer_to_server(  # type: ignore[no-untyped-call]
        RateLimitServiceServicer(limiter), server)
    health_servicer = health.aio.HealthServicer()  # type: ignore[attr-defined]
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", CHECK_SERVICE, RLS_SERVICE):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (CHECK_SERVICE, RLS_SERVICE, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    try:
        port = server.add_insecure_port(address)
    except RuntimeError:
        raise OSError(f"cannot listen for gRPC on {address} (in use?)") from None
    return server, port

