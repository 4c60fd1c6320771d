"""The price a deduction session prices its token chunks at: the model's price and the credit
rate in force when the session opened, read once per session."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import asyncpg

from services.metering.domain.pricing import LlmPrice
from services.metering.store.credit_ledger import SELECT_CREDIT_RATE, SELECT_PRICES


async def price_in_force(conn: asyncpg.Connection, model: str,
                         at: datetime) -> tuple[LlmPrice | None, Decimal | None]:
    """The model's price (None when it has none) and the credits per USD (None when unset)."""
    rows = await conn.fetch(SELECT_PRICES, [model], at)
    price = None if not rows else LlmPrice(
        model, rows[0]["input_usd_per_mtok"], rows[0]["output_usd_per_mtok"],
        rows[0]["cache_read_usd_per_mtok"], rows[0]["cache_write_usd_per_mtok"])
    rate: Decimal | None = await conn.fetchval(SELECT_CREDIT_RATE, at)
    return price, rate
