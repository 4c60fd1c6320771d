"""Quotas per organization and resource: soft and hard limits, alert thresholds, and the running
per-period usage counters that hard limits and alerts are checked against.

A resource is a meter, or `credits` (the credit balance; its usage lives in `balances`).
Meters with a plan limit get a quota row when the organization is created or changes plan, so
their alerts fire without anyone setting a quota first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from services.metering.domain.alerts import QuotaLimits
from services.metering.domain.billing_period import BillingPeriod, period_containing
from services.metering.domain.credits import period_allowance
from services.metering.domain.readings import QuotaView
from services.metering.domain.usage_limits import MeterCounter
from services.metering.domain.usage_model import Aggregation
from services.metering.store import alerts
from services.metering.store.allowances import meter_limits, period_credits
from services.metering.store.usage_figures import period_figure

CREDITS = "credits"

# What this period's spend-cap grant consumed beyond the cap now in force (0 unless a BYOM cap was
# lowered below the spend): the grant keeps what was consumed, the allowance is the cap.
OVERSPENT = """
coalesce((SELECT greatest(g.amount - o.monthly_spend_cap_usd, 0) FROM credit_grants g
          WHERE g.org_id = b.org_id AND g.kind = 'spend_cap' AND g.period_start = b.period_start),
         0) AS overspent"""

_QUOTA_COLUMNS = f"""
q.org_id, q.resource, q.soft_limit, q.hard_limit, q.alert_at_percent, q.alert_enabled,
q.period_start AS counted_from, q.used, q.updated_at, ol.limit_quantity AS plan_limit,
o.billing_model, {period_credits('$1')} AS monthly_credits,
b.period_start, b.period_end, b.period_used AS credits_used, b.monthly_remaining, b.bonus_remaining,
b.reserved, o.billing_anchor, coalesce(m.aggregation, 'sum') AS aggregation, statement_timestamp() AS now,
{OVERSPENT}
"""

# Locking and reading are two statements: Citus takes row locks only in a query free of the
# limits' derived table. Read after the lock, in the same transaction, the rows are current.
LOCK_COUNTERS = """
SELECT q.resource FROM quotas q WHERE q.org_id = $1 AND q.resource = ANY($2::text[])
ORDER BY q.resource
FOR UPDATE"""

SELECT_COUNTERS = f"""
SELECT {_QUOTA_COLUMNS}
FROM quotas q
JOIN organizations o ON o.org_id = q.org_id
JOIN balances b ON b.org_id = q.org_id
LEFT JOIN {meter_limits('$1')} ol ON ol.meter = q.resource
LEFT JOIN meters m ON m.meter = q.resource
WHERE q.org_id = $1 AND q.resource = ANY($2::text[])
ORDER BY q.resource"""

SELECT_QUOTAS = f"""
SELECT {_QUOTA_COLUMNS}
FROM quotas q
JOIN organizations o ON o.org_id = q.org_id
JOIN balances b ON b.org_id = q.org_id
LEFT JOIN {meter_limits('$1')} ol ON ol.meter = q.resource
LEFT JOIN meters m ON m.meter = q.resource
WHERE q.org_id = $1 AND ($2 = '' OR q.resource = $2)
ORDER BY q.resource"""

UPDATE_COUNTERS = """
UPDATE quotas q SET used = c.used, period_start = c.period_start
FROM unnest($1::text[], $2::text[], $3::numeric[], $4::timestamptz[])
     AS c(org_id, resource, used, period_start)
WHERE q.org_id = c.org_id AND q.resource = c.resource"""

UPSERT_QUOTA = """
INSERT INTO quotas (org_id, resource, soft_limit, hard_limit, alert_at_percent, alert_enabled, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, statement_timestamp())
ON CONFLICT (org_id, resource) DO UPDATE
SET soft_limit = EXCLUDED.soft_limit, hard_limit = EXCLUDED.hard_limit,
    alert_at_percent = EXCLUDED.alert_at_percent, alert_enabled = EXCLUDED.alert_enabled,
    updated_at = EXCLUDED.updated_at"""

UPSERT_BUDGET_ALERT = """
INSERT INTO quotas (org_id, resource, alert_at_percent, alert_enabled, updated_at)
VALUES ($1, $2, $3, $4, statement_timestamp())
ON CONFLICT (org_id, resource) DO UPDATE
SET alert_at_percent = EXCLUDED.alert_at_percent, alert_enabled = EXCLUDED.alert_enabled,
    updated_at = EXCLUDED.updated_at"""

INSERT_PLAN_QUOTAS = f"""
INSERT INTO quotas (org_id, resource)
SELECT ol.org_id, ol.meter FROM {meter_limits('$1')} ol WHERE ol.limit_quantity IS NOT NULL
ON CONFLICT DO NOTHING"""

SELECT_METER = "SELECT 1 FROM meters WHERE meter = $1"

SELECT_PLAN_LIMIT = f"SELECT ol.limit_quantity FROM {meter_limits('$1')} ol WHERE ol.meter = $2"

LOCK_ORG_QUOTAS = "SELECT 1 FROM quotas WHERE org_id = $1 ORDER BY resource FOR UPDATE"

SELECT_BALANCE_LIMIT = f"""
SELECT b.period_used AS credits_used, b.reserved, b.monthly_remaining, b.bonus_remaining, {OVERSPENT},
       o.billing_model, {period_credits('$1')} AS monthly_credits
FROM balances b JOIN organizations o USING (org_id) WHERE b.org_id = $1"""

NOW = "SELECT statement_timestamp()"


def _period(row: asyncpg.Record) -> BillingPeriod:
    if row["now"] < row["period_end"]:
        return BillingPeriod(row["period_start"], row["period_end"])
    return period_containing(row["billing_anchor"], row["now"])


def limits_of(row: asyncpg.Record) -> QuotaLimits:
    plan_limit = credit_allowance(row) if row["resource"] == CREDITS else row["plan_limit"]
    return QuotaLimits(row["soft_limit"], row["hard_limit"], plan_limit, row["alert_at_percent"],
                       row["alert_enabled"])


def credit_allowance(row: Mapping[str, Any]) -> Decimal | None:
    """The credit balance's limit this period (None: unlimited), from balance columns."""
    if row["billing_model"] != "byom" and row["monthly_credits"] is None:
        return None
    return period_allowance(row["credits_used"], row["reserved"],
                            row["monthly_remaining"] + row["bonus_remaining"], row["overspent"])


async def _counter(conn: asyncpg.Connection, row: asyncpg.Record) -> MeterCounter:
    """A sum's running total is kept on its quota row; a gauge's figure (and the time of its
    latest reading, which a later level reading replaces) is read from its readings."""
    period = _period(row)
    kind = Aggregation(row["aggregation"])
    if kind.accumulates:
        used = row["used"] if row["counted_from"] == period.start else Decimal(0)
        return MeterCounter(row["org_id"], row["resource"], limits_of(row), period, used)
    figure = await period_figure(conn, row["org_id"], row["resource"], period.start, period.end)
    return MeterCounter(row["org_id"], row["resource"], limits_of(row), period, figure.used, kind,
                        figure.latest_at)


async def lock_counters(conn: asyncpg.Connection,
                        pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], MeterCounter]:
    """Locks the quota rows of the (organization, meter) pairs that have one, in key order, one
    organization per statement."""
    meters: dict[str, set[str]] = {}
    for org_id, meter in pairs:
        meters.setdefault(org_id, set()).add(meter)
    counters = {}
    for org_id in sorted(meters):
        locked = [r["resource"] for r in await conn.fetch(LOCK_COUNTERS, org_id, sorted(meters[org_id]))]
        if not locked:
            continue
        for r in await conn.fetch(SELECT_COUNTERS, org_id, locked):
            counters[(r["org_id"], r["resource"])] = await _counter(conn, r)
    return counters


async def save_counters(conn: asyncpg.Connection, counters: dict[tuple[str, str], MeterCounter],
                        now: datetime) -> None:
    """Stores the new totals and makes the active alerts those the new totals call for."""
    if not counters:
        return
    items = sorted(counters.items())
    await conn.execute(UPDATE_COUNTERS, [k[0] for k, _ in items], [k[1] for k, _ in items],
                       [c.used for _, c in items], [c.period.start for _, c in items])
    for (org_id, meter), counter in items:
        await alerts.reconcile(conn, org_id, meter, counter.limits, counter.used, now)


async def ensure_plan_quotas(conn: asyncpg.Connection, org_id: str) -> None:
    await conn.execute(INSERT_PLAN_QUOTAS, org_id)


async def reconcile_alerts(conn: asyncpg.Connection, org_id: str) -> None:
    """After a change of limits (plan, cap, grant, allowance, new period): every resource's active
    alerts become those its usage calls for. Takes the quota row locks RecordUsage takes."""
    await conn.execute(LOCK_ORG_QUOTAS, org_id)
    now = await conn.fetchval(NOW)
    views = await _views(conn, org_id, "")
    for view in views:
        await alerts.reconcile(conn, org_id, view.resource, view.limits, view.used, now)
    if all(v.resource != CREDITS for v in views):  # credit alerts need no quota row
        row = await conn.fetchrow(SELECT_BALANCE_LIMIT, org_id)
        await alerts.reconcile(conn, org_id, CREDITS, QuotaLimits(plan_limit=credit_allowance(row)),
                               row["credits_used"], now)


async def set_quota(conn: asyncpg.Connection, org_id: str, resource: str, soft: Decimal | None,
                    hard: Decimal | None, alert_at_percent: int | None, alert_enabled: bool) -> QuotaView:
    await conn.execute(UPSERT_QUOTA, org_id, resource, soft, hard, alert_at_percent, alert_enabled)
    return await _settle(conn, org_id, resource)


async def set_budget_alert(conn: asyncpg.Connection, org_id: str, resource: str,
                           alert_at_percent: int | None, alert_enabled: bool) -> QuotaView:
    """The custom alert threshold and whether alerts fire; the soft and hard limits stay as set."""
    await conn.execute(UPSERT_BUDGET_ALERT, org_id, resource, alert_at_percent, alert_enabled)
    return await _settle(conn, org_id, resource)


async def is_resource(conn: asyncpg.Connection, resource: str) -> bool:
    """Whether a quota can track `resource`: a meter, or the credits."""
    return resource == CREDITS or await conn.fetchval(SELECT_METER, resource) is not None


async def _settle(conn: asyncpg.Connection, org_id: str, resource: str) -> QuotaView:
    """After a quota row changed: its usage counter recounted and its alerts reconciled."""
    view = (await _views(conn, org_id, resource))[0]
    if resource != CREDITS:
        await conn.execute(UPDATE_COUNTERS, [org_id], [resource], [view.used],
                           [_period(await _row(conn, org_id, resource)).start])
    await alerts.reconcile(conn, org_id, resource, view.limits, view.used, view.updated_at)
    return view


async def meter_limit(conn: asyncpg.Connection, org_id: str, meter: str) -> Decimal | None:
    """The limit a meter's use is shown and alerted against: its soft limit, else its hard limit,
    else the plan's (or negotiated) limit; None when unlimited."""
    rows = await conn.fetch(SELECT_QUOTAS, org_id, meter)
    if rows:
        return limits_of(rows[0]).base
    limit: Decimal | None = await conn.fetchval(SELECT_PLAN_LIMIT, org_id, meter)
    return limit


async def list_quotas(conn: asyncpg.Connection, org_id: str) -> list[QuotaView]:
    return await _views(conn, org_id, "")


async def _row(conn: asyncpg.Connection, org_id: str, resource: str) -> asyncpg.Record:
    return (await conn.fetch(SELECT_QUOTAS, org_id, resource))[0]


async def _views(conn: asyncpg.Connection, org_id: str, resource: str) -> list[QuotaView]:
    views = []
    for row in await conn.fetch(SELECT_QUOTAS, org_id, resource):
        if row["resource"] == CREDITS:
            used = row["credits_used"] if row["now"] < row["period_end"] else Decimal(0)
        else:
            period = _period(row)
            used = (await period_figure(conn, org_id, row["resource"], period.start, period.end)).used
        views.append(QuotaView(org_id, row["resource"], limits_of(row), used, row["updated_at"]))
    return views
