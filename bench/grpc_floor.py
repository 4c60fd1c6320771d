"""The floors under one caller's GetQuota and Deduct: a grpc echo call plus one database step.

Run as `python -m bench.grpc_floor HOST:PORT DSN READ_ORG WRITE_ORG [uvloop|asyncio]
[batch-helpers]`, on the event loop and with the helper threads' scheduling policy of the
metering server it is the floor of, and with that server's kind of pool and connection return
(no reset query; the answer does not wait for the connection's return). Each call takes raw
bytes and answers them after one step, nothing else:

- `Read`: GetQuota's credit read of READ_ORG (`services.metering.store.quota`): "one echo call
  plus one read".
- `Write`: the naive ceiling's one-row `UPDATE` of WRITE_ORG's balance, which commits on its own:
  "one echo call plus one WAL flush".

A service call above its floor pays for its own work: the guard, the request's checks, the
credit book, the answer.
"""

from __future__ import annotations

import sys
from typing import Any

import asyncpg
import grpc

from bench.hot_row import HOT_UPDATE
from services.kit import event_loop
from services.kit.database import Borrowed
from services.kit.loop_thread import batch_helper_threads
from services.metering.store.quota import SELECT_CREDIT_STATUS

SERVICE = "bench.Floor"
READ_PATH, WRITE_PATH = f"/{SERVICE}/Read", f"/{SERVICE}/Write"


async def _no_reset(conn: asyncpg.Connection) -> None:
    """As the metering server's pool: a returned connection costs no reset query."""


async def serve(addr: str, dsn: str, read_org: str, write_org: str, batch_helpers: bool) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2, reset=_no_reset)

    async def read(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        async with Borrowed(pool) as conn:
            await conn.fetchrow(SELECT_CREDIT_STATUS, read_org)
        return request

    async def write(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        async with Borrowed(pool) as conn:
            await conn.execute(HOT_UPDATE, write_org)
        return request

    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    handler = grpc.method_handlers_generic_handler(
        SERVICE, {"Read": grpc.unary_unary_rpc_method_handler(read),
                  "Write": grpc.unary_unary_rpc_method_handler(write)})
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(addr)
    await server.start()
    if batch_helpers:
        batch_helper_threads()
    try:
        await server.wait_for_termination()
    finally:
        await pool.close()


if __name__ == "__main__":
    address, database, reads, writes = sys.argv[1:5]
    event_loop.run(serve(address, database, reads, writes, "batch-helpers" in sys.argv[6:]),
                   sys.argv[5] if len(sys.argv) > 5 else "asyncio")
