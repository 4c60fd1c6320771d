"""What a push to Stripe carries: whole-number values, deterministic identifiers, timestamps.

Stripe meter events take whole numbers only. A billing meter's `stripe_scale` says which unit is
sent: the value is quantity x 10^scale (scale 0: tokens, queries, resource-seconds; scale 3:
milli-GB, milliseconds), rounded half-even once per (organization, meter, day).
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from services.billing.domain.schedule import day_start
from services.kit.decimals import CONTEXT

MAX_IDENTIFIER = 100
# Stripe accepts timestamps up to 35 calendar days old; a day pushed later than this goes into
# the current period instead (carried forward), with a margin for retries.
MAX_EVENT_AGE = timedelta(days=34)


def stripe_value(quantity: Decimal, scale: int) -> int:
    scaled = CONTEXT.multiply(quantity, Decimal(10) ** scale)
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_EVEN, context=CONTEXT))


def identifier(org_id: str, meter: str, day: date, revision: int) -> str:
    """Unique per (organization, meter, day, revision) and the same on every replica and retry."""
    digest = hashlib.sha256(f"{org_id}\x1f{meter}\x1f{day.isoformat()}\x1f{revision}".encode()).hexdigest()
    value = f"mb_{day:%Y%m%d}_r{revision}_{digest[:40]}"
    assert len(value) <= MAX_IDENTIFIER
    return value


def idempotency_key(identifier: str, timestamp: datetime) -> str:
    """Derived from the identifier; the timestamp is part of it because a push re-stamped after
    Stripe refused a too-old timestamp carries different parameters."""
    return f"{identifier}-{int(timestamp.timestamp())}"


def event_timestamp(day: date, now: datetime, anchor: datetime) -> tuple[datetime, bool]:
    """(timestamp, carried_forward): the day's start while Stripe still takes it, else now. The
    organization's first day (the one its billing anchor falls on) is stamped at the anchor, inside
    the first billing period that counts it."""
    start = day_start(day)
    if start <= anchor < start + timedelta(days=1):
        start = anchor.replace(microsecond=0) + timedelta(seconds=1 if anchor.microsecond else 0)
    if start >= now - MAX_EVENT_AGE:
        return start, False
    return now.replace(microsecond=0), True
