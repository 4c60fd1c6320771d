"""gRPC front doors: ratelimiter.v1.RateLimiter and Envoy's RateLimitService, plus health and
reflection, on one grpc.aio server."""

from __future__ import annotations

from typing import Any

import grpc

from ratelimiter.gen.envoy.service.ratelimit.v3 import rls_pb2, rls_pb2_grpc
from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2, ratelimiter_pb2_grpc
from ratelimiter.limiter import Limiter
from ratelimiter.model import InvalidArgument
from ratelimiter.transport import check_v1, envoy_rls
from services.kit.observability.grpc_servers import add_health_and_reflection, new_server

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
    server = new_server()
    ratelimiter_pb2_grpc.add_RateLimiterServicer_to_server(  # type: ignore[no-untyped-call]
        RateLimiterServicer(limiter), server)
    rls_pb2_grpc.add_RateLimitServiceServicer_to_server(  # type: ignore[no-untyped-call]
        RateLimitServiceServicer(limiter), server)
    await add_health_and_reflection(server, (CHECK_SERVICE, RLS_SERVICE))
    try:
        port = server.add_insecure_port(address)
    except RuntimeError:
        raise OSError(f"cannot listen for gRPC on {address} (in use?)") from None
    return server, port

