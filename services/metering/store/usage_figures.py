"""The one place usage figures are read: named statements applying each meter's aggregation kind
(services/metering/domain/usage_model.py) to its usage events.

A figure is computed per UTC day first (sum, highest reading, or latest reading of the day), then
per span from the days (sum, highest daily peak, or latest day). Costs: a sum costs each reading at
the unit price in force when it occurred; a gauge's unit price is per unit held over the span, so
its cost is the span's figure at the price of its latest reading.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import asyncpg

from services.metering.domain.readings import BucketFigure, SpanFigure, WorkspaceDay
from services.metering.domain.usage_model import SEATS, Aggregation, Figure, seats_used

# Unit prices of metered usage: the billing worker's price of the meter (billing_meters, what
# Stripe is sent), else a resource rate with an empty tier whose monthly_usd is the price of one
# unit, effective-dated (a rate applies from its effective_from until the next one).
METER_RATES = """
rates AS (
    SELECT usage_meter AS meter, unit_price_usd AS unit_usd, '-infinity'::timestamptz AS effective_from,
           NULL::timestamptz AS effective_to
    FROM billing_meters WHERE source = 'usage' AND unit_price_usd IS NOT NULL
    UNION ALL
    SELECT resource, monthly_usd, effective_from,
           lead(effective_from) OVER (PARTITION BY resource ORDER BY effective_from)
    FROM resource_rates r
    WHERE tier = '' AND monthly_usd IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM billing_meters b
        WHERE b.source = 'usage' AND b.usage_meter = r.resource AND b.unit_price_usd IS NOT NULL)
)"""


def readings_figure(kind: str, quantity: str, order: str) -> str:
    """SQL for the figure of a group of readings: their sum, highest, or latest (by `order`)."""
    return (f"CASE WHEN {kind} = 'sum' THEN sum({quantity}) WHEN {kind} = 'peak' THEN max({quantity}) "
            f"ELSE (array_agg({quantity} ORDER BY {order} DESC))[1] END")


# Per meter, {key} and UTC day in [$2, $3) of organization $1: the day's figure, the summed cost
# of its readings and the unit price of its latest reading. $4: one meter, or '' for all.
_DAYS = """
days AS (
    SELECT e.meter, m.aggregation, {key} AS key, (e.occurred_at AT TIME ZONE 'UTC')::date AS day,
           {figure} AS figure,
           coalesce(sum(e.quantity * r.unit_usd), 0) AS summed_cost,
           (array_agg(r.unit_usd ORDER BY e.occurred_at DESC, e.event_id DESC))[1] AS unit_usd,
           max(e.occurred_at) AS latest_at
    FROM usage_events e
    JOIN meters m ON m.meter = e.meter
    LEFT JOIN rates r ON r.meter = e.meter AND e.occurred_at >= r.effective_from
                     AND (r.effective_to IS NULL OR e.occurred_at < r.effective_to)
    WHERE e.org_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3 AND ($4 = '' OR e.meter = $4)
    GROUP BY e.meter, m.aggregation, 3, 4
)""".replace("{figure}", readings_figure("m.aggregation", "e.quantity",
                                                          "e.occurred_at DESC, e.event_id"))

# A span's figure and cost from the days of `days` grouped by {group}: the days combine by the
# same rule as readings do (sum, highest, latest); a gauge costs its figure at its latest price.
_SPAN = """
SELECT {columns}, aggregation, {figure} AS used,
       CASE WHEN aggregation = 'sum' THEN sum(summed_cost)
            ELSE coalesce({figure} * (array_agg(unit_usd ORDER BY day DESC))[1], 0) END AS cost,
       max(latest_at) AS latest_at
FROM days
GROUP BY {group}, aggregation""".replace("{figure}", readings_figure("aggregation", "figure", "day"))

# Figure and cost per meter over [$2, $3).
SELECT_SPAN_FIGURES = f"""
WITH {METER_RATES}, {_DAYS.format(key="''::text")}
{_SPAN.format(columns='meter', group='meter')}"""

# Figure and cost per bucket ($5: 'day', 'week' or 'month') and meter in [$2, $3).
SELECT_BUCKET_FIGURES = f"""
WITH {METER_RATES}, {_DAYS.format(key="date_trunc($5, e.occurred_at AT TIME ZONE 'UTC')")}
{_SPAN.format(columns='key AS bucket, meter', group='key, meter')}
ORDER BY 1, 2"""

# One meter's figure and cost per workspace and UTC day in [$2, $3).
SELECT_WORKSPACE_DAY_FIGURES = f"""
WITH {METER_RATES}, {_DAYS.format(key="coalesce(e.workspace_id, '')")}
SELECT d.key AS workspace_id, coalesce(w.name, '') AS name, d.day, d.aggregation, d.figure AS used,
       CASE WHEN d.aggregation = 'sum' THEN d.summed_cost ELSE coalesce(d.figure * d.unit_usd, 0) END AS cost,
       d.unit_usd
FROM days d
LEFT JOIN workspaces w ON w.org_id = $1 AND w.workspace_id = d.key
ORDER BY 1, 3"""

SELECT_AGGREGATIONS = "SELECT meter, aggregation FROM meters"
SELECT_AGGREGATION = "SELECT aggregation FROM meters WHERE meter = $1"
COUNT_USERS = "SELECT count(*) FROM users WHERE org_id = $1"


async def aggregations(conn: asyncpg.Connection) -> dict[str, Aggregation]:
    return {r["meter"]: Aggregation(r["aggregation"]) for r in await conn.fetch(SELECT_AGGREGATIONS)}


async def aggregation(conn: asyncpg.Connection, meter: str) -> Aggregation:
    value = await conn.fetchval(SELECT_AGGREGATION, meter)
    return Aggregation.SUM if value is None else Aggregation(value)


async def span_figures(conn: asyncpg.Connection, org_id: str, start: datetime, end: datetime,
                       meter: str = "") -> dict[str, SpanFigure]:
    """Each meter's figure over [start, end); seats count users when no reading says otherwise."""
    rows = await conn.fetch(SELECT_SPAN_FIGURES, org_id, start, end, meter)
    figures = {r["meter"]: SpanFigure(r["meter"], Aggregation(r["aggregation"]), r["used"], r["cost"],
                                      r["latest_at"]) for r in rows}
    if meter in ("", SEATS) and SEATS not in figures:
        users = await conn.fetchval(COUNT_USERS, org_id)
        figures[SEATS] = SpanFigure(SEATS, Aggregation.LEVEL, seats_used(None, users), Decimal(0), None)
    return figures


async def period_figure(conn: asyncpg.Connection, org_id: str, meter: str, start: datetime,
                        end: datetime) -> Figure:
    """One meter's figure over [start, end), as quotas, hard limits and GetQuota count it."""
    span = (await span_figures(conn, org_id, start, end, meter)).get(meter)
    return Figure(Decimal(0)) if span is None else Figure(span.used, span.latest_at)


async def bucket_figures(conn: asyncpg.Connection, org_id: str, start: datetime, end: datetime,
                         unit: str, meter: str = "") -> list[BucketFigure]:
    rows = await conn.fetch(SELECT_BUCKET_FIGURES, org_id, start, end, meter, unit)
    return [BucketFigure(r["bucket"], r["meter"], r["used"], r["cost"]) for r in rows]


async def workspace_days(conn: asyncpg.Connection, org_id: str, meter: str, start: datetime,
                         end: datetime) -> list[WorkspaceDay]:
    rows = await conn.fetch(SELECT_WORKSPACE_DAY_FIGURES, org_id, start, end, meter)
    return [WorkspaceDay(r["workspace_id"], r["name"], r["day"], Aggregation(r["aggregation"]), r["used"],
                         r["cost"], r["unit_usd"]) for r in rows]
