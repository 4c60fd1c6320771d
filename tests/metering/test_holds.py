"""Reserve / Deduct / Release: holds count against the balance at once and are never leaked."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal

import asyncpg
import grpc
import pytest

from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc
from tests.metering.ledger_checks import assert_ledger_reproduces_balances


async def _stream_response(
    stub: pb_grpc.MeteringServiceStub, org: str, n: int, rng: random.Random
) -> Decimal:
    """One streaming LLM call: reserve an estimate, deduct chunks against it, release the rest."""
    hold = await stub.Reserve(
        pb.ReserveRequest(org_id=org, idempotency_key=f"h-{n}", amount="6", ttl_seconds=60)
    )
    if not hold.granted:
        return Decimal(0)
    spent = Decimal(0)
    for chunk in range(rng.randint(1, 5)):
        answer = await stub.Deduct(
            pb.DeductRequest(org_id=org, idempotency_key=f"h-{n}-{chunk}", hold_id=hold.hold_id, amount="1.5")
        )
        if answer.granted:
            spent += Decimal(answer.amount)
    await stub.Release(pb.ReleaseRequest(org_id=org, hold_id=hold.hold_id))
    return spent


async def test_concurrent_reserve_deduct_release_never_overdraw(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org(bonus=100)  # 600 credits
    rng = random.Random(11)
    spent = await asyncio.gather(*(_stream_response(stubs[n % 3], org, n, rng) for n in range(150)))
    total = sum(spent, Decimal(0))
    assert total <= 600
    balance = await pool.fetchrow("SELECT * FROM balances WHERE org_id = $1", org)
    assert balance["reserved"] == 0
    assert balance["monthly_remaining"] + balance["bonus_remaining"] == 600 - total
    assert await pool.fetchval("SELECT count(*) FROM holds WHERE org_id = $1 AND status = 'open'", org) == 0
    async with pool.acquire() as conn:
        await assert_ledger_reproduces_balances(conn, org)


async def test_reserved_credits_are_unavailable_until_released(
    stubs: list[pb_grpc.MeteringServiceStub], make_org
) -> None:
    org = await make_org()
    hold = await stubs[0].Reserve(pb.ReserveRequest(org_id=org, idempotency_key="big", amount="450"))
    assert hold.granted and hold.balance.available == "50" and hold.balance.reserved == "450"
    refused = await stubs[1].Deduct(pb.DeductRequest(org_id=org, idempotency_key="d1", amount="60"))
    assert not refused.granted
    # A deduction against the hold may run past it: the excess comes from the balance.
    over = await stubs[2].Deduct(
        pb.DeductRequest(org_id=org, idempotency_key="d2", hold_id="big", amount="470")
    )
    assert (over.granted, over.from_hold, over.from_monthly) == (True, "450", "20")
    released = await stubs[0].Release(pb.ReleaseRequest(org_id=org, hold_id="big"))
    assert (released.released, released.already_closed) == ("0", False)
    again = await stubs[1].Release(pb.ReleaseRequest(org_id=org, hold_id="big"))
    assert again.already_closed and again.balance.available == "30"
    replay = await stubs[2].Reserve(pb.ReserveRequest(org_id=org, idempotency_key="big", amount="450"))
    assert replay.replayed and replay.hold_id == "big"


async def test_expired_hold_is_released_by_the_server_exactly_once(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    holds = [
        await stubs[n % 3].Reserve(
            pb.ReserveRequest(org_id=org, idempotency_key=f"ttl-{n}", amount="10", ttl_seconds=1)
        )
        for n in range(10)
    ]
    assert all(h.granted for h in holds)
    await asyncio.sleep(1.2)
    # Callers race the three servers' sweepers to release the same expired holds.
    await asyncio.gather(
        *(stubs[n % 3].Release(pb.ReleaseRequest(org_id=org, hold_id=f"ttl-{n % 10}")) for n in range(30))
    )
    for _ in range(50):
        if await pool.fetchval("SELECT count(*) FROM holds WHERE org_id = $1 AND status = 'open'", org) == 0:
            break
        await asyncio.sleep(0.1)
    releases = await pool.fetch(
        "SELECT hold_id, count(*) AS n, sum(amount) AS back FROM ledger_entries "
        "WHERE org_id = $1 AND kind = 'release' GROUP BY hold_id",
        org,
    )
    assert len(releases) == 10 and all(r["n"] == 1 and r["back"] == 10 for r in releases)
    balance = await pool.fetchrow("SELECT * FROM balances WHERE org_id = $1", org)
    assert (balance["monthly_remaining"], balance["reserved"]) == (500, 0)
    async with pool.acquire() as conn:
        await assert_ledger_reproduces_balances(conn, org)


async def test_unknown_hold_is_not_found_and_stores_nothing(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    for call in (
        stubs[0].Release(pb.ReleaseRequest(org_id=org, hold_id="nope")),
        stubs[0].Deduct(pb.DeductRequest(org_id=org, idempotency_key="k", hold_id="nope", amount="1")),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await call
        assert failure.value.code() == grpc.StatusCode.NOT_FOUND
        assert failure.value.details().startswith("hold_id")
    assert await pool.fetchval("SELECT count(*) FROM deductions WHERE org_id = $1", org) == 0
