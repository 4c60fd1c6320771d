"""Time ranges of reports: billing periods, calendar buckets and the chart's windows (pure)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.kit.errors import FieldError
from services.metering.domain.billing_period import BillingPeriod, add_months, period_containing

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)
MAX_HISTORY_MONTHS = 24
MAX_CUSTOM_RANGE = timedelta(days=731)


class Period(enum.Enum):
    CURRENT = "current"
    LAST_MONTH = "last-month"
    LAST_QUARTER = "last-quarter"
    CUSTOM = "custom"


class Granularity(enum.Enum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class ChartRange(enum.Enum):
    H24 = "24h"
    D7 = "7d"
    D30 = "30d"


@dataclass(frozen=True)
class Range:
    start: datetime
    end: datetime

    @property
    def days(self) -> int:
        return max(1, round((self.end - self.start) / DAY))


def report_range(period: Period, anchor: datetime, now: datetime, start: datetime | None = None,
                 end: datetime | None = None, fields: tuple[str, str] = ("from", "to")) -> Range:
    """The billing period(s) a report covers, or a custom range checked for sense; errors name
    the range's ends as the caller's request does (`fields`)."""
    current = period_containing(anchor, now)
    if period is Period.CURRENT:
        return Range(current.start, current.end)
    if period is Period.LAST_MONTH:
        return Range(_previous(anchor, current, 1).start, current.start)
    if period is Period.LAST_QUARTER:
        return Range(_previous(anchor, current, 3).start, current.start)
    first, last = fields
    if start is None:
        raise FieldError(first, "is required when period is custom")
    if end is None:
        raise FieldError(last, "is required when period is custom")
    if end <= start:
        raise FieldError(last, f"must be after {first}")
    if end - start > MAX_CUSTOM_RANGE:
        raise FieldError(last, "the range may span at most two years")
    return Range(start, end)


def _previous(anchor: datetime, current: BillingPeriod, count: int) -> BillingPeriod:
    return period_containing(anchor, current.start - timedelta(microseconds=1)) if count == 1 else (
        _previous(anchor, _previous(anchor, current, 1), count - 1))


def day_start(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def history_range(granularity: Granularity, months: int, now: datetime) -> Range:
    """`months` calendar months back to now, starting at a bucket boundary."""
    if not 1 <= months <= MAX_HISTORY_MONTHS:
        raise FieldError("months", f"must be within 1..{MAX_HISTORY_MONTHS}")
    today = day_start(now)
    start = add_months(today, -months) + DAY
    return Range(bucket_start(granularity, start), today + DAY)


def bucket_start(granularity: Granularity, when: datetime) -> datetime:
    """The UTC day, ISO week (Monday) or calendar month that contains `when`."""
    day = day_start(when)
    if granularity is Granularity.DAILY:
        return day
    if granularity is Granularity.WEEKLY:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def next_bucket(granularity: Granularity, start: datetime) -> datetime:
    if granularity is Granularity.DAILY:
        return start + DAY
    if granularity is Granularity.WEEKLY:
        return start + WEEK
    return add_months(start, 1)


def buckets(granularity: Granularity, window: Range) -> list[Range]:
    out = []
    start = bucket_start(granularity, window.start)
    while start < window.end:
        end = next_bucket(granularity, start)
        out.append(Range(start, end))
        start = end
    return out


def chart_buckets(chart: ChartRange, now: datetime) -> list[Range]:
    """24 hourly buckets ending with the current hour, 7 days ending today, or the last 30 days
    in 7-day buckets (the last one 2 days long), all in UTC."""
    if chart is ChartRange.H24:
        end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + HOUR
        return [Range(end - HOUR * (24 - i), end - HOUR * (23 - i)) for i in range(24)]
    end = day_start(now) + DAY
    if chart is ChartRange.D7:
        return [Range(end - DAY * (7 - i), end - DAY * (6 - i)) for i in range(7)]
    start = end - DAY * 30
    return [Range(start + WEEK * i, min(start + WEEK * (i + 1), end)) for i in range(5)]
