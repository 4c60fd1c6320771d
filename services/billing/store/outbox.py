"""The Stripe outbox: planning one push per (organization, meter, day), claiming and recording.

Planning compares what a day should carry to Stripe (its roll-ups, scaled and rounded) with what
the outbox already holds for it and adds the difference as the next revision, so planning twice,
or from two replicas, adds nothing. Pushing takes a transaction-scoped advisory lock per
(organization, meter) (Stripe allows one call in flight per customer and meter) and the row lock
(FOR UPDATE SKIP LOCKED) while the call is made, and records the outcome before committing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg

from services.billing.domain.schedule import DAY, day_start
from services.billing.domain.stripe_units import event_timestamp, identifier, stripe_value
from services.metering.domain.billing_period import period_containing
from services.metering.domain.usage_model import Aggregation, span_figure

SELECT_DAY_TOTALS = """
SELECT u.org_id, u.meter, b.stripe_scale, b.aggregation, o.billing_anchor, sum(u.quantity) AS quantity,
       coalesce(p.pushed, 0) AS pushed, coalesce(p.revision, 0) AS revision, p.last_value
FROM usage_hourly u
JOIN billing_meters b USING (meter)
JOIN organizations o USING (org_id)
LEFT JOIN LATERAL (
    SELECT sum(value) AS pushed, max(revision) AS revision,
           (array_agg(value ORDER BY revision DESC))[1] AS last_value
    FROM stripe_pushes p
    WHERE p.org_id = u.org_id AND p.meter = u.meter AND p.usage_day = $3
) p ON true
WHERE u.hour_start >= $1 AND u.hour_start < $2 AND ($4::text IS NULL OR u.org_id = $4)
  AND ($5::text IS NULL OR b.aggregation = $5)
GROUP BY u.org_id, u.meter, b.stripe_scale, b.aggregation, o.billing_anchor, p.pushed, p.revision,
         p.last_value"""
# A gauge's hours from the start of the organization's billing period to the end of day $4.
SELECT_GAUGE_HOURS = """
SELECT u.hour_start, u.quantity, m.aggregation
FROM usage_hourly u
JOIN billing_meters b USING (meter)
JOIN meters m ON m.meter = b.usage_meter
WHERE u.org_id = $1 AND u.meter = $2 AND u.hour_start >= $3 AND u.hour_start < $4"""
SELECT_ANCHOR = "SELECT billing_anchor FROM organizations WHERE org_id = $1"
# A billing period is at most 31 days: later days than this are of another period.
LAST_REPLAN = timedelta(days=31)
INSERT_PUSH = """
INSERT INTO stripe_pushes (org_id, meter, usage_day, revision, identifier, value, event_timestamp,
                           carried_forward, status, next_attempt_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9)
ON CONFLICT DO NOTHING"""
SELECT_PLANNED = "SELECT value FROM billing_watermarks WHERE job = 'planned_day'"
SAVE_PLANNED = """
INSERT INTO billing_watermarks (job, value) VALUES ('planned_day', $1)
ON CONFLICT (job) DO UPDATE SET value = excluded.value"""
SELECT_ROLLED = "SELECT min(hour_start), max(hour_start) FROM rollup_hours"
SELECT_RECONCILE = """
SELECT org_id, usage_day FROM push_reconcile WHERE usage_day <= $1 ORDER BY usage_day, org_id LIMIT $2"""
DELETE_RECONCILE = "DELETE FROM push_reconcile WHERE org_id = $1 AND usage_day = $2"
SELECT_DUE_LANES = """
SELECT DISTINCT org_id, meter FROM stripe_pushes
WHERE status = 'pending' AND next_attempt_at <= $1 LIMIT $2"""
LOCK_LANE = "SELECT pg_try_advisory_xact_lock(hashtextextended($1 || chr(31) || $2, 7467))"
CLAIM_PUSH = """
SELECT p.org_id, p.meter, p.usage_day, p.revision, p.identifier, p.value, p.event_timestamp,
       p.attempts, b.stripe_event_name
FROM stripe_pushes p JOIN billing_meters b USING (meter)
WHERE p.org_id = $1 AND p.meter = $2 AND p.status = 'pending' AND p.next_attempt_at <= $3
ORDER BY p.usage_day, p.revision LIMIT 1
FOR UPDATE OF p SKIP LOCKED"""
RECORD_DELIVERED = """
UPDATE stripe_pushes SET status = 'delivered', attempts = attempts + 1, delivered_at = $5,
       stripe_response = $6::jsonb, stripe_request_id = $7, last_error = $8
WHERE org_id = $1 AND meter = $2 AND usage_day = $3 AND revision = $4"""
RECORD_RETRY = """
UPDATE stripe_pushes SET attempts = attempts + 1, next_attempt_at = $5, last_error = $6,
       stripe_response = $7::jsonb, stripe_request_id = $8
WHERE org_id = $1 AND meter = $2 AND usage_day = $3 AND revision = $4"""
RECORD_FAILED = """
UPDATE stripe_pushes SET status = 'failed', attempts = attempts + 1, last_error = $5,
       stripe_response = $6::jsonb, stripe_request_id = $7
WHERE org_id = $1 AND meter = $2 AND usage_day = $3 AND revision = $4"""
RESTAMP = """
UPDATE stripe_pushes SET event_timestamp = $5, carried_forward = true, attempts = attempts + 1,
       last_error = $6
WHERE org_id = $1 AND meter = $2 AND usage_day = $3 AND revision = $4"""


@dataclass(frozen=True)
class Push:
    org_id: str
    meter: str
    usage_day: date
    revision: int
    identifier: str
    value: int
    event_timestamp: datetime
    attempts: int
    stripe_event_name: str

    @property
    def key(self) -> tuple[str, str, date, int]:
        return self.org_id, self.meter, self.usage_day, self.revision


async def plan_day(conn: asyncpg.Connection, day: date, now: datetime, org_id: str | None = None,
                   aggregation: str | None = None) -> int:
    """Adds a push for every (organization, meter) whose day carries more than was pushed (a `sum`
    meter), or another value than was last pushed (a `last` meter); `aggregation` limits it to
    meters of that Stripe aggregation."""
    start = day_start(day)
    added = 0
    for row in await conn.fetch(SELECT_DAY_TOTALS, start, start + DAY, day, org_id, aggregation):
        if row["aggregation"] == "last":
            value = await _gauge_value(conn, row["org_id"], row["meter"], day, row["stripe_scale"])
            if value == row["last_value"]:
                continue
        else:
            value = stripe_value(row["quantity"], row["stripe_scale"]) - int(row["pushed"])
            if value <= 0:
                continue
        revision = row["revision"] + 1
        stamp, carried = event_timestamp(day, now, row["billing_anchor"])
        status = await conn.execute(INSERT_PUSH, row["org_id"], row["meter"], day, revision,
                                    identifier(row["org_id"], row["meter"], day, revision), value,
                                    stamp, carried, now)
        added += int(status.split()[-1])
    return added


async def _gauge_value(conn: asyncpg.Connection, org_id: str, meter: str, day: date, scale: int) -> int:
    """What a `last` meter carries for a day: the gauge's figure from the start of the billing
    period through that day (the highest daily peak so far, or the latest level), so the last
    value Stripe keeps for the period is the period's figure. Each push carries the whole value."""
    period = period_containing(await conn.fetchval(SELECT_ANCHOR, org_id), day_start(day))
    rows = await conn.fetch(SELECT_GAUGE_HOURS, org_id, meter, period.start, day_start(day) + DAY)
    kind = Aggregation(rows[0]["aggregation"])
    return stripe_value(span_figure(kind, ((r["hour_start"], r["quantity"]) for r in rows)), scale)


async def rolled_span(conn: asyncpg.Connection) -> tuple[datetime | None, datetime | None]:
    """The first and the last hour rolled up (None, None before any)."""
    first, last = await conn.fetchrow(SELECT_ROLLED)
    return first, last


async def planned_until(conn: asyncpg.Connection) -> datetime | None:
    """The start of the last day planned, None before any."""
    planned: datetime | None = await conn.fetchval(SELECT_PLANNED)
    return planned


async def plan_next_day(conn: asyncpg.Connection, day: date, now: datetime) -> None:
    """Plans the day's pushes and records it as the last day planned."""
    await plan_day(conn, day, now)
    await conn.execute(SAVE_PLANNED, day_start(day))


async def reconciliations_due(conn: asyncpg.Connection, planned_day: date,
                              limit: int) -> list[tuple[str, date]]:
    """(organization, day) pairs that late events changed after the day was planned."""
    return [(r["org_id"], r["usage_day"]) for r in await conn.fetch(SELECT_RECONCILE, planned_day, limit)]


async def replan(conn: asyncpg.Connection, org_id: str, usage_day: date, planned_day: date,
                 now: datetime) -> int:
    """Plans the organization's day again, and the later days a `last` meter carries it into."""
    added = await plan_day(conn, usage_day, now, org_id)
    later = usage_day + DAY
    while later <= planned_day and later - usage_day <= LAST_REPLAN:
        added += await plan_day(conn, later, now, org_id, "last")
        later += DAY
    await conn.execute(DELETE_RECONCILE, org_id, usage_day)
    return added



async def due_lanes(conn: asyncpg.Connection, now: datetime, limit: int) -> list[tuple[str, str]]:
    return [(r["org_id"], r["meter"]) for r in await conn.fetch(SELECT_DUE_LANES, now, limit)]


async def lock_lane(conn: asyncpg.Connection, org_id: str, meter: str) -> bool:
    """Inside a transaction: True when this worker may call Stripe for (organization, meter)."""
    return bool(await conn.fetchval(LOCK_LANE, org_id, meter))


async def claim(conn: asyncpg.Connection, org_id: str, meter: str, now: datetime) -> Push | None:
    row = await conn.fetchrow(CLAIM_PUSH, org_id, meter, now)
    if row is None:
        return None
    return Push(**{**dict(row), "value": int(row["value"])})


async def record_delivered(conn: asyncpg.Connection, push: Push, at: datetime, response: Any,
                           request_id: str | None, note: str | None) -> None:
    await conn.execute(RECORD_DELIVERED, *push.key, at, _json(response), request_id, note)


async def record_retry(conn: asyncpg.Connection, push: Push, next_at: datetime, error: str,
                       response: Any, request_id: str | None) -> None:
    await conn.execute(RECORD_RETRY, *push.key, next_at, error, _json(response), request_id)


async def record_failed(conn: asyncpg.Connection, push: Push, error: str, response: Any,
                        request_id: str | None) -> None:
    await conn.execute(RECORD_FAILED, *push.key, error, _json(response), request_id)


async def restamp(conn: asyncpg.Connection, push: Push, now: datetime, error: str) -> None:
    await conn.execute(RESTAMP, *push.key, now.replace(microsecond=0) - timedelta(seconds=1), error)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=str)


OLDEST_PENDING_AGE = """
SELECT coalesce(extract(epoch FROM $1 - min(created_at)), 0)::float8 FROM stripe_pushes
WHERE status = 'pending'"""


async def oldest_pending_age(conn: asyncpg.Connection, now: datetime) -> float:
    """Seconds the oldest push not yet delivered has waited (0 when none waits)."""
    age: float = await conn.fetchval(OLDEST_PENDING_AGE, now)
    return max(age, 0.0)
