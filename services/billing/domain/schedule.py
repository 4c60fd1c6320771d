"""When the worker's jobs are due: hourly roll-ups at :MM, the daily Stripe sync at HH:00 UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from services.billing.domain.proration import HOUR, floor_hour

DAY = timedelta(days=1)


def hours_due(next_hour: datetime, now: datetime, minute: int, limit: int) -> list[datetime]:
    """Hours from `next_hour` on, in order, whose roll-up time (hour end + `minute`) has come."""
    due: list[datetime] = []
    hour = floor_hour(next_hour)
    while hour + HOUR + timedelta(minutes=minute) <= now and len(due) < limit:
        due.append(hour)
        hour += HOUR
    return due


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def days_due(next_day: date, now: datetime, sync_hour: int) -> list[date]:
    """Days from `next_day` on, in order, whose sync time (the next day at sync_hour:00) has come."""
    due: list[date] = []
    day = next_day
    while day_start(day) + DAY + timedelta(hours=sync_hour) <= now:
        due.append(day)
        day += DAY
    return due


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()
