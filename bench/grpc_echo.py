"""A plain grpcio aio echo server: the transport ceiling of any Python gRPC service on this
machine, for both benchmarks (metering and rate limiter).

Run as `python -m bench.grpc_echo HOST:PORT`; bytes in, the same bytes out, no protobuf, no
database, no Redis.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import grpc

SERVICE, METHOD = "bench.Echo", "Echo"
PATH = f"/{SERVICE}/{METHOD}"


async def _echo(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
    return request


async def serve(addr: str) -> None:
    # Like the services measured against it: a port already in use fails instead of being shared.
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    handler = grpc.method_handlers_generic_handler(
        SERVICE, {METHOD: grpc.unary_unary_rpc_method_handler(_echo)})
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(addr)
    await server.start()
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1]))
