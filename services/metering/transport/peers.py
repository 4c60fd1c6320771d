"""Credit calls between replicas: a replica forwards the Deduct, Reserve and Release calls of the
organizations another replica owns to that owner, batched per owner, and applies the calls the
others forward to it (metering.v1.CreditLedgerPeerService).

The owner's credit ledger batches forwarded calls with its own, so one transaction takes an
organization's calls from every replica. When the owner cannot be reached, or answers that it
could not apply a call, the forwarding replica applies the call itself: the balance row lock
keeps every invariant whichever replica applies it. When the owner's answer was lost and the
call turns out to be stored already, the owner may have stored it from this very call: the
replica answers UNAVAILABLE rather than call it a replay, and the caller's retry gets the stored
result.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import grpc

from services.gen.metering.v1 import ledger_peer_pb2 as peer_pb
from services.gen.metering.v1 import ledger_peer_pb2_grpc as peer_grpc
from services.kit.errors import FieldError, NotFoundError, QuotaExceededError, RetryLater, StateConflictError
from services.kit.grpc_status import rpc
from services.metering.service.metering import Metering
from services.metering.service.replicas import Replicas
from services.metering.transport import requests
from services.metering.transport.credit_messages import deduct_response, release_response, reserve_response

log = logging.getLogger(__name__)

Context = grpc.aio.ServicerContext[Any, Any]

MAX_BATCH = 512
# Batches in flight to one owner: calls of several organizations it owns need not wait on each
# other, while the calls of one organization still meet in the owner's ledger queue.
IN_FLIGHT_PER_OWNER = 4
FORWARD_TIMEOUT_SECONDS = 10.0

ERRORS: dict[str, type[FieldError]] = {
    error.code: error for error in (FieldError, NotFoundError, QuotaExceededError, StateConflictError)
}


@dataclass(frozen=True)
class Routed:
    """Where a call is answered: by its owner (`outcome`), or by this replica."""

    outcome: peer_pb.OperationOutcome | None = None
    # Applied here after the owner's answer was lost: the owner may have applied it already.
    in_doubt: bool = False

    def check_applied_here(self, replayed: bool) -> None:
        """A call applied here that finds its key stored, after its owner's answer was lost, may
        have been stored by the owner from this very call, not by an earlier one: answering it as
        a replay would tell the caller of an earlier call it never made. The caller's retry gets
        the stored result."""
        if self.in_doubt and replayed:
            raise RetryLater("the owner replica of this organization failed with the call in flight; "
                             "retry with the same idempotency key")


HERE = Routed()


@dataclass
class _Owner:
    stub: peer_grpc.CreditLedgerPeerServiceStub
    channel: grpc.aio.Channel
    queue: list[tuple[peer_pb.ForwardedOperation, asyncio.Future[peer_pb.OperationOutcome | None]]] = (
        field(default_factory=list))
    in_flight: int = 0
    unreachable: bool = False


class Peers:
    """The forwarding side: which calls go to another replica, and sending them there."""

    def __init__(self, replicas: Replicas, token: str) -> None:
        self._replicas = replicas
        self._metadata = (("authorization", f"Bearer {token}"),)
        self._owners: dict[str, _Owner] = {}
        self._draining: set[asyncio.Task[None]] = set()  # held, so no running drain is collected

    async def forward(self, org_id: str, **operation: Any) -> Routed:
        """The owner's answer to the call (`deduct=`, `reserve=` or `release=` its request), or
        that this replica is to apply it. Raises the owner's field error."""
        address = self._replicas.owner_elsewhere(org_id)
        if address is None:
            return HERE
        future: asyncio.Future[peer_pb.OperationOutcome | None] = asyncio.get_running_loop().create_future()
        owner = self._owner(address)
        owner.queue.append((peer_pb.ForwardedOperation(**operation), future))
        if owner.in_flight < IN_FLIGHT_PER_OWNER:
            owner.in_flight += 1
            task = asyncio.get_running_loop().create_task(self._drain(address, owner))
            self._draining.add(task)
            task.add_done_callback(self._draining.discard)
        outcome = await future
        if outcome is None:  # the call failed on its way: the owner may have applied it
            return Routed(in_doubt=True)
        answered = outcome.WhichOneof("outcome")
        if answered == "error":
            e = outcome.error
            raise ERRORS.get(e.code, FieldError)(e.field, e.reason)
        if answered in operation:
            return Routed(outcome)
        # Not applied there, or an answer of another kind (a replica of another version): here.
        return Routed(in_doubt=answered != "not_applied")

    async def close(self) -> None:
        await asyncio.gather(*(owner.channel.close(None) for owner in self._owners.values()))
        self._owners.clear()

    def _owner(self, address: str) -> _Owner:
        owner = self._owners.get(address)
        if owner is None:
            channel = grpc.aio.insecure_channel(address)
            owner = self._owners[address] = _Owner(peer_grpc.CreditLedgerPeerServiceStub(channel), channel)  # type: ignore[no-untyped-call]
        return owner

    async def _drain(self, address: str, owner: _Owner) -> None:
        try:
            while owner.queue:
                batch, owner.queue = owner.queue[:MAX_BATCH], owner.queue[MAX_BATCH:]
                outcomes = await self._send(address, owner, [op for op, _ in batch])
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    if not future.done():
                        future.set_result(outcome)
        finally:
            owner.in_flight -= 1

    async def _send(self, address: str, owner: _Owner,
                    operations: list[peer_pb.ForwardedOperation]) -> list[peer_pb.OperationOutcome | None]:
        try:
            response = await owner.stub.ApplyOperations(
                peer_pb.ApplyOperationsRequest(operations=operations), metadata=self._metadata,
                timeout=FORWARD_TIMEOUT_SECONDS)
        except Exception as error:  # unreachable, too slow, or this replica shutting down
            if not owner.unreachable:
                owner.unreachable = True
                reason = (error.code().name if isinstance(error, grpc.aio.AioRpcError)
                          else type(error).__name__)
                log.warning("replica %s unreachable (%s); applying its organizations' calls here",
                            address, reason)
            return [None] * len(operations)
        if owner.unreachable:
            owner.unreachable = False
            log.info("replica %s reachable again", address)
        outcomes: list[peer_pb.OperationOutcome | None] = list(response.outcomes)
        return outcomes if len(outcomes) == len(operations) else [None] * len(operations)


class PeerServicer(peer_grpc.CreditLedgerPeerServiceServicer):
    """The owner's side: applies forwarded calls here, whatever this replica's view of the
    owners is, so that no call is forwarded twice."""

    def __init__(self, metering: Metering) -> None:
        self.metering = metering

    @rpc
    async def ApplyOperations(self, request: peer_pb.ApplyOperationsRequest,
                              context: Context) -> peer_pb.ApplyOperationsResponse:
        outcomes = await asyncio.gather(*(self._apply(op) for op in request.operations))
        return peer_pb.ApplyOperationsResponse(outcomes=outcomes)

    async def _apply(self, op: peer_pb.ForwardedOperation) -> peer_pb.OperationOutcome:
        try:
            match op.WhichOneof("operation"):
                case "deduct":
                    deduction = await self.metering.deduct(op.deduct.org_id, requests.deduct(op.deduct))
                    return peer_pb.OperationOutcome(deduct=deduct_response(deduction))
                case "reserve":
                    reservation = await self.metering.reserve(op.reserve.org_id, requests.reserve(op.reserve))
                    return peer_pb.OperationOutcome(reserve=reserve_response(reservation))
                case "release":
                    release = await self.metering.release(op.release.org_id, requests.release(op.release))
                    return peer_pb.OperationOutcome(release=release_response(release))
                case _:
                    raise FieldError("operations", "names no operation")
        except FieldError as error:
            return peer_pb.OperationOutcome(
                error=peer_pb.OperationError(code=error.code, field=error.field, reason=error.reason))
        except Exception as error:  # the forwarding replica applies the call itself
            log.warning("could not apply a forwarded call: %s", type(error).__name__)
            return peer_pb.OperationOutcome(not_applied=True)
