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

# Each model's price in force at $2, each row with the credit rate in force then (one round trip).
SELECT_PRICES_AND_RATE = """
SELECT p.model, p.input_usd_per_mtok, p.output_usd_per_mtok, p.cache_read_usd_per_mtok,
       p.cache_write_usd_per_mtok,
       (SELECT credits_per_usd FROM credit_rates WHERE effective_from <= $2
        ORDER BY effective_from DESC LIMIT 1) AS credits_per_usd
FROM (
    SELECT DISTINCT ON (model) model, input_usd_per_mtok, output_usd_per_mtok,
           cache_read_usd_per_mtok, cache_write_usd_per_mtok
    FROM llm_prices
    WHERE model = ANY($1::text[]) AND effective_from <= $2
    ORDER BY model, effective_from DESC
) p"""

SELECT_ORGS_WITH_EXPIRED_HOLDS = """
SELECT DISTINCT org_id FROM holds WHERE status = 'open' AND expires_at <= statement_timestamp()
LIMIT $1"""

SELECT_OVERSPENT = f"""
SELECT {OVERSPENT} FROM balances b JOIN organizations o USING (org_id) WHERE b.org_id = $1"""


async def prices_and_rate_at(conn: asyncpg.Connection, models: list[str],
                             now: datetime) -> tuple[dict[str, LlmPrice], Decimal | None]:
    """Each model's price in force at `now` (models without one are left out), and the credit
    rate in force then (None when there is none, or when no model has a price)."""
    rows = await conn.fetch(SELECT_PRICES_AND_RATE, models, now)
    prices = {r["model"]: LlmPrice(r["model"], r["input_usd_per_mtok"], r["output_usd_per_mtok"],
                                   r["cache_read_usd_per_mtok"], r["cache_write_usd_per_mtok"])
              for r in rows}
    return prices, rows[0]["credits_per_usd"] if rows else None


async def overspent(conn: asyncpg.Connection, org_id: str) -> Decimal:
    """How far a BYOM organization's spend is past its cap (a cap lowered below what was spent)."""
    value: Decimal = await conn.fetchval(SELECT_OVERSPENT, org_id)
    return value


async def organizations_with_expired_holds(conn: asyncpg.Connection, limit: int) -> list[str]:
    return [r["org_id"] for r in await conn.fetch(SELECT_ORGS_WITH_EXPIRED_HOLDS, limit)]
