"""Opening billing periods: each period's monthly grant (credits, or a BYOM org's USD cap).

Runs inside the caller's transaction while it holds the organization's balance row lock. Unused
monthly credits of the ended period lapse through an `expire` ledger entry; bonus grants carry
over untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from services.metering.domain.billing_period import BillingPeriod, period_containing
from services.metering.store.allowances import period_credits
from services.metering.store.quota_limits import ensure_plan_quotas, reconcile_alerts

# The lock every balance change takes, with what opening a period needs to know.
LOCK_BALANCE = f"""
SELECT b.period_start, b.period_end, b.reserved, b.period_used, b.monthly_remaining,
       b.bonus_remaining, o.billing_model, o.billing_anchor, o.monthly_spend_cap_usd, o.plan_id,
       o.next_plan_id, {period_credits('$1')} AS monthly_credits, statement_timestamp() AS now,
       cq.soft_limit, cq.hard_limit, cq.alert_at_percent, coalesce(cq.alert_enabled, true) AS alert_enabled
FROM balances b
JOIN organizations o USING (org_id)
LEFT JOIN quotas cq ON cq.org_id = b.org_id AND cq.resource = 'credits'
WHERE b.org_id = $1
FOR UPDATE OF b"""

APPLY_NEXT_PLAN = """
UPDATE organizations o SET plan_id = o.next_plan_id, next_plan_id = NULL
FROM plans p
WHERE o.org_id = $1 AND p.plan_id = o.next_plan_id
RETURNING p.plan_id"""

SELECT_PERIOD_CREDITS = f"SELECT {period_credits('$1')}"

INSERT_PERIOD_GRANT = """
INSERT INTO credit_grants (org_id, kind, amount, remaining, period_start, expires_at, source, created_at)
VALUES ($1, $2, $3, $3, $4, $5, 'plan', $6)
RETURNING grant_id"""

INSERT_GRANT_ENTRY = """
INSERT INTO ledger_entries (org_id, kind, grant_id, amount, reference, created_at)
VALUES ($1, 'grant', $2, $3, $4, $5)"""

EXPIRE_ENDED_PERIOD_GRANTS = """
WITH lapsed AS (
    SELECT grant_id, remaining FROM credit_grants
    WHERE org_id = $1 AND kind IN ('monthly', 'spend_cap') AND remaining > 0 AND expires_at <= $2
    FOR UPDATE
), zeroed AS (
    UPDATE credit_grants g SET remaining = 0 FROM lapsed l WHERE g.org_id = $1 AND g.grant_id = l.grant_id
)
INSERT INTO ledger_entries (org_id, kind, grant_id, amount, reference, created_at)
SELECT $1, 'expire', grant_id, -remaining, 'period ended', $2 FROM lapsed"""

SET_BALANCE_PERIOD = """
UPDATE balances
SET period_start = $2, period_end = $3, period_used = 0, monthly_remaining = $4, updated_at = $5
WHERE org_id = $1"""


def period_grant(org: Mapping[str, Any]) -> tuple[str, Decimal]:
    """The kind and amount of the grant every period brings for this organization."""
    if org["billing_model"] == "byom":
        return "spend_cap", org["monthly_spend_cap_usd"]
    return "monthly", org["monthly_credits"] or Decimal(0)


def credits_unlimited(org: Mapping[str, Any]) -> bool:
    """On a negotiated plan without an allowance in force: no credit limit."""
    return org["billing_model"] != "byom" and org["monthly_credits"] is None


async def open_period(conn: asyncpg.Connection, org_id: str, org: Mapping[str, Any],
                      period: BillingPeriod, now: datetime) -> None:
    kind, amount = period_grant(org)
    grant_id = await conn.fetchval(INSERT_PERIOD_GRANT, org_id, kind, amount, period.start,
                                   period.end, now)
    await conn.execute(INSERT_GRANT_ENTRY, org_id, grant_id, amount,
                       f"period {period.start.isoformat()}", now)


async def roll_period_if_due(conn: asyncpg.Connection, org_id: str,
                             org: Mapping[str, Any]) -> Mapping[str, Any]:
    """Opens the current period when the stored one has ended; returns the (updated) balance row."""
    now: datetime = org["now"]
    if now < org["period_end"]:
        return org
    updated = dict(org)
    if org["next_plan_id"] is not None:
        plan = await conn.fetchrow(APPLY_NEXT_PLAN, org_id)
        updated.update(plan_id=plan["plan_id"], next_plan_id=None)
    # A new plan or allowance may take effect with the period: its credits and limits.
    updated.update(monthly_credits=await conn.fetchval(SELECT_PERIOD_CREDITS, org_id))
    await ensure_plan_quotas(conn, org_id)
    period = period_containing(org["billing_anchor"], now)
    await conn.execute(EXPIRE_ENDED_PERIOD_GRANTS, org_id, now)
    await open_period(conn, org_id, updated, period, now)
    monthly = period_grant(updated)[1]
    await conn.execute(SET_BALANCE_PERIOD, org_id, period.start, period.end, monthly, now)
    updated.update(period_start=period.start, period_end=period.end, period_used=Decimal(0),
                   monthly_remaining=monthly)
    await reconcile_alerts(conn, org_id)
    return updated
