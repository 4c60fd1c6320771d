"""A plain grpcio aio echo server, the transport ceiling for the sidecar's gRPC figures.

`python -m bench.ratelimiter_echo HOST:PORT`: bytes in, the same bytes out, no protobuf, no Redis.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import grpc

SERVICE, METHOD = "bench.RateLimiterEcho", "Echo"


async def _echo(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
    return request


async def serve(address: str) -> None:
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    handler = grpc.method_handlers_generic_handler(
        SERVICE, {METHOD: grpc.unary_unary_rpc_method_handler(_echo)})
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(address)
    await server.start()
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1]))
