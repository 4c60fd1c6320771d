"""Opening billing periods: each period's monthly grant (credits, or a BYOM org's USD cap).

Runs inside the caller's transaction while it holds the organization's balance row lock. Unused
monthly credits of the ended period lapse through an `expire` ledger entry; bonus grants carry
over untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Protocol, cast

import asyncpg

from services.metering.domain.billing_period import BillingPeriod, period_containing
from services.metering.store.allowances import period_credits
from services.metering.store.quota_limits import ensure_plan_quotas, reconcile_alerts

# The lock every balance change takes, with what opening a period needs to know: the columns
# of a LockedBalance and the locked row's source, which the credit ledger's own locking read
# extends (credit_books.LOCK_AND_READ_BOOK).
LOCKED_BALANCE_COLUMNS = f"""
       b.period_start, b.period_end, b.reserved, b.period_used, b.monthly_remaining,
       b.bonus_remaining, o.billing_model, o.billing_anchor, o.monthly_spend_cap_usd, o.plan_id,
       o.next_plan_id, {period_credits('$1')} AS monthly_credits, statement_timestamp() AS now,
       cq.soft_limit, cq.hard_limit, cq.alert_at_percent, coalesce(cq.alert_enabled, true) AS alert_enabled"""
LOCKED_BALANCE_ROW = """
FROM balances b
JOIN organizations o USING (org_id)
LEFT JOIN quotas cq ON cq.org_id = b.org_id AND cq.resource = 'credits'
WHERE b.org_id = $1
FOR UPDATE OF b"""
LOCK_BALANCE = f"SELECT {LOCKED_BALANCE_COLUMNS}{LOCKED_BALANCE_ROW}"

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


class PeriodTerms(Protocol):
    """What decides the grant every billing period brings an organization."""

    @property
    def billing_model(self) -> str: ...  # credits | byom

    @property
    def monthly_spend_cap_usd(self) -> Decimal | None: ...  # BYOM only

    @property
    def monthly_credits(self) -> Decimal | None: ...  # None: a negotiated plan without an allowance


@dataclass(frozen=True)
class Terms:
    """The period terms read off a row other than the locked balance (a new organization's, a
    usage read's)."""

    billing_model: str
    monthly_spend_cap_usd: Decimal | None
    monthly_credits: Decimal | None


def terms_of(row: asyncpg.Record) -> Terms:
    return Terms(row["billing_model"], row["monthly_spend_cap_usd"], row["monthly_credits"])


# Not frozen: it is built on every ledger batch, and a frozen dataclass's __init__ of this many
# fields costs several times more. It is replaced (dataclasses.replace), never mutated.
@dataclass(slots=True)
class LockedBalance:
    """The organization's balance row, locked until the caller's transaction ends, with what a
    balance change needs of the organization and of its credits quota."""

    period_start: datetime
    period_end: datetime
    reserved: Decimal
    period_used: Decimal
    monthly_remaining: Decimal
    bonus_remaining: Decimal
    billing_model: str
    billing_anchor: datetime
    monthly_spend_cap_usd: Decimal | None
    plan_id: str
    next_plan_id: str | None
    monthly_credits: Decimal | None
    now: datetime
    soft_limit: Decimal | None
    hard_limit: Decimal | None
    alert_at_percent: int | None
    alert_enabled: bool


def locked_balance(row: asyncpg.Record) -> LockedBalance:
    """The row of LOCK_BALANCE."""
    return LockedBalance(
        period_start=row["period_start"], period_end=row["period_end"], reserved=row["reserved"],
        period_used=row["period_used"], monthly_remaining=row["monthly_remaining"],
        bonus_remaining=row["bonus_remaining"], billing_model=row["billing_model"],
        billing_anchor=row["billing_anchor"], monthly_spend_cap_usd=row["monthly_spend_cap_usd"],
        plan_id=row["plan_id"], next_plan_id=row["next_plan_id"], monthly_credits=row["monthly_credits"],
        now=row["now"], soft_limit=row["soft_limit"], hard_limit=row["hard_limit"],
        alert_at_percent=row["alert_at_percent"], alert_enabled=row["alert_enabled"],
    )


def period_grant(org: PeriodTerms) -> tuple[str, Decimal]:
    """The kind and amount of the grant every period brings for this organization."""
    if org.billing_model == "byom":
        # BYOM organizations are created with a cap (services/metering/service/administration.py).
        return "spend_cap", cast(Decimal, org.monthly_spend_cap_usd)
    return "monthly", org.monthly_credits or Decimal(0)


def credits_unlimited(org: PeriodTerms) -> bool:
    """On a negotiated plan without an allowance in force: no credit limit."""
    return org.billing_model != "byom" and org.monthly_credits is None


async def open_period(conn: asyncpg.Connection, org_id: str, org: PeriodTerms,
                      period: BillingPeriod, now: datetime) -> None:
    kind, amount = period_grant(org)
    grant_id = await conn.fetchval(INSERT_PERIOD_GRANT, org_id, kind, amount, period.start,
                                   period.end, now)
    await conn.execute(INSERT_GRANT_ENTRY, org_id, grant_id, amount,
                       f"period {period.start.isoformat()}", now)


async def roll_period_if_due(conn: asyncpg.Connection, org_id: str, org: LockedBalance) -> LockedBalance:
    """Opens the current period when the stored one has ended; returns the (updated) balance row."""
    now = org.now
    if now < org.period_end:
        return org
    updated = org
    if org.next_plan_id is not None:
        plan = await conn.fetchrow(APPLY_NEXT_PLAN, org_id)
        updated = replace(updated, plan_id=plan["plan_id"], next_plan_id=None)
    # A new plan or allowance may take effect with the period: its credits and limits.
    updated = replace(updated, monthly_credits=await conn.fetchval(SELECT_PERIOD_CREDITS, org_id))
    await ensure_plan_quotas(conn, org_id)
    period = period_containing(org.billing_anchor, now)
    await conn.execute(EXPIRE_ENDED_PERIOD_GRANTS, org_id, now)
    await open_period(conn, org_id, updated, period, now)
    monthly = period_grant(updated)[1]
    await conn.execute(SET_BALANCE_PERIOD, org_id, period.start, period.end, monthly, now)
    updated = replace(updated, period_start=period.start, period_end=period.end, period_used=Decimal(0),
                      monthly_remaining=monthly)
    await reconcile_alerts(conn, org_id)
    return updated
