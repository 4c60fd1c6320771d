"""Subscription data (GET /api/v1/billing/subscription) and the current period's invoice preview
(broken down by service and by user), from the hourly roll-ups and our own prices. Both take an asyncpg
connection and an org_id, so any transport (gRPC, HTTP/JSON) can call them; None when the
organization does not exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg

from services.billing.domain import statement as figures
from services.billing.domain.statement import MeterTotal, RunningSegment
from services.billing.store import accounts
from services.kit.decimals import ZERO
from services.metering.domain.billing_period import BillingPeriod, period_containing
from services.metering.domain.usage_model import Aggregation
from services.metering.store.organizations import get_organization

SELECT_NOW = "SELECT statement_timestamp()"
SELECT_PLAN = "SELECT name, price_usd FROM plans WHERE plan_id = $1"
# Per meter and hour: the hour's quantity (a sum over users) and cost, and how the meter's
# readings aggregate (resources and sums: 'sum').
SELECT_METER_HOURS = """
SELECT u.meter, u.hour_start, sum(u.quantity) AS quantity, sum(u.cost_usd) AS cost_usd,
       coalesce(m.aggregation, 'sum') AS aggregation
FROM usage_hourly u
JOIN billing_meters b USING (meter)
LEFT JOIN meters m ON m.meter = b.usage_meter
WHERE u.org_id = $1 AND u.hour_start >= $2 AND u.hour_start < $3
GROUP BY u.meter, u.hour_start, m.aggregation"""
SELECT_METERS = """
SELECT b.meter, b.display_name, b.unit, b.source, b.service, b.category, b.stripe_scale,
       coalesce(b.unit_price_usd, (SELECT r.hourly_usd FROM resource_rates r
                                   WHERE r.resource = b.resource AND r.tier = b.tier
                                     AND r.effective_from <= $2
                                   ORDER BY r.effective_from DESC LIMIT 1)) AS unit_price_usd
FROM billing_meters b WHERE b.meter = ANY($1::text[])"""
# What Stripe holds for the period: the sum of what was delivered, or for a `last` meter the
# latest value delivered.
SELECT_DELIVERED = """
SELECT p.meter, CASE WHEN b.aggregation = 'last'
                     THEN (array_agg(p.value ORDER BY p.usage_day DESC, p.revision DESC))[1]
                     ELSE sum(p.value) END AS value
FROM stripe_pushes p JOIN billing_meters b USING (meter)
WHERE p.org_id = $1 AND p.status = 'delivered' AND p.usage_day >= $2 AND p.usage_day < $3
GROUP BY p.meter, b.aggregation"""
SELECT_BY_USER = """
SELECT u.user_id, coalesce(usr.name, '') AS name, sum(u.cost_usd) AS cost_usd
FROM usage_hourly u LEFT JOIN users usr ON usr.org_id = u.org_id AND usr.user_id = u.user_id
WHERE u.org_id = $1 AND u.hour_start >= $2 AND u.hour_start < $3
GROUP BY u.user_id, usr.name ORDER BY cost_usd DESC, u.user_id"""
SELECT_RUNNING = """
SELECT quantity, hourly_usd, started_at FROM resource_segments WHERE org_id = $1 AND ended_at IS NULL"""
SELECT_COUNTED_UNTIL = "SELECT max(hour_start) + interval '1 hour' FROM rollup_hours"


@dataclass(frozen=True)
class UserCost:
    user_id: str
    name: str
    cost_usd: Decimal


@dataclass(frozen=True)
class Statement:
    org_id: str
    plan_id: str
    plan_price_usd: Decimal | None
    period: BillingPeriod
    meters: list[MeterTotal]
    by_user: list[UserCost]
    usage_as_of: datetime | None
    stripe_customer_id: str | None
    subscription_id: str | None
    projected_resources_usd: Decimal

    @property
    def usage_total_usd(self) -> Decimal:
        return sum((m.cost_usd for m in self.meters), ZERO)

    @property
    def estimated_total_usd(self) -> Decimal:
        return (self.plan_price_usd or ZERO) + self.usage_total_usd + self.projected_resources_usd

    @property
    def total_usd(self) -> Decimal:
        return figures.to_cents((self.plan_price_usd or ZERO) + self.usage_total_usd)


async def statement(conn: asyncpg.Connection, org_id: str, now: datetime | None = None) -> Statement | None:
    """The organization's current billing period as far as the roll-ups have counted it."""
    org = await get_organization(conn, org_id)
    if org is None:
        return None
    at = now or await conn.fetchval(SELECT_NOW)
    period = period_containing(org.billing_anchor, at)
    start, end = figures.billed_days(period, org.billing_anchor)
    plan = await conn.fetchrow(SELECT_PLAN, org.plan_id)
    account = await accounts.account(conn, org_id)
    counted_until = await conn.fetchval(SELECT_COUNTED_UNTIL)
    running = [RunningSegment(**dict(r)) for r in await conn.fetch(SELECT_RUNNING, org_id)]
    return Statement(
        org_id=org_id, plan_id=org.plan_id, plan_price_usd=plan["price_usd"], period=period,
        meters=await _meters(conn, org_id, start, end, at), by_user=await _users(conn, org_id, start, end),
        usage_as_of=counted_until,
        stripe_customer_id=account.stripe_customer_id if account else None,
        subscription_id=account.stripe_subscription_id if account else None,
        projected_resources_usd=figures.projected_resources(running, max(counted_until or start, start), end),
    )


async def _meters(conn: asyncpg.Connection, org_id: str, start: datetime, end: datetime,
                  at: datetime) -> list[MeterTotal]:
    hours: dict[str, list[asyncpg.Record]] = {}
    for row in await conn.fetch(SELECT_METER_HOURS, org_id, start, end):
        hours.setdefault(row["meter"], []).append(row)
    delivered = {r["meter"]: int(r["value"]) for r in await conn.fetch(
        SELECT_DELIVERED, org_id, start.date(), end.date())}
    totals = []
    for row in await conn.fetch(SELECT_METERS, list(hours), at):
        totals.append(figures.meter_total(
            dict(row), Aggregation(hours[row["meter"]][0]["aggregation"]),
            [(h["hour_start"], h["quantity"], h["cost_usd"]) for h in hours[row["meter"]]],
            delivered.get(row["meter"], 0)))
    return sorted(totals, key=lambda m: (m.service, m.meter))


async def _users(conn: asyncpg.Connection, org_id: str, start: datetime, end: datetime) -> list[UserCost]:
    return [UserCost(**dict(r)) for r in await conn.fetch(SELECT_BY_USER, org_id, start, end)]
