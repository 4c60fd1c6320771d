"""Replicas that route each organization's Deduct, Reserve and Release calls to one owner
replica, which applies them in its own batches (METERING_PEER_ADDR on every replica).

Ownership only groups calls: the tests race callers through every replica and check what the
balance row lock guarantees whatever the routing: no overdraft, one application per key, the
ledger reproducing the balance. A kill of an owner mid-batch is in tests/fault/test_server_kill.py.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import asyncpg
import grpc
import pytest

from devstack.supervised import ServedProcess, metering_server
from services.gen.metering.v1 import ledger_peer_pb2 as peer_pb
from services.gen.metering.v1 import ledger_peer_pb2_grpc as peer_grpc
from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc
from tests.metering.clients import aio_channel
from tests.metering.ledger_checks import assert_ledger_reproduces_balances

REPLICAS = 3
PEER_TOKEN = secrets.token_hex(16)


@pytest.fixture(scope="module")
def routed(database_url: str) -> Iterator[list[ServedProcess]]:
    servers = [metering_server(f"metering-routed-{i}", database_url, None, peer_token=PEER_TOKEN,
                               METERING_PEER_HEARTBEAT_SECONDS="0.3", METERING_NOTIFY_SECONDS="86400")
               for i in range(REPLICAS)]
    for server in servers:
        server.start(within=20.0)
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
async def routed_stubs(routed: list[ServedProcess], platform_key: str,
                       pool: asyncpg.Pool) -> AsyncIterator[list[pb_grpc.MeteringServiceStub]]:
    addrs = sorted(s.grpc_addr for s in routed)
    for _ in range(100):  # each replica has seen the others once they all beat twice
        live = await pool.fetchval(
            "SELECT array_agg(address ORDER BY address) FROM ledger_replicas "
            "WHERE heartbeat_at > statement_timestamp() - interval '0.9 seconds'")
        if live == addrs:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.7)
    channels = [aio_channel(s.grpc_addr, platform_key) for s in routed]
    yield [pb_grpc.MeteringServiceStub(c) for c in channels]
    for channel in channels:
        await channel.close()


async def test_calls_received_by_every_replica_are_applied_together_by_the_owner(
    routed_stubs: list[pb_grpc.MeteringServiceStub], routed: list[ServedProcess], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org(bonus=1_000_000)

    async def deduct(replica: int, n: int) -> pb.DeductResponse:
        request = pb.DeductRequest(org_id=org, idempotency_key=f"via-{replica}-{n}", amount="1")
        answer: pb.DeductResponse = await routed_stubs[replica].Deduct(request, timeout=30)
        return answer

    for wave in range(5):
        calls = [deduct(r, wave * 100 + n) for r in range(REPLICAS) for n in range(30)]
        answers = await asyncio.gather(*calls)
        assert all(a.granted and not a.replayed for a in answers)
    # Rows of one transaction share its timestamp: without routing a transaction holds the calls
    # of one replica only.
    rows = await pool.fetch("SELECT created_at, idempotency_key FROM deductions WHERE org_id = $1", org)
    replicas_per_transaction: dict[object, set[str]] = defaultdict(set)
    for row in rows:
        replicas_per_transaction[row["created_at"]].add(row["idempotency_key"].split("-")[1])
    assert len(rows) == 5 * REPLICAS * 30
    assert max(len(r) for r in replicas_per_transaction.values()) == REPLICAS
    async with pool.acquire() as conn:
        await assert_ledger_reproduces_balances(conn, org)


async def test_routed_deductions_never_overdraw(
    routed_stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()  # the free plan's 500 credits
    requests = [pb.DeductRequest(org_id=org, idempotency_key=f"d-{n}", amount="3") for n in range(240)]
    answers = await asyncio.gather(*(routed_stubs[n % REPLICAS].Deduct(r, timeout=30)
                                     for n, r in enumerate(requests)))
    granted = sum(Decimal(a.amount) for a in answers if a.granted)
    assert granted == 498  # 166 deductions of 3; 2 credits left, never overdrawn
    assert all(a.denial_reason == pb.DENIAL_REASON_INSUFFICIENT_CREDITS for a in answers if not a.granted)
    assert await pool.fetchval("SELECT monthly_remaining FROM balances WHERE org_id = $1", org) == 2
    async with pool.acquire() as conn:
        await assert_ledger_reproduces_balances(conn, org)


async def test_a_retry_on_another_replica_gets_the_stored_result(
    routed_stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    request = pb.DeductRequest(org_id=org, idempotency_key="once", amount="7")
    first, *retries = [await stub.Deduct(request, timeout=30) for stub in routed_stubs]
    assert first.granted and not first.replayed
    for retry in retries:
        assert retry.replayed
        assert (retry.amount, retry.balance, retry.created_at) == (
            first.amount, first.balance, first.created_at)
    assert await pool.fetchval("SELECT period_used FROM balances WHERE org_id = $1", org) == 7


async def test_holds_reserved_through_one_replica_are_released_through_another_once(
    routed_stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    reserved = await routed_stubs[0].Reserve(
        pb.ReserveRequest(org_id=org, idempotency_key="h-1", amount="40", ttl_seconds=60), timeout=30)
    assert reserved.granted and reserved.balance.reserved == "40"
    releases = await asyncio.gather(*(stub.Release(pb.ReleaseRequest(org_id=org, hold_id="h-1"), timeout=30)
                                      for stub in routed_stubs[1:] for _ in range(3)))
    assert sum(not r.already_closed for r in releases) == 1
    assert sum(Decimal(r.released) for r in releases) == 40
    assert await pool.fetchval("SELECT reserved FROM balances WHERE org_id = $1", org) == 0


async def test_errors_of_the_owner_reach_the_caller_naming_the_field(
    routed_stubs: list[pb_grpc.MeteringServiceStub], make_org
) -> None:
    org = await make_org()
    for stub in routed_stubs:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.Release(pb.ReleaseRequest(org_id=org, hold_id="never-reserved"), timeout=30)
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
        assert refused.value.details().startswith("hold_id:")
    for stub in routed_stubs:
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.Deduct(pb.DeductRequest(org_id="no-such-org", idempotency_key="k", amount="1"),
                              timeout=30)
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_only_replicas_may_call_the_peer_service(routed: list[ServedProcess], platform_key: str,
                                                       make_org) -> None:
    org = await make_org(bonus=10)
    forwarded = peer_pb.ApplyOperationsRequest(operations=[peer_pb.ForwardedOperation(
        deduct=pb.DeductRequest(org_id=org, idempotency_key="k", amount="1"))])
    async with aio_channel(routed[0].grpc_addr, platform_key) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await peer_grpc.CreditLedgerPeerServiceStub(channel).ApplyOperations(forwarded, timeout=10)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    async with aio_channel(routed[0].grpc_addr, PEER_TOKEN) as channel:
        answer = await peer_grpc.CreditLedgerPeerServiceStub(channel).ApplyOperations(forwarded, timeout=10)
    assert answer.outcomes[0].deduct.granted
