"""Monthly billing periods that start on an organization's anchor day and time."""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

DAY = timedelta(days=1)


@dataclass(frozen=True)
class BillingPeriod:
    start: datetime
    end: datetime

    def days_elapsed(self, now: datetime) -> int:
        return max(0, math.floor((min(now, self.end) - self.start) / DAY))

    def days_remaining(self, now: datetime) -> int:
        return max(0, math.ceil((self.end - max(now, self.start)) / DAY))

    def exact_days_elapsed(self, now: datetime) -> Decimal:
        return max(Decimal(0), _days(min(now, self.end) - self.start))

    def exact_days_remaining(self, now: datetime) -> Decimal:
        return max(Decimal(0), _days(self.end - max(now, self.start)))


def _days(delta: timedelta) -> Decimal:
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return Decimal(micros) / Decimal(86_400_000_000)


def add_months(anchor: datetime, months: int) -> datetime:
    """The anchor moved by whole months; the day is clamped to the month's length (Jan 31 -> Feb 28)."""
    index = anchor.year * 12 + anchor.month - 1 + months
    year, month = divmod(index, 12)
    day = min(anchor.day, calendar.monthrange(year, month + 1)[1])
    return anchor.replace(year=year, month=month + 1, day=day)


def period_containing(anchor: datetime, now: datetime) -> BillingPeriod:
    months = (now.year - anchor.year) * 12 + now.month - anchor.month
    if add_months(anchor, months) > now:
        months -= 1
    elif add_months(anchor, months + 1) <= now:
        months += 1
    return BillingPeriod(add_months(anchor, months), add_months(anchor, months + 1))
