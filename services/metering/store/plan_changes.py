"""Plan changes and spend caps: what changes now, and what waits for the next billing period.

An upgrade (a plan with more monthly credits) applies at once: the current period's monthly grant
grows by the difference prorated to the time left in the period. Any other change (a downgrade,
or a plan with the same credits) applies when the next period opens, so credits a customer already
has are never taken away mid-period. A new BYOM spend cap applies at once to the current period.
A negotiated allowance (Enterprise) applies from the next period, or at once like an upgrade.
Every change of a grant is an `adjust` ledger entry taken under the balance row lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

import asyncpg

from services.kit.decimals import CONTEXT
from services.kit.errors import FieldError, NotFoundError
from services.metering.domain.billing_period import BillingPeriod
from services.metering.store.organizations import get_organization
from services.metering.store.periods import LOCK_BALANCE, roll_period_if_due
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

INSERT_PLAN_REQUEST = """
INSERT INTO plan_change_requests (org_id, plan_id, note, requested_by) VALUES ($1, $2, $3, $4)
RETURNING *"""

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


async def change_plan(conn: asyncpg.Connection, org_id: str, plan_id: str) -> asyncpg.Record:
    org = await _lock(conn, org_id)
    plan = await conn.fetchrow(SELECT_PLAN, plan_id)
    if plan is None:
        raise NotFoundError("plan_id", f"plan {plan_id!r} does not exist")
    if plan_id == org["plan_id"]:
        await conn.execute(SET_NEXT_PLAN, org_id, None)
    elif org["monthly_credits"] is not None and plan["monthly_credits"] > org["monthly_credits"]:
        await conn.execute(SET_PLAN_NOW, org_id, plan_id)
        await ensure_plan_quotas(conn, org_id)
        if org["billing_model"] == "credits":
            extra = _prorated(org, plan["monthly_credits"] - org["monthly_credits"])
            await _resize(conn, org_id, org, "monthly", extra, f"upgrade to {plan_id}")
    else:
        await conn.execute(SET_NEXT_PLAN, org_id, plan_id)
    await reconcile_alerts(conn, org_id)
    return await get_organization(conn, org_id)


async def set_spend_cap(conn: asyncpg.Connection, org_id: str, cap: Decimal) -> asyncpg.Record:
    org = await _lock(conn, org_id)
    if org["billing_model"] != "byom":
        raise FieldError("org_id", "spend caps apply to BYOM organizations only")
    await conn.execute(SET_SPEND_CAP, org_id, cap)
    await _resize(conn, org_id, org, "spend_cap", cap - org["monthly_spend_cap_usd"], "spend cap change")
    await reconcile_alerts(conn, org_id)
    return await get_organization(conn, org_id)


async def set_allowance(conn: asyncpg.Connection, org_id: str, monthly_credits: Decimal,
                        limits: dict[str, Decimal | None], at_once: bool) -> Allowance:
    """Sets the negotiated allowance in force from now (`at_once`) or from the next period."""
    org = await _lock(conn, org_id)
    if not await conn.fetchval(SELECT_NEGOTIATED, org_id):
        raise FieldError("org_id", "negotiated allowances apply to organizations on a negotiated "
                                   "plan (Enterprise)")
    unknown = [r["m"] for r in await conn.fetch(SELECT_UNKNOWN_METERS, list(limits))]
    if unknown:
        index = list(limits).index(unknown[0])
        raise NotFoundError(f"limits[{index}].meter", f"meter {unknown[0]!r} does not exist")
    effective: datetime = org["now"] if at_once else org["period_end"]
    await conn.execute(UPSERT_ALLOWANCE, org_id, effective, monthly_credits)
    await conn.execute(DELETE_LIMITS, org_id, effective)
    await conn.execute(INSERT_LIMITS, org_id, effective, list(limits), list(limits.values()))
    if at_once and org["billing_model"] == "credits":
        before = org["monthly_credits"] or Decimal(0)  # none in force yet: no credits granted
        await _resize(conn, org_id, org, "monthly", _prorated(org, monthly_credits - before),
                      "negotiated allowance")
    await ensure_plan_quotas(conn, org_id)
    await reconcile_alerts(conn, org_id)
    return Allowance(org_id, effective, monthly_credits, limits)


def _prorated(org: asyncpg.Record, delta: Decimal) -> Decimal:
    """A change of the monthly credits, for the part of the current period still to come."""
    period = BillingPeriod(org["period_start"], org["period_end"])
    share = CONTEXT.divide(period.exact_days_remaining(org["now"]), period.exact_days_remaining(period.start))
    return CONTEXT.multiply(delta, share).quantize(CREDIT_STEP, ROUND_DOWN)


async def request_plan_change(conn: asyncpg.Connection, org_id: str, plan_id: str, note: str,
                              requested_by: str) -> asyncpg.Record:
    if await conn.fetchrow(SELECT_PLAN, plan_id) is None:
        raise NotFoundError("plan_id", f"plan {plan_id!r} does not exist")
    await get_organization(conn, org_id)
    return await conn.fetchrow(INSERT_PLAN_REQUEST, org_id, plan_id, note, requested_by)


async def _lock(conn: asyncpg.Connection, org_id: str) -> asyncpg.Record:
    org = await conn.fetchrow(LOCK_BALANCE, org_id)
    if org is None:
        raise NotFoundError("org_id", f"organization {org_id!r} does not exist")
    return await roll_period_if_due(conn, org_id, org)


async def _resize(conn: asyncpg.Connection, org_id: str, org: asyncpg.Record, kind: str,
                  delta: Decimal, reason: str) -> None:
    """Grows (or shrinks) the current period grant by `delta`; what was spent stays spent.

    The period's allowance is tracked as `amount`; a shrink below what was already consumed
    leaves nothing remaining, and a later growth starts again from the allowance, not from 0.
    """
    grant = await conn.fetchrow(SELECT_PERIOD_GRANT, org_id, kind, org["period_start"])
    if grant is None or delta == 0:
        return
    consumed = grant["amount"] - grant["remaining"]
    allowance = org["monthly_spend_cap_usd"] + delta if kind == "spend_cap" else grant["amount"] + delta
    remaining = max(Decimal(0), allowance - consumed)
    change = remaining - grant["remaining"]
    await conn.execute(SET_GRANT, org_id, grant["grant_id"], max(allowance, consumed), remaining)
    await conn.execute(INSERT_ADJUST_ENTRY, org_id, grant["grant_id"], change, reason, org["now"])
    await conn.execute(ADD_TO_MONTHLY_BALANCE, org_id, change, org["now"])
