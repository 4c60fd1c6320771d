"""Credit outcomes as metering.v1 messages: units, denial reasons and balances."""

from __future__ import annotations

from services.gen.metering.v1 import metering_pb2 as pb
from services.kit.decimals import format_decimal
from services.metering.domain.credits import Balance, DenialReason, Unit

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
