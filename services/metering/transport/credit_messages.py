"""Credit outcomes as metering.v1 messages: units, denial reasons, balances and the answers of
Deduct, Reserve and Release."""

from __future__ import annotations

from services.gen.metering.v1 import metering_pb2 as pb
from services.kit.decimals import format_decimal
from services.kit.wire import timestamp
from services.metering.domain.credits import Balance, Deduction, DenialReason, Release, Reservation, Unit

UNITS = {Unit.CREDITS: pb.UNIT_CREDITS, Unit.USD: pb.UNIT_USD}
DENIALS = {
    DenialReason.INSUFFICIENT_CREDITS: pb.DENIAL_REASON_INSUFFICIENT_CREDITS,
    DenialReason.SPEND_CAP_REACHED: pb.DENIAL_REASON_SPEND_CAP_REACHED,
    DenialReason.HARD_LIMIT: pb.DENIAL_REASON_HARD_LIMIT,
}


def balance_message(b: Balance) -> pb.Balance:
    return pb.Balance(
        unit=UNITS[b.unit], monthly_remaining=format_decimal(b.monthly_remaining),
        bonus_remaining=format_decimal(b.bonus_remaining), reserved=format_decimal(b.reserved),
        available=format_decimal(b.available),
    )


def deduct_response(d: Deduction) -> pb.DeductResponse:
    return pb.DeductResponse(
        granted=d.granted,
        denial_reason=DENIALS[d.denial_reason] if d.denial_reason else pb.DENIAL_REASON_UNSPECIFIED,
        amount=format_decimal(d.amount), unit=UNITS[d.unit], from_hold=format_decimal(d.from_hold),
        from_monthly=format_decimal(d.from_monthly), from_bonus=format_decimal(d.from_bonus),
        balance=balance_message(d.balance), replayed=d.replayed, created_at=timestamp(d.created_at),
    )


def reserve_response(r: Reservation) -> pb.ReserveResponse:
    return pb.ReserveResponse(
        hold_id=r.hold.hold_id, granted=r.granted,
        denial_reason=DENIALS[r.denial_reason] if r.denial_reason else pb.DENIAL_REASON_UNSPECIFIED,
        amount=format_decimal(r.hold.amount), unit=UNITS[r.unit],
        expires_at=timestamp(r.hold.expires_at), balance=balance_message(r.balance), replayed=r.replayed,
    )


def release_response(r: Release) -> pb.ReleaseResponse:
    return pb.ReleaseResponse(released=format_decimal(r.released), already_closed=r.already_closed,
                              balance=balance_message(r.balance))
