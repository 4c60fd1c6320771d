"""Hourly roll-ups of usage events and resource-seconds into usage_hourly.

Rolling an hour up deletes what the hour had and writes it again from the sources in one
transaction, so running it twice changes nothing and a crash leaves nothing half done. Hours are
rolled in order from the last one done (catching up after downtime). A late event (one recorded
after its hour was rolled) marks its (organization, hour) dirty; the hour is rolled again for that
organization and its day is queued for reconciliation with Stripe.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from services.billing.domain.proration import floor_hour
from services.billing.domain.rollup import SegmentInHour, resource_hour
from services.metering.store.usage_figures import readings_figure

# A transaction that began before a roll-up read its hour and committed after it: its events
# have a recorded_at up to this much before the roll-up's time.
LATE_OVERLAP = timedelta(minutes=2)
MAX_HOURS_PER_RUN = 24 * 120
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

SELECT_NEXT_HOUR = "SELECT max(hour_start) + interval '1 hour' FROM rollup_hours"
SELECT_FIRST_USAGE = """
SELECT least((SELECT min(occurred_at) FROM usage_events), (SELECT min(started_at) FROM resource_segments))"""
DELETE_HOUR = "DELETE FROM usage_hourly WHERE hour_start = $1 AND ($2::text IS NULL OR org_id = $2)"
# A sum's hour is the sum of its readings per user, each costed at its price; a gauge's hour is
# its figure (highest or latest reading) for the organization, costed over the whole period in the
# statement rather than per hour.
# Tokens a Deduct recorded were paid for when it was granted (in credits, or against a BYOM cap):
# they count as usage everywhere, but are not billed a second time as metered usage.
INSERT_EVENTS_HOUR = """
INSERT INTO usage_hourly (org_id, meter, hour_start, user_id, quantity, cost_usd, events)
SELECT e.org_id, b.meter, $1, CASE WHEN m.aggregation = 'sum' THEN coalesce(e.user_id, '') ELSE '' END,
       {figure},
       CASE WHEN m.aggregation <> 'sum' THEN 0
            ELSE sum(CASE WHEN b.unit_price_usd IS NOT NULL THEN e.quantity * b.unit_price_usd
                          ELSE e.quantity * coalesce(p.price, 0) / 1000000 END) END,
       count(*)
FROM usage_events e
JOIN billing_meters b ON b.source = 'usage' AND b.usage_meter = e.meter
JOIN meters m ON m.meter = e.meter
LEFT JOIN LATERAL (
    SELECT CASE WHEN e.token_kind = 'input' THEN input_usd_per_mtok
                WHEN e.token_kind = 'output' THEN output_usd_per_mtok
                WHEN e.token_kind = 'cache_read' THEN cache_read_usd_per_mtok
                WHEN e.token_kind = 'cache_write' THEN cache_write_usd_per_mtok END AS price
    FROM llm_prices
    WHERE model = e.model AND effective_from <= e.occurred_at
    ORDER BY effective_from DESC LIMIT 1
) p ON b.unit_price_usd IS NULL
WHERE e.occurred_at >= $1 AND e.occurred_at < $1::timestamptz + interval '1 hour'
  AND ($2::text IS NULL OR e.org_id = $2)
  AND e.deduction_key IS NULL
GROUP BY e.org_id, b.meter, m.aggregation, 4""".replace(
    "{figure}", readings_figure("m.aggregation", "e.quantity", "e.occurred_at DESC, e.event_id"))
SELECT_SEGMENTS_IN_HOUR = """
SELECT s.org_id, s.meter, coalesce(r.user_id, '') AS user_id, s.quantity, s.hourly_usd, s.started_at,
       s.ended_at
FROM resource_segments s JOIN resources r USING (org_id, resource_id)
WHERE s.started_at < $1::timestamptz + interval '1 hour' AND (s.ended_at IS NULL OR s.ended_at > $1)
  AND ($2::text IS NULL OR s.org_id = $2)"""
INSERT_RESOURCE_HOUR = """
INSERT INTO usage_hourly (org_id, meter, hour_start, user_id, quantity, cost_usd, events)
SELECT org_id, meter, $1, user_id, quantity, cost_usd, events
FROM unnest($2::text[], $3::text[], $4::text[], $5::numeric[], $6::numeric[], $7::bigint[])
     AS t(org_id, meter, user_id, quantity, cost_usd, events)"""
RECORD_HOUR = """
INSERT INTO rollup_hours (hour_start, rolled_at) VALUES ($1, statement_timestamp())
ON CONFLICT (hour_start) DO UPDATE SET rolled_at = excluded.rolled_at"""
SELECT_LATE_SCAN = "SELECT value FROM billing_watermarks WHERE job = 'late_scan'"
MARK_LATE_HOURS = """
INSERT INTO rollup_dirty (org_id, hour_start, marked_at)
SELECT DISTINCT e.org_id, date_trunc('hour', e.occurred_at), statement_timestamp()
FROM usage_events e
LEFT JOIN rollup_hours h ON h.hour_start = date_trunc('hour', e.occurred_at)
WHERE e.recorded_at >= $1
  AND (e.recorded_at >= h.rolled_at - $2::interval
       OR (h.hour_start IS NULL AND e.occurred_at < (SELECT min(hour_start) FROM rollup_hours)))
ON CONFLICT DO NOTHING
RETURNING 1"""
SAVE_LATE_SCAN = """
INSERT INTO billing_watermarks (job, value) VALUES ('late_scan', $1)
ON CONFLICT (job) DO UPDATE SET value = excluded.value"""
SELECT_DIRTY = "SELECT org_id, hour_start FROM rollup_dirty ORDER BY hour_start, org_id LIMIT $1"
CLEAR_DIRTY = "DELETE FROM rollup_dirty WHERE org_id = $1 AND hour_start = $2"
QUEUE_RECONCILE = """
INSERT INTO push_reconcile (org_id, usage_day, marked_at)
VALUES ($1, ($2::timestamptz AT TIME ZONE 'UTC')::date, statement_timestamp())
ON CONFLICT DO NOTHING"""


async def roll_up_hour(conn: asyncpg.Connection, hour: datetime, org_id: str | None = None) -> None:
    """(Re)writes one hour: every organization's, or one organization's when a late event came."""
    hour = floor_hour(hour)
    await conn.execute(DELETE_HOUR, hour, org_id)
    await conn.execute(INSERT_EVENTS_HOUR, hour, org_id)
    rows = await conn.fetch(SELECT_SEGMENTS_IN_HOUR, hour, org_id)
    totals = resource_hour(hour, (SegmentInHour(**dict(r)) for r in rows))
    if totals:
        keys = list(totals)
        await conn.execute(
            INSERT_RESOURCE_HOUR, hour, [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys],
            [totals[k].quantity for k in keys], [totals[k].cost_usd for k in keys],
            [totals[k].segments for k in keys],
        )
    if org_id is None:
        await conn.execute(RECORD_HOUR, hour)
    else:
        await conn.execute(CLEAR_DIRTY, org_id, hour)
        await conn.execute(QUEUE_RECONCILE, org_id, hour)


async def first_hour_to_roll(conn: asyncpg.Connection) -> datetime | None:
    """The hour after the last one rolled up, or the first hour with usage; None without usage."""
    start: datetime | None = await conn.fetchval(SELECT_NEXT_HOUR) or await conn.fetchval(SELECT_FIRST_USAGE)
    return start


async def mark_late_events(conn: asyncpg.Connection) -> int:
    """Marks (organization, hour) pairs that got events after their hour was rolled up."""
    scan_started = await conn.fetchval("SELECT statement_timestamp()")
    since = await conn.fetchval(SELECT_LATE_SCAN) or EPOCH
    marked = await conn.fetch(MARK_LATE_HOURS, since - LATE_OVERLAP, LATE_OVERLAP)
    await conn.execute(SAVE_LATE_SCAN, scan_started)
    return len(marked)


async def dirty_hours(conn: asyncpg.Connection, limit: int) -> list[tuple[str, datetime]]:
    """(organization, hour) pairs whose roll-up late events changed, to roll up again."""
    return [(r["org_id"], r["hour_start"]) for r in await conn.fetch(SELECT_DIRTY, limit)]

