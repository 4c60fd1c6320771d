"""metering.v1.MeteringService/DeductSession over gRPC: one bidirectional stream per response.

The stream reads: open → the session's answer; each chunk → its answer; close (or the end of the
stream, a broken stream, or idle_timeout_seconds without a message) → the settlement. A stream
that fails (bad chunk, unknown model) settles what it granted before failing; the status names
the field, and opening the same key again answers the stored settlement.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import grpc

from services.gen.metering.v1 import metering_pb2 as pb
from services.kit import inputs
from services.kit.decimals import ZERO, format_decimal
from services.kit.errors import FieldError
from services.kit.grpc_status import UNAVAILABLE_ERRORS, abort_with_field_error
from services.kit.wire import timestamp
from services.metering.domain.credits import Deduction, Reservation
from services.metering.domain.sessions import ChunkAnswer
from services.metering.service.metering import Metering
from services.metering.service.streaming import (
    DeductionSessions,
    Session,
    SessionBusyError,
    SessionEndedError,
)
from services.metering.transport import streaming_requests
from services.metering.transport.credit_messages import DENIALS, UNITS, balance_message
from services.metering.transport.request_stream import IdleBound, RequestStream

Context = grpc.aio.ServicerContext[Any, Any]
log = logging.getLogger(__name__)


class DeductSessionServicer:
    """The DeductSession method of MeteringService (mixed into its servicer). It reads and
    writes with grpc's reader API (see request_stream); the guard hands it the requests."""

    metering: Metering

    async def DeductSession(self, requests: RequestStream, context: Context) -> None:
        try:
            await _session(self.metering.sessions, requests, context)
        except FieldError as error:
            await abort_with_field_error(context, error)
        except SessionBusyError as error:
            await context.abort(grpc.StatusCode.ABORTED, str(error))
        except SessionEndedError as error:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(error))
        except UNAVAILABLE_ERRORS as error:
            log.warning("database unavailable in DeductSession: %s", type(error).__name__)
            await context.abort(grpc.StatusCode.UNAVAILABLE,
                                "database unavailable; open the session again with the same key")
        except grpc.aio.AbortError:
            raise
        except Exception:
            log.exception("internal error in DeductSession")
            await context.abort(grpc.StatusCode.INTERNAL,
                                "internal error; open the session again with the same key")


async def _session(sessions: DeductionSessions, requests: RequestStream, context: Context) -> None:
    first = await requests.next()
    if first is None:
        return
    org = inputs.org_id(first.org_id)
    opened = await sessions.open(org, streaming_requests.opening(first))
    if isinstance(opened, Deduction):
        await context.write(pb.DeductSessionResponse(settled=_settled(opened)))
        return
    if isinstance(opened, Reservation):
        await context.write(pb.DeductSessionResponse(opened=_opened(opened)))
        return
    # Whatever ends the call (a client gone, a cancelled handler) starts the settlement.
    context.add_done_callback(lambda _: _start(opened))  # type: ignore[arg-type]  # grpc-stubs: a class
    try:
        await context.write(pb.DeductSessionResponse(opened=_opened(opened.reservation)))
        await _chunks(opened, requests, org, context)
    except BaseException:
        await asyncio.shield(opened.settle())
        raise
    # Shielded: a client that cancels ends its request stream first, then cancels this handler,
    # which must not cancel the settlement with it.
    await context.write(pb.DeductSessionResponse(settled=_settled(await asyncio.shield(opened.settle()))))


async def _chunks(session: Session, requests: RequestStream, org: str, context: Context) -> None:
    """Answers each chunk until the client closes the session or goes quiet for its idle bound."""
    silence = IdleBound(requests, session.opening.idle_timeout.total_seconds())
    try:
        async with silence:
            index = 0
            while (message := await requests.next()) is not None:
                if _closes(message, org, index):
                    return
                try:
                    cost = streaming_requests.chunk(message.chunk)
                    # Most chunks fit the hold: answered without a coroutine of their own.
                    answer = session.charge_from_hold(cost) or await session.charge(cost)
                except FieldError as error:
                    raise streaming_requests.within(error, streaming_requests.chunk_field(index)) from None
                await context.write(pb.DeductSessionResponse(chunk=_chunk(answer)))
                index += 1
    except TimeoutError:
        if not silence.expired():
            raise
        # The client went quiet: settle what it sent.


def _closes(message: pb.DeductSessionRequest, org: str, index: int) -> bool:
    """Whether the message closes the session; raises FieldError for one that is not a chunk."""
    streaming_requests.same_org(message, org)
    step = message.WhichOneof("step")
    if step == "close":
        return True
    if step == "open":
        raise FieldError("open", "a session opens once, with its first message")
    if step != "chunk":
        raise FieldError(streaming_requests.chunk_field(index), "set chunk or close")
    return False


def _start(session: Session) -> None:
    session.settle()


def _opened(r: Reservation) -> pb.DeductSessionOpened:
    return pb.DeductSessionOpened(
        hold_id=r.hold.hold_id, granted=r.granted,
        denial_reason=DENIALS[r.denial_reason] if r.denial_reason else pb.DENIAL_REASON_UNSPECIFIED,
        held=format_decimal(r.hold.amount if r.granted else ZERO), unit=UNITS[r.unit],
        expires_at=timestamp(r.hold.expires_at), balance=balance_message(r.balance),
    )


def _chunk(a: ChunkAnswer) -> pb.DeductSessionChunkResult:
    return pb.DeductSessionChunkResult(
        index=a.index, granted=a.granted,
        denial_reason=DENIALS[a.denial_reason] if a.denial_reason else pb.DENIAL_REASON_UNSPECIFIED,
        amount=format_decimal(a.amount), total=format_decimal(a.total),
        hold_remaining=format_decimal(a.hold_remaining), available=format_decimal(a.available),
        unit=UNITS[a.unit],
    )


def _settled(d: Deduction) -> pb.DeductSessionSettled:
    return pb.DeductSessionSettled(
        charged=format_decimal(d.amount), unit=UNITS[d.unit], from_hold=format_decimal(d.from_hold),
        from_monthly=format_decimal(d.from_monthly), from_bonus=format_decimal(d.from_bonus),
        balance=balance_message(d.balance), replayed=d.replayed, created_at=timestamp(d.created_at),
    )
