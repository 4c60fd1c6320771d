"""Resource-seconds of one hour, per (organization, billing meter, user)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from services.billing.domain.proration import HOUR, cost_usd, overlap, seconds_between
from services.kit.decimals import CONTEXT, ZERO


@dataclass(frozen=True)
class SegmentInHour:
    org_id: str
    meter: str
    user_id: str
    quantity: Decimal
    hourly_usd: Decimal
    started_at: datetime
    ended_at: datetime | None


@dataclass
class HourTotal:
    quantity: Decimal = ZERO  # resource-seconds: seconds x quantity
    cost_usd: Decimal = ZERO
    segments: int = 0


Key = tuple[str, str, str]  # (org_id, meter, user_id)


def resource_hour(hour_start: datetime, segments: Iterable[SegmentInHour]) -> dict[Key, HourTotal]:
    totals: dict[Key, HourTotal] = {}
    for segment in segments:
        inside = overlap(segment.started_at, segment.ended_at, hour_start, hour_start + HOUR)
        if inside is None:
            continue
        seconds = seconds_between(*inside)
        total = totals.setdefault((segment.org_id, segment.meter, segment.user_id), HourTotal())
        total.quantity = CONTEXT.add(total.quantity, CONTEXT.multiply(seconds, segment.quantity))
        total.cost_usd = CONTEXT.add(total.cost_usd, cost_usd(seconds, segment.hourly_usd, segment.quantity))
        total.segments += 1
    return totals
