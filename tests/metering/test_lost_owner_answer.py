"""A replica whose forwarded call was applied by the owner, but whose answer never came back,
answers UNAVAILABLE rather than a replay, and the caller's retry gets the stored result."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg
import grpc
import pytest

from devstack.ports import free_addr
from services.gen.metering.v1 import ledger_peer_pb2 as peer_pb
from services.gen.metering.v1 import ledger_peer_pb2_grpc as peer_grpc
from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc
from services.metering.service.metering import Metering
from services.metering.service.replicas import Replicas
from services.metering.transport.grpc_servicer import MeteringServicer
from services.metering.transport.peers import Peers, PeerServicer


class OwnerLosingItsFirstAnswer(PeerServicer):
    """The owner's real peer service, whose connection drops after it applied the first batch
    forwarded to it (as when it is killed between its commit and its answer)."""

    lost_one = False

    async def ApplyOperations(self, request: peer_pb.ApplyOperationsRequest,
                              context: Any) -> peer_pb.ApplyOperationsResponse:
        response = await super().ApplyOperations(request, context)
        if not self.lost_one:
            self.lost_one = True
            await context.abort(grpc.StatusCode.UNAVAILABLE, "connection reset")
        return response


@dataclass
class Pair:
    forwarder: pb_grpc.MeteringServiceStub
    owner_addr: str
    forwarder_replicas: Replicas


@pytest.fixture
async def pair(pool: asyncpg.Pool) -> AsyncIterator[Pair]:
    owner_addr, forwarder_addr = free_addr(), free_addr()
    owner, forwarder = grpc.aio.server(), grpc.aio.server()
    peer_grpc.add_CreditLedgerPeerServiceServicer_to_server(  # type: ignore[no-untyped-call]
        OwnerLosingItsFirstAnswer(Metering(pool)), owner)
    replicas = [Replicas(pool, owner_addr, 2.0), Replicas(pool, forwarder_addr, 2.0)]
    peers = Peers(replicas[1], "peer-token")
    pb_grpc.add_MeteringServiceServicer_to_server(  # type: ignore[no-untyped-call]
        MeteringServicer(Metering(pool), peers), forwarder)
    for server, addr in ((owner, owner_addr), (forwarder, forwarder_addr)):
        server.add_insecure_port(addr)
        await server.start()
    for r in replicas:  # the owner's heartbeat first: the forwarder's view holds both
        await r.beat()
    channel = grpc.aio.insecure_channel(forwarder_addr)
    try:
        yield Pair(pb_grpc.MeteringServiceStub(channel), owner_addr, replicas[1])  # type: ignore[no-untyped-call]
    finally:
        await channel.close()
        await peers.close()
        for r in replicas:
            await r.leave()
        await forwarder.stop(None)
        await owner.stop(None)


async def test_a_call_applied_by_an_owner_whose_answer_was_lost_is_answered_once_as_applied(
    pair: Pair, pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    while pair.forwarder_replicas.owner_elsewhere(org) != pair.owner_addr:
        org = await make_org()
    request = pb.DeductRequest(org_id=org, idempotency_key="lost-answer", amount="5")

    with pytest.raises(grpc.aio.AioRpcError) as first:
        await pair.forwarder.Deduct(request)
    retry = await pair.forwarder.Deduct(request)

    assert first.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "retry with the same idempotency key" in (first.value.details() or "")
    assert (retry.granted, Decimal(retry.amount), retry.replayed) == (True, Decimal(5), True)
    balance = await pool.fetchrow(
        "SELECT monthly_remaining, period_used FROM balances WHERE org_id = $1", org)
    assert (balance["monthly_remaining"], balance["period_used"]) == (Decimal(495), Decimal(5))
    assert await pool.fetchval("SELECT count(*) FROM deductions WHERE org_id = $1", org) == 1
