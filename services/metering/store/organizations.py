"""Organizations and their grants, as the seed data and the admin side create them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg

from services.kit.errors import FieldError, NotFoundError
from services.metering.domain.billing_period import period_containing
from services.metering.store.allowances import period_credits
from services.metering.store.periods import LOCK_BALANCE, open_period, period_grant
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

SELECT_PLAN = "SELECT 1 FROM plans WHERE plan_id = $1"


@dataclass(frozen=True)
class NewOrganization:
    org_id: str
    name: str
    plan_id: str = "free"
    billing_model: str = "credits"
    monthly_spend_cap_usd: Decimal | None = None
    billing_anchor: datetime | None = None  # default: now


async def create_organization(conn: asyncpg.Connection, org: NewOrganization) -> bool:
    """Creates the organization with its balance and first period's grant; False if it existed."""
    if await conn.fetchval(SELECT_PLAN, org.plan_id) is None:
        raise NotFoundError("plan_id", f"plan {org.plan_id!r} does not exist")
    anchor = org.billing_anchor or await conn.fetchval("SELECT statement_timestamp()")
    created = await conn.fetchval(INSERT_ORGANIZATION, org.org_id, org.name, org.plan_id,
                                  org.billing_model, org.monthly_spend_cap_usd, anchor)
    if created is None:
        return False
    row = await conn.fetchrow(SELECT_ORG_FOR_PERIOD, org.org_id)
    period = period_containing(anchor, row["now"])
    await conn.execute(INSERT_BALANCE, org.org_id, period.start, period.end, period_grant(row)[1])
    await open_period(conn, org.org_id, row, period, row["now"])
    await ensure_plan_quotas(conn, org.org_id)
    return True


async def add_bonus_grant(conn: asyncpg.Connection, org_id: str, amount: Decimal, source: str,
                          expires_at: datetime | None = None,
                          idempotency_key: str | None = None) -> tuple[int, bool]:
    """Grants bonus credits (referral, promotion); they never reset with the billing period.

    (grant_id, replayed): with an idempotency key already used, the grant it made and True (see
    `replayed_grant`)."""
    org = await conn.fetchrow(LOCK_BALANCE, org_id)
    if org is None:
        raise NotFoundError("org_id", f"organization {org_id!r} does not exist")
    earlier = await replayed_grant(conn, org_id, idempotency_key, amount, source, expires_at)
    if earlier is not None:
        return earlier, True
    grant_id: int = await conn.fetchval(INSERT_BONUS_GRANT, org_id, amount, expires_at, source,
                                        org["now"], idempotency_key)
    await conn.execute(INSERT_GRANT_ENTRY, org_id, grant_id, amount, source, org["now"])
    await conn.execute(ADD_BONUS_TO_BALANCE, org_id, amount, org["now"])
    await reconcile_alerts(conn, org_id)
    return grant_id, False


async def replayed_grant(conn: asyncpg.Connection, org_id: str, idempotency_key: str | None,
                         amount: Decimal, source: str, expires_at: datetime | None) -> int | None:
    """The grant made earlier under `idempotency_key`, None when there is none; a FieldError naming
    the first parameter that differs from that grant's. Call with the balance row locked."""
    if idempotency_key is None:
        return None
    row = await conn.fetchrow(SELECT_KEYED_GRANT, org_id, idempotency_key)
    if row is None:
        return None
    for field, stored, asked in (("amount", row["amount"], amount), ("source", row["source"], source),
                                 ("expires_at", row["expires_at"], expires_at)):
        if stored != asked:
            raise FieldError(field, "differs from the earlier grant with this idempotency_key; "
                                    "use a new idempotency_key for a different grant")
    grant_id: int = row["grant_id"]
    return grant_id


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


async def get_organization(conn: asyncpg.Connection, org_id: str) -> asyncpg.Record:
    row = await conn.fetchrow(SELECT_ORGANIZATION, org_id)
    if row is None:
        raise NotFoundError("org_id", f"organization {org_id!r} does not exist")
    return row


async def list_organizations(conn: asyncpg.Connection, after: str, limit: int) -> list[asyncpg.Record]:
    return list(await conn.fetch(SELECT_ORGANIZATIONS_PAGE, after, limit))


async def rename_organization(conn: asyncpg.Connection, org_id: str, name: str) -> asyncpg.Record:
    row = await conn.fetchrow(RENAME_ORGANIZATION, org_id, name)
    if row is None:
        raise NotFoundError("org_id", f"organization {org_id!r} does not exist")
    return row


async def list_grants(conn: asyncpg.Connection, org_id: str) -> list[asyncpg.Record]:
    await get_organization(conn, org_id)
    return list(await conn.fetch(SELECT_GRANTS, org_id))
