"""Subscription data (doc 002 GET /billing/subscription) and the current period's invoice preview
(doc 003 cost breakdown), from the hourly roll-ups and our own prices. Both take an asyncpg
connection and an org_id, so any transport (gRPC, HTTP/JSON) can call them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import asyncpg

from services.billing.domain import statement as figures
from services.billing.domain.statement import MeterTotal, RunningSegment
from services.billing.store import accounts
from services.domain.billing_period import BillingPeriod, period_containing
from services.domain.decimals import ZERO
from services.metering.store.organizations import get_organization

SELECT_NOW = "SELECT statement_timestamp()"
SELECT_PLAN = "SELECT name, price_usd FROM plans WHERE plan_id = $1"
SELECT_METER_DAYS = """
SELECT u.meter, (u.hour_start AT TIME ZONE 'UTC')::date AS day, sum(u.quantity) AS quantity,
       sum(u.cost_usd) AS cost_usd
FROM usage_hourly u
WHERE u.org_id = $1 AND u.hour_start >= $2 AND u.hour_start < $3
GROUP BY u.meter, day"""
SELECT_METERS = """
SELECT b.meter, b.display_name, b.unit, b.source, b.service, b.category, b.stripe_scale,
       coalesce(b.unit_price_usd, (SELECT r.hourly_usd FROM resource_rates r
                                   WHERE r.resource = b.resource AND r.tier = b.tier
                                     AND r.effective_from <= $2
                                   ORDER BY r.effective_from DESC LIMIT 1)) AS unit_price_usd
FROM billing_meters b WHERE b.meter = ANY($1::text[])"""
SELECT_DELIVERED = """
SELECT meter, sum(value) AS value FROM stripe_pushes
WHERE org_id = $1 AND status = 'delivered' AND usage_day >= $2 AND usage_day < $3
GROUP BY meter"""
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


async def statement(conn: asyncpg.Connection, org_id: str, now: datetime | None = None) -> Statement:
    """The organization's current billing period as far as the roll-ups have counted it."""
    org = await get_organization(conn, org_id)
    at = now or await conn.fetchval(SELECT_NOW)
    period = period_containing(org["billing_anchor"], at)
    start, end = figures.billed_days(period, org["billing_anchor"])
    plan = await conn.fetchrow(SELECT_PLAN, org["plan_id"])
    account = await accounts.account(conn, org_id)
    counted_until = await conn.fetchval(SELECT_COUNTED_UNTIL)
    running = [RunningSegment(**dict(r)) for r in await conn.fetch(SELECT_RUNNING, org_id)]
    return Statement(
        org_id=org_id, plan_id=org["plan_id"], plan_price_usd=plan["price_usd"], period=period,
        meters=await _meters(conn, org_id, start, end, at), by_user=await _users(conn, org_id, start, end),
        usage_as_of=counted_until,
        stripe_customer_id=account["stripe_customer_id"] if account else None,
        subscription_id=account["stripe_subscription_id"] if account else None,
        projected_resources_usd=figures.projected_resources(running, max(counted_until or start, start), end),
    )


async def _meters(conn: asyncpg.Connection, org_id: str, start: datetime, end: datetime,
                  at: datetime) -> list[MeterTotal]:
    days: dict[str, dict[date, tuple[Decimal, Decimal]]] = {}
    for row in await conn.fetch(SELECT_METER_DAYS, org_id, start, end):
        days.setdefault(row["meter"], {})[row["day"]] = (row["quantity"], row["cost_usd"])
    delivered = {r["meter"]: int(r["value"]) for r in await conn.fetch(
        SELECT_DELIVERED, org_id, start.date(), end.date())}
    totals = []
    for row in await conn.fetch(SELECT_METERS, list(days), at):
        per_day = days[row["meter"]]
        totals.append(MeterTotal(
            **dict(row), quantity=sum((q for q, _ in per_day.values()), ZERO),
            cost_usd=sum((c for _, c in per_day.values()), ZERO),
            days={d: q for d, (q, _) in per_day.items()}, delivered=delivered.get(row["meter"], 0),
        ))
    return sorted(totals, key=lambda m: (m.service, m.meter))


async def _users(conn: asyncpg.Connection, org_id: str, start: datetime, end: datetime) -> list[UserCost]:
    return [UserCost(**dict(r)) for r in await conn.fetch(SELECT_BY_USER, org_id, start, end)]
