"""A plain grpcio aio echo server: the transport ceiling of any Python gRPC service on this machine.

Run as `python -m bench.metering_echo HOST:PORT`; bytes in, the same bytes out, no protobuf.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import grpc


async def _echo(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
    return request


async def serve(addr: str) -> None:
    server = grpc.aio.server()
    handler = grpc.method_handlers_generic_handler(
        "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(_echo)}
    )
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(addr)
    await server.start()
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1]))
