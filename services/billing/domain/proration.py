"""Per-second billing: cost = seconds / 3600 x hourly rate (x quantity), split into hours."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from services.kit.decimals import CONTEXT, ZERO

HOUR = timedelta(hours=1)
SECONDS_PER_HOUR = Decimal(3600)
_MICROS_PER_SECOND = Decimal(1_000_000)


def seconds_between(start: datetime, end: datetime) -> Decimal:
    """Exact seconds from start to end (microseconds included); 0 when end is not after start."""
    delta = end - start
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return max(ZERO, Decimal(micros) / _MICROS_PER_SECOND)


def cost_usd(seconds: Decimal, hourly_usd: Decimal, quantity: Decimal = Decimal(1)) -> Decimal:
    """seconds / 3600 x hourly rate x quantity. Multiplied first, divided once: exact whenever the
    result has a finite decimal expansion (13:30 -> 14:15 is exactly 0.75 x the rate), otherwise
    correct to 60 significant digits (1 / 3600 has no finite decimal)."""
    product = CONTEXT.multiply(CONTEXT.multiply(seconds, hourly_usd), quantity)
    return CONTEXT.divide(product, SECONDS_PER_HOUR)


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Piece:
    """The part of a billed interval that falls into one clock hour."""

    hour_start: datetime
    start: datetime
    end: datetime

    @property
    def seconds(self) -> Decimal:
        return seconds_between(self.start, self.end)


def hour_pieces(start: datetime, end: datetime) -> Iterator[Piece]:
    """[start, end) cut at every hour boundary, in order."""
    hour = floor_hour(start)
    while hour < end:
        next_hour = hour + HOUR
        piece_start, piece_end = max(start, hour), min(end, next_hour)
        if piece_end > piece_start:
            yield Piece(hour, piece_start, piece_end)
        hour = next_hour


def overlap(start: datetime, end: datetime | None, window_start: datetime,
            window_end: datetime) -> tuple[datetime, datetime] | None:
    """The part of [start, end) (end None: still running) inside [window_start, window_end)."""
    lo = max(start, window_start)
    hi = window_end if end is None else min(end, window_end)
    return (lo, hi) if hi > lo else None
