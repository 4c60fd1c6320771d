"""Organizations and their grants, as the seed data and the admin side create them.

The service layer checks what a write needs (the plan, the organization, a reused idempotency key
asking for the same grant) in its unit of work; these return what they found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg

from services.metering.domain.billing_period import period_containing
from services.metering.store.allowances import period_credits
from services.metering.store.periods import LOCK_BALANCE, open_period, period_grant, terms_of
from services.metering.store.quota_limits import ensure_plan_quotas, reconcile_alerts

INSERT_ORGANIZATION = """
INSERT INTO organizations (org_id, name, plan_id, billing_model, monthly_spend_cap_usd, billing_anchor)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (org_id) DO NOTHING
RETURNING org_id"""

SELECT_ORG_FOR_PERIOD = f"""
SELECT o.billing_model, o.monthly_spend_cap_usd, o.billing_anchor,
       {period_credits('$1')} AS monthly_credits, statement_timestamp() AS now
FROM organizations o
WHERE o.org_id = $1"""

INSERT_BALANCE = """
INSERT INTO balances (org_id, period_start, period_end, monthly_remaining, bonus_remaining,
                      reserved, period_used)
VALUES ($1, $2, $3, $4, 0, 0, 0)"""

INSERT_BONUS_GRANT = """
INSERT INTO credit_grants (org_id, kind, amount, remaining, expires_at, source, created_at, idempotency_key)
VALUES ($1, 'bonus', $2, $2, $3, $4, $5, $6)
RETURNING grant_id"""

SELECT_KEYED_GRANT = """
SELECT grant_id, amount, source, expires_at FROM credit_grants WHERE org_id = $1 AND idempotency_key = $2"""

INSERT_GRANT_ENTRY = """
INSERT INTO ledger_entries (org_id, kind, grant_id, amount, reference, created_at)
VALUES ($1, 'grant', $2, $3, $4, $5)"""

ADD_BONUS_TO_BALANCE = """
UPDATE balances SET bonus_remaining = bonus_remaining + $2, updated_at = $3 WHERE org_id = $1"""


SELECT_ORGANIZATION = """
SELECT org_id, name, plan_id, next_plan_id, billing_model, monthly_spend_cap_usd, billing_anchor,
       created_at
FROM organizations WHERE org_id = $1"""

SELECT_ORGANIZATIONS_PAGE = """
SELECT org_id, name, plan_id, next_plan_id, billing_model, monthly_spend_cap_usd, billing_anchor,
       created_at
FROM organizations WHERE org_id > $1 ORDER BY org_id LIMIT $2"""

RENAME_ORGANIZATION = """
UPDATE organizations SET name = $2 WHERE org_id = $1
RETURNING org_id, name, plan_id, next_plan_id, billing_model, monthly_spend_cap_usd, billing_anchor,
          created_at"""

SELECT_GRANTS = """
SELECT grant_id, kind, amount, remaining, expires_at, source, created_at FROM credit_grants
WHERE org_id = $1 ORDER BY grant_id"""


@dataclass(frozen=True)
class NewOrganization:
    org_id: str
    name: str
    plan_id: str = "free"
    billing_model: str = "credits"
    monthly_spend_cap_usd: Decimal | None = None
    billing_anchor: datetime | None = None  # default: now


@dataclass(frozen=True)
class Organization:
    org_id: str
    name: str
    plan_id: str
    next_plan_id: str | None  # the plan waiting for the next billing period
    billing_model: str  # credits | byom
    monthly_spend_cap_usd: Decimal | None  # BYOM only
    billing_anchor: datetime
    created_at: datetime


@dataclass(frozen=True)
class CreditGrant:
    grant_id: int
    kind: str  # monthly | spend_cap | bonus
    amount: Decimal
    remaining: Decimal
    expires_at: datetime | None
    source: str
    created_at: datetime


@dataclass(frozen=True)
class BonusGrant:
    """A bonus grant as asked, or, when its idempotency key was used before, as it was made then."""

    grant_id: int
    amount: Decimal
    source: str
    expires_at: datetime | None
    replayed: bool  # made earlier under the same idempotency key; nothing was written now


async def create_organization(conn: asyncpg.Connection, org: NewOrganization) -> bool:
    """Creates the organization on its (existing) plan with its balance and first period's grant;
    False if it existed."""
    anchor = org.billing_anchor or await conn.fetchval("SELECT statement_timestamp()")
    created = await conn.fetchval(INSERT_ORGANIZATION, org.org_id, org.name, org.plan_id,
                                  org.billing_model, org.monthly_spend_cap_usd, anchor)
    if created is None:
        return False
    row = await conn.fetchrow(SELECT_ORG_FOR_PERIOD, org.org_id)
    period, terms = period_containing(anchor, row["now"]), terms_of(row)
    await conn.execute(INSERT_BALANCE, org.org_id, period.start, period.end, period_grant(terms)[1])
    await open_period(conn, org.org_id, terms, period, row["now"])
    await ensure_plan_quotas(conn, org.org_id)
    return True


async def add_bonus_grant(conn: asyncpg.Connection, org_id: str, amount: Decimal, source: str,
                          expires_at: datetime | None = None,
                          idempotency_key: str | None = None) -> BonusGrant | None:
    """Grants bonus credits (referral, promotion); they never reset with the billing period.

    With an idempotency key already used, the grant made under it (`replayed`), whatever was asked
    now: the caller compares the two. None when the organization does not exist."""
    org = await conn.fetchrow(LOCK_BALANCE, org_id)
    if org is None:
        return None
    if idempotency_key is not None:
        earlier = await conn.fetchrow(SELECT_KEYED_GRANT, org_id, idempotency_key)
        if earlier is not None:
            return BonusGrant(earlier["grant_id"], earlier["amount"], earlier["source"],
                              earlier["expires_at"], replayed=True)
    grant_id: int = await conn.fetchval(INSERT_BONUS_GRANT, org_id, amount, expires_at, source,
                                        org["now"], idempotency_key)
    await conn.execute(INSERT_GRANT_ENTRY, org_id, grant_id, amount, source, org["now"])
    await conn.execute(ADD_BONUS_TO_BALANCE, org_id, amount, org["now"])
    await reconcile_alerts(conn, org_id)
    return BonusGrant(grant_id, amount, source, expires_at, replayed=False)


async def get_organization(conn: asyncpg.Connection, org_id: str) -> Organization | None:
    row = await conn.fetchrow(SELECT_ORGANIZATION, org_id)
    return None if row is None else _organization(row)


async def list_organizations(conn: asyncpg.Connection, after: str, limit: int) -> list[Organization]:
    return [_organization(row) for row in await conn.fetch(SELECT_ORGANIZATIONS_PAGE, after, limit)]


async def rename_organization(conn: asyncpg.Connection, org_id: str, name: str) -> Organization | None:
    row = await conn.fetchrow(RENAME_ORGANIZATION, org_id, name)
    return None if row is None else _organization(row)


async def list_grants(conn: asyncpg.Connection, org_id: str) -> list[CreditGrant]:
    return [CreditGrant(**dict(row)) for row in await conn.fetch(SELECT_GRANTS, org_id)]


def _organization(row: asyncpg.Record) -> Organization:
    return Organization(**dict(row))
