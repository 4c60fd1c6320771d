"""What the credit ledger's batches read under the organization's balance row lock besides the
book (`credit_books.lock_book`): LLM prices and the credit rate in force and a BYOM
organization's overspend; and the organizations whose holds have lapsed. Writing the batch is
`credit_books.save_book`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import asyncpg

from services.metering.domain.pricing import LlmPrice
from services.metering.store.quota_limits import OVERSPENT

SELECT_PRICES = """
SELECT DISTINCT ON (model) model, input_usd_per_mtok, output_usd_per_mtok,
       cache_read_usd_per_mtok, cache_write_usd_per_mtok
FROM llm_prices
WHERE model = ANY($1::text[]) AND effective_from <= $2
ORDER BY model, effective_from DESC"""

SELECT_CREDIT_RATE = """
SELECT credits_per_usd FROM credit_rates WHERE effective_from <= $1
ORDER BY effective_from DESC LIMIT 1"""

SELECT_ORGS_WITH_EXPIRED_HOLDS = """
SELECT DISTINCT org_id FROM holds WHERE status = 'open' AND expires_at <= statement_timestamp()
LIMIT $1"""

SELECT_OVERSPENT = f"""
SELECT {OVERSPENT} FROM balances b JOIN organizations o USING (org_id) WHERE b.org_id = $1"""


async def prices_at(conn: asyncpg.Connection, models: list[str], now: datetime) -> dict[str, LlmPrice]:
    """Each model's price in force at `now` (models without one are left out)."""
    return {
        r["model"]: LlmPrice(r["model"], r["input_usd_per_mtok"], r["output_usd_per_mtok"],
                             r["cache_read_usd_per_mtok"], r["cache_write_usd_per_mtok"])
        for r in await conn.fetch(SELECT_PRICES, models, now)
    }


async def credit_rate_at(conn: asyncpg.Connection, now: datetime) -> Decimal | None:
    rate: Decimal | None = await conn.fetchval(SELECT_CREDIT_RATE, now)
    return rate


async def overspent(conn: asyncpg.Connection, org_id: str) -> Decimal:
    """How far a BYOM organization's spend is past its cap (a cap lowered below what was spent)."""
    value: Decimal = await conn.fetchval(SELECT_OVERSPENT, org_id)
    return value


async def organizations_with_expired_holds(conn: asyncpg.Connection, limit: int) -> list[str]:
    return [r["org_id"] for r in await conn.fetch(SELECT_ORGS_WITH_EXPIRED_HOLDS, limit)]
