"""The aggregation rules themselves (pure): how readings make a figure for each kind."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from services.metering.domain.usage_model import (
    Aggregation,
    Figure,
    reading_fits,
    seats_used,
    span_figure,
    with_reading,
)

D = Decimal
T1, T2, T3 = (datetime(2026, 3, 4, h, tzinfo=UTC) for h in (1, 2, 3))
DAYS = [(date(2026, 3, 6), D(3)), (date(2026, 3, 4), D(4)), (date(2026, 3, 5), D(6))]


def test_days_make_a_span_by_sum_highest_or_latest() -> None:
    assert span_figure(Aggregation.SUM, DAYS) == 13  # 4 + 6 + 3
    assert span_figure(Aggregation.PEAK, DAYS) == 6  # the highest daily peak
    assert span_figure(Aggregation.LEVEL, DAYS) == 3  # the latest day (03-06), whatever the order given
    assert span_figure(Aggregation.PEAK, []) == 0


def test_a_level_reading_older_than_the_latest_does_not_replace_it() -> None:
    latest = with_reading(Aggregation.LEVEL, Figure(D(0)), D(5), T3)
    assert with_reading(Aggregation.LEVEL, latest, D(9), T1) == Figure(D(5), T3)
    assert with_reading(Aggregation.LEVEL, latest, D(2), T3) == Figure(D(2), T3)


def test_a_new_reading_adds_to_a_sum_and_raises_a_peak_only_when_higher() -> None:
    assert with_reading(Aggregation.SUM, Figure(D(4), T1), D(4), T2) == Figure(D(8), T2)
    assert with_reading(Aggregation.PEAK, Figure(D(4), T2), D(3), T1) == Figure(D(4), T2)
    assert with_reading(Aggregation.PEAK, Figure(D(4), T1), D(7), T2) == Figure(D(7), T2)


def test_a_hard_limit_bounds_a_running_sum_but_each_gauge_reading_alone() -> None:
    assert not reading_fits(Aggregation.SUM, D(8), D(4), D(10))  # 8 + 4 = 12 > 10
    assert reading_fits(Aggregation.PEAK, D(8), D(4), D(10))  # the reading 4 <= 10
    assert not reading_fits(Aggregation.LEVEL, D(2), D(11), D(10))
    assert reading_fits(Aggregation.SUM, D(8), D(4), None)


def test_seats_are_the_latest_reading_or_else_the_registered_users() -> None:
    assert seats_used(None, 3) == 3
    assert seats_used(D(7), 3) == 7
