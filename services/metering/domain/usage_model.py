"""How a meter's readings make the figure shown, limited, projected and billed (pure).

Every meter has an aggregation kind, kept in the catalogue:

- `sum`: readings are increments and add up (tokens, queries, requests, bandwidth, compute).
- `peak`: a day's figure is its highest reading; a longer span's figure is its highest daily
  peak (storage is billed on peak daily use).
- `level`: the latest reading stands (seats, counts of running things).

The store computes figures of spans in SQL by these same rules (services/metering/store/
usage_figures.py); the functions here apply them to one new reading at a time (hard limits and
the running quota counters) and to daily figures already read.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from services.kit.decimals import ZERO

SEATS = "seats"


class Aggregation(enum.Enum):
    SUM = "sum"
    PEAK = "peak"
    LEVEL = "level"

    @property
    def accumulates(self) -> bool:
        """Whether the figure grows with time (and so is projected at its daily rate)."""
        return self is Aggregation.SUM


@dataclass
class Figure:
    """A span's figure so far and when its latest counted reading occurred (None: no reading)."""

    used: Decimal
    latest_at: datetime | None = None


def with_reading(kind: Aggregation, figure: Figure, quantity: Decimal, occurred_at: datetime) -> Figure:
    """The span's figure once one more reading of it is counted."""
    if kind is Aggregation.SUM:
        return Figure(figure.used + quantity, _later(figure.latest_at, occurred_at))
    if kind is Aggregation.PEAK:
        return Figure(max(figure.used, quantity), _later(figure.latest_at, occurred_at))
    if figure.latest_at is not None and occurred_at < figure.latest_at:
        return figure  # an older level reading does not replace a newer one
    return Figure(quantity, occurred_at)


def reading_fits(kind: Aggregation, used: Decimal, quantity: Decimal, hard_limit: Decimal | None) -> bool:
    """A hard limit bounds the running total of a sum, and each reading itself of a gauge."""
    if hard_limit is None:
        return True
    if kind is Aggregation.SUM:
        return used + quantity <= hard_limit
    return quantity <= hard_limit


def span_figure(kind: Aggregation, days: Iterable[tuple[date, Decimal]]) -> Decimal:
    """A span's figure from its daily figures: their sum, highest, or latest."""
    ordered = sorted(days)
    if not ordered:
        return ZERO
    if kind is Aggregation.SUM:
        return sum((value for _, value in ordered), ZERO)
    if kind is Aggregation.PEAK:
        return max(value for _, value in ordered)
    return ordered[-1][1]


def seats_used(latest_reading: Decimal | None, users: int) -> Decimal:
    """Seats: the organization's latest `seats` reading of the period when it reports them,
    otherwise the number of its registered users."""
    return Decimal(users) if latest_reading is None else latest_reading


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a
