"""A plain grpcio aio echo server: the transport ceiling of any Python gRPC service on this
machine, for both benchmarks (metering and rate limiter).

Run as `python -m bench.grpc_echo HOST:PORT [uvloop|asyncio] [batch-helpers]`, on the event loop
of the server it is the ceiling of (asyncio's by default), and with grpc's helper threads under
SCHED_BATCH when that server runs them so (services/kit/loop_thread.py); bytes in, the same bytes
out, no protobuf, no database, no Redis. `EchoStream` answers each message of a bidirectional
stream the same way.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from typing import Any

import grpc

from services.kit import event_loop
from services.kit.loop_thread import batch_helper_threads

SERVICE, METHOD = "bench.Echo", "Echo"
PATH = f"/{SERVICE}/{METHOD}"
STREAM_PATH = f"/{SERVICE}/EchoStream"


async def _echo(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
    return request


async def _echo_stream(requests: AsyncIterator[bytes],
                       context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[bytes]:
    async for request in requests:
        yield request


async def serve(addr: str, batch_helpers: bool) -> None:
    # Like the services measured against it: a port already in use fails instead of being shared.
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    handler = grpc.method_handlers_generic_handler(
        SERVICE, {METHOD: grpc.unary_unary_rpc_method_handler(_echo),
                  "EchoStream": grpc.stream_stream_rpc_method_handler(_echo_stream)})
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(addr)
    await server.start()
    if batch_helpers:
        batch_helper_threads()
    await server.wait_for_termination()


if __name__ == "__main__":
    event_loop.run(serve(sys.argv[1], "batch-helpers" in sys.argv[3:]),
                   sys.argv[2] if len(sys.argv) > 2 else "asyncio")
