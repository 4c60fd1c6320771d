"""metering.v1.MeteringService/DeductSession over gRPC: one bidirectional stream per response.

The stream reads: open → the session's answer; each chunk → its answer; close (or the end of the
stream, a broken stream, or idle_timeout_seconds without a message) → the settlement. A stream
that fails (bad chunk, unknown model) settles what it granted before failing; the status names
the field, and opening the same key again answers the stored settlement.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
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

Context = grpc.aio.ServicerContext[Any, Any]
Messages = AsyncIterator[pb.DeductSessionRequest]
Answers = AsyncIterator[pb.DeductSessionResponse]
log = logging.getLogger(__name__)


class DeductSessionServicer:
    """The DeductSession method of MeteringService (mixed into its servicer)."""

    metering: Metering

    async def DeductSession(self, messages: Messages, context: Context) -> Answers:
        try:
            async for answer in _session(self.metering.sessions, messages, context):
                yield answer
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


async def _session(sessions: DeductionSessions, messages: Messages, context: Context) -> Answers:
    first = await anext(messages, None)
    if first is None:
        return
    org = inputs.org_id(first.org_id)
    opened = await sessions.open(org, streaming_requests.opening(first))
    if isinstance(opened, Deduction):
        yield pb.DeductSessionResponse(settled=_settled(opened))
        return
    if isinstance(opened, Reservation):
        yield pb.DeductSessionResponse(opened=_opened(opened))
        return
    # Whatever ends the call (a client gone, a cancelled handler) starts the settlement.
    context.add_done_callback(lambda _: _start(opened))  # type: ignore[arg-type]  # grpc-stubs: a class
    yield pb.DeductSessionResponse(opened=_opened(opened.reservation))
    try:
        async for answer in _chunks(opened, messages, org):
            yield pb.DeductSessionResponse(chunk=answer)
    except BaseException:
        await asyncio.shield(opened.settle())
        raise
    # Shielded: a client that cancels ends its request stream first, then cancels this handler,
    # which must not cancel the settlement with it.
    yield pb.DeductSessionResponse(settled=_settled(await asyncio.shield(opened.settle())))


async def _chunks(session: Session, messages: Messages,
                  org: str) -> AsyncIterator[pb.DeductSessionChunkResult]:
    silence = asyncio.timeout(None)
    try:
        async with silence:
            async for answer in _answers(session, messages, org, silence):
                yield answer
    except TimeoutError:
        if not silence.expired():
            raise
        # The client went quiet: settle what it sent.


async def _answers(session: Session, messages: Messages, org: str,
                   silence: asyncio.Timeout) -> AsyncIterator[pb.DeductSessionChunkResult]:
    loop = asyncio.get_running_loop()
    idle = session.opening.idle_timeout.total_seconds()
    index = 0
    while True:
        # One deadline re-armed around each read (a new timeout per read costs several times more).
        silence.reschedule(loop.time() + idle)
        message = await anext(messages, None)
        silence.reschedule(None)
        if message is None:
            return
        streaming_requests.same_org(message, org)
        step = message.WhichOneof("step")
        if step == "close":
            return
        if step == "open":
            raise FieldError("open", "a session opens once, with its first message")
        if step != "chunk":
            raise FieldError(streaming_requests.chunk_field(index), "set chunk or close")
        cost = streaming_requests.chunk(message.chunk, index)
        yield _chunk(await session.charge(cost, streaming_requests.chunk_field(index)))
        index += 1


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
