"""SIGTERM drains in-flight calls: none is lost, and an unanswered one is safe to retry elsewhere."""

from __future__ import annotations

import asyncio
import signal

import asyncpg
import grpc

from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc
from tests.metering.clients import aio_channel
from tests.metering.conftest import start_server


async def test_sigterm_finishes_in_flight_deductions_and_exits_cleanly(
    database_url: str,
    platform_key: str,
    stubs: list[pb_grpc.MeteringServiceStub],
    pool: asyncpg.Pool,
    make_org,
) -> None:
    org = await make_org(bonus=10_000)
    addr, proc = start_server(database_url, METERING_SHUTDOWN_GRACE_SECONDS="5")
    answers: dict[str, pb.DeductResponse | grpc.StatusCode] = {}
    async with aio_channel(addr, platform_key) as channel:
        stub = pb_grpc.MeteringServiceStub(channel)

        async def caller(n: int) -> None:
            for i in range(400):
                key = f"g-{n}-{i}"
                try:
                    answers[key] = await stub.Deduct(
                        pb.DeductRequest(org_id=org, idempotency_key=key, amount="1"), timeout=10
                    )
                except grpc.aio.AioRpcError as error:
                    answers[key] = error.code()
                    return

        callers = [asyncio.create_task(caller(n)) for n in range(16)]
        await asyncio.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        await asyncio.gather(*callers)
    assert await asyncio.to_thread(proc.wait, 15) == 0
    failed = {k: code for k, code in answers.items() if isinstance(code, grpc.StatusCode)}
    assert set(failed.values()) <= {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED}
    answered = [k for k, a in answers.items() if isinstance(a, pb.DeductResponse)]
    assert len(answered) > 50
    stored = {
        r["idempotency_key"]
        for r in await pool.fetch("SELECT idempotency_key FROM deductions WHERE org_id = $1", org)
    }
    assert set(answered) <= stored  # every answered deduction was committed
    # A call cut off by the shutdown is retried with its key on another replica: applied once.
    for key in failed:
        retry = await stubs[0].Deduct(pb.DeductRequest(org_id=org, idempotency_key=key, amount="1"))
        assert retry.granted
    total = await pool.fetchval("SELECT count(*) FROM deductions WHERE org_id = $1", org)
    assert total == len(answers)
