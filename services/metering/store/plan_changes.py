"""Plan changes and spend caps: what changes now, and what waits for the next billing period.

An upgrade (a plan with more monthly credits) applies at once: the current period's monthly grant
grows by the difference prorated to the time left in the period. Any other change (a downgrade,
or a plan with the same credits) applies when the next period opens, so credits a customer already
has are never taken away mid-period. A new BYOM spend cap applies at once to the current period.
A negotiated allowance (Enterprise) applies from the next period, or at once like an upgrade.
Every change of a grant is an `adjust` ledger entry taken under the balance row lock.
The service layer checks what a change needs (the organization, the plan, the meters) and calls
these with the balance row locked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

import asyncpg

from services.kit.decimals import CONTEXT
from services.metering.domain.billing_period import BillingPeriod
from services.metering.store.periods import LOCK_BALANCE, locked_balance, roll_period_if_due
from services.metering.store.quota_limits import ensure_plan_quotas, reconcile_alerts

SELECT_PLAN = "SELECT plan_id, monthly_credits FROM plans WHERE plan_id = $1"

SET_PLAN_NOW = "UPDATE organizations SET plan_id = $2, next_plan_id = NULL WHERE org_id = $1"
SET_NEXT_PLAN = "UPDATE organizations SET next_plan_id = $2 WHERE org_id = $1"
SET_SPEND_CAP = "UPDATE organizations SET monthly_spend_cap_usd = $2 WHERE org_id = $1"

SELECT_PERIOD_GRANT = """
SELECT grant_id, amount, remaining FROM credit_grants
WHERE org_id = $1 AND kind = $2 AND period_start = $3
FOR UPDATE"""

SET_GRANT = """
UPDATE credit_grants SET amount = $3, remaining = $4 WHERE org_id = $1 AND grant_id = $2"""

INSERT_ADJUST_ENTRY = """
INSERT INTO ledger_entries (org_id, kind, grant_id, amount, reference, created_at)
VALUES ($1, 'adjust', $2, $3, $4, $5)"""

ADD_TO_MONTHLY_BALANCE = """
UPDATE balances SET monthly_remaining = monthly_remaining + $2, updated_at = $3 WHERE org_id = $1"""

SELECT_NEGOTIATED = """
SELECT p.negotiated FROM organizations o JOIN plans p USING (plan_id) WHERE o.org_id = $1"""

SELECT_UNKNOWN_METERS = """
SELECT m FROM unnest($1::text[]) AS m WHERE NOT EXISTS (SELECT 1 FROM meters WHERE meter = m)"""

UPSERT_ALLOWANCE = """
INSERT INTO negotiated_allowances (org_id, effective_from, monthly_credits, set_at)
VALUES ($1, $2, $3, statement_timestamp())
ON CONFLICT (org_id, effective_from) DO UPDATE
SET monthly_credits = EXCLUDED.monthly_credits, set_at = EXCLUDED.set_at"""

DELETE_LIMITS = "DELETE FROM negotiated_limits WHERE org_id = $1 AND effective_from = $2"

INSERT_LIMITS = """
INSERT INTO negotiated_limits (org_id, effective_from, meter, limit_quantity)
SELECT $1, $2, l.meter, l.limit_quantity FROM unnest($3::text[], $4::numeric[]) AS l(meter, limit_quantity)"""

CREDIT_STEP = Decimal("0.000001")


@dataclass(frozen=True)
class Allowance:
    org_id: str
    effective_from: datetime
    monthly_credits: Decimal
    limits: dict[str, Decimal | None]  # meter -> limit; None: unlimited


@dataclass(frozen=True)
class Plan:
    plan_id: str
    monthly_credits: Decimal


@dataclass(frozen=True)
class LockedOrganization:
    """An organization with its balance row locked until the transaction ends, its current period
    opened when the stored one had ended."""

    org_id: str
    plan_id: str
    billing_model: str
    monthly_credits: Decimal | None  # none in force yet (a negotiated plan without an allowance)
    monthly_spend_cap_usd: Decimal | None
    period: BillingPeriod
    now: datetime


async def lock_organization(conn: asyncpg.Connection, org_id: str) -> LockedOrganization | None:
    row = await conn.fetchrow(LOCK_BALANCE, org_id)
    if row is None:
        return None
    org = await roll_period_if_due(conn, org_id, locked_balance(row))
    return LockedOrganization(
        org_id=org_id, plan_id=org.plan_id, billing_model=org.billing_model,
        monthly_credits=org.monthly_credits, monthly_spend_cap_usd=org.monthly_spend_cap_usd,
        period=BillingPeriod(org.period_start, org.period_end), now=org.now,
    )


async def find_plan(conn: asyncpg.Connection, plan_id: str) -> Plan | None:
    row = await conn.fetchrow(SELECT_PLAN, plan_id)
    return None if row is None else Plan(row["plan_id"], row["monthly_credits"])


async def is_negotiated(conn: asyncpg.Connection, org_id: str) -> bool:
    """Whether the organization's plan is negotiated (Enterprise)."""
    return bool(await conn.fetchval(SELECT_NEGOTIATED, org_id))


async def unknown_meters(conn: asyncpg.Connection, meters: list[str]) -> list[str]:
    """The meters of `meters` that do not exist, in their order."""
    unknown = {r["m"] for r in await conn.fetch(SELECT_UNKNOWN_METERS, meters)}
    return [m for m in meters if m in unknown]


async def change_plan(conn: asyncpg.Connection, org: LockedOrganization, plan: Plan) -> None:
    if plan.plan_id == org.plan_id:
        await conn.execute(SET_NEXT_PLAN, org.org_id, None)
    elif org.monthly_credits is not None and plan.monthly_credits > org.monthly_credits:
        await conn.execute(SET_PLAN_NOW, org.org_id, plan.plan_id)
        await ensure_plan_quotas(conn, org.org_id)
        if org.billing_model == "credits":
            extra = _prorated(org, plan.monthly_credits - org.monthly_credits)
            await _resize(conn, org, "monthly", extra, f"upgrade to {plan.plan_id}")
    else:
        await conn.execute(SET_NEXT_PLAN, org.org_id, plan.plan_id)
    await reconcile_alerts(conn, org.org_id)


async def set_spend_cap(conn: asyncpg.Connection, org: LockedOrganization, cap: Decimal) -> None:
    """Sets the cap of a BYOM organization (one with a spend cap) and resizes its period grant."""
    assert org.monthly_spend_cap_usd is not None
    await conn.execute(SET_SPEND_CAP, org.org_id, cap)
    await _resize(conn, org, "spend_cap", cap - org.monthly_spend_cap_usd, "spend cap change")
    await reconcile_alerts(conn, org.org_id)


async def set_allowance(conn: asyncpg.Connection, org: LockedOrganization, monthly_credits: Decimal,
                        limits: dict[str, Decimal | None], at_once: bool) -> Allowance:
    """Sets the negotiated allowance in force from now (`at_once`) or from the next period."""
    effective = org.now if at_once else org.period.end
    await conn.execute(UPSERT_ALLOWANCE, org.org_id, effective, monthly_credits)
    await conn.execute(DELETE_LIMITS, org.org_id, effective)
    await conn.execute(INSERT_LIMITS, org.org_id, effective, list(limits), list(limits.values()))
    if at_once and org.billing_model == "credits":
        before = org.monthly_credits or Decimal(0)  # none in force yet: no credits granted
        await _resize(conn, org, "monthly", _prorated(org, monthly_credits - before), "negotiated allowance")
    await ensure_plan_quotas(conn, org.org_id)
    await reconcile_alerts(conn, org.org_id)
    return Allowance(org.org_id, effective, monthly_credits, limits)


def _prorated(org: LockedOrganization, delta: Decimal) -> Decimal:
    """A change of the monthly credits, for the part of the current period still to come."""
    period = org.period
    share = CONTEXT.divide(period.exact_days_remaining(org.now), period.exact_days_remaining(period.start))
    return CONTEXT.multiply(delta, share).quantize(CREDIT_STEP, ROUND_DOWN)


async def _resize(conn: asyncpg.Connection, org: LockedOrganization, kind: str, delta: Decimal,
                  reason: str) -> None:
    """Grows (or shrinks) the current period grant by `delta`; what was spent stays spent.

    The period's allowance is tracked as `amount`; a shrink below what was already consumed
    leaves nothing remaining, and a later growth starts again from the allowance, not from 0.
    """
    grant = await conn.fetchrow(SELECT_PERIOD_GRANT, org.org_id, kind, org.period.start)
    if grant is None or delta == 0:
        return
    consumed = grant["amount"] - grant["remaining"]
    if kind == "spend_cap":
        assert org.monthly_spend_cap_usd is not None
        allowance = org.monthly_spend_cap_usd + delta
    else:
        allowance = grant["amount"] + delta
    remaining = max(Decimal(0), allowance - consumed)
    change = remaining - grant["remaining"]
    await conn.execute(SET_GRANT, org.org_id, grant["grant_id"], max(allowance, consumed), remaining)
    await conn.execute(INSERT_ADJUST_ENTRY, org.org_id, grant["grant_id"], change, reason, org.now)
    await conn.execute(ADD_TO_MONTHLY_BALANCE, org.org_id, change, org.now)
