"""The catalogue admins manage: plans, LLM token prices, credit rates, resource hourly rates.

Prices are effective-dated rows: setting a price adds a row from `effective_from` on (or replaces
the row with exactly that moment), so usage before that moment keeps its old price.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg

from services.metering.domain.pricing import LlmPrice

SELECT_PLANS = "SELECT plan_id, name, monthly_credits, price_usd FROM plans ORDER BY monthly_credits, plan_id"
SELECT_PLAN_LIMITS = "SELECT plan_id, meter, limit_quantity FROM plan_limits ORDER BY plan_id, meter"

UPSERT_LLM_PRICE = """
INSERT INTO llm_prices (model, effective_from, input_usd_per_mtok, output_usd_per_mtok,
                        cache_read_usd_per_mtok, cache_write_usd_per_mtok)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (model, effective_from) DO UPDATE
SET input_usd_per_mtok = EXCLUDED.input_usd_per_mtok, output_usd_per_mtok = EXCLUDED.output_usd_per_mtok,
    cache_read_usd_per_mtok = EXCLUDED.cache_read_usd_per_mtok,
    cache_write_usd_per_mtok = EXCLUDED.cache_write_usd_per_mtok
RETURNING model, effective_from, input_usd_per_mtok, output_usd_per_mtok, cache_read_usd_per_mtok,
          cache_write_usd_per_mtok"""
SELECT_LLM_PRICES = """
SELECT model, effective_from, input_usd_per_mtok, output_usd_per_mtok, cache_read_usd_per_mtok,
       cache_write_usd_per_mtok
FROM llm_prices WHERE $1 = '' OR model = $1 ORDER BY model, effective_from"""

UPSERT_CREDIT_RATE = """
INSERT INTO credit_rates (effective_from, credits_per_usd) VALUES ($1, $2)
ON CONFLICT (effective_from) DO UPDATE SET credits_per_usd = EXCLUDED.credits_per_usd
RETURNING effective_from, credits_per_usd"""

UPSERT_RESOURCE_RATE = """
INSERT INTO resource_rates (resource, tier, effective_from, hourly_usd, monthly_usd)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (resource, tier, effective_from) DO UPDATE
SET hourly_usd = EXCLUDED.hourly_usd, monthly_usd = EXCLUDED.monthly_usd
RETURNING resource, tier, effective_from, hourly_usd, monthly_usd"""
SELECT_RESOURCE_RATES = """
SELECT resource, tier, effective_from, hourly_usd, monthly_usd FROM resource_rates
WHERE $1 = '' OR resource = $1 ORDER BY resource, tier, effective_from"""


@dataclass(frozen=True)
class CataloguePlan:
    plan_id: str
    name: str
    monthly_credits: Decimal
    price_usd: Decimal | None  # None: custom pricing
    limits: dict[str, Decimal | None]  # meter -> limit, by meter; None: unlimited


@dataclass(frozen=True)
class DatedLlmPrice:
    """A model's token prices, in force from `effective_from` until the model's next row."""

    price: LlmPrice
    effective_from: datetime


@dataclass(frozen=True)
class CreditRate:
    effective_from: datetime
    credits_per_usd: Decimal


@dataclass(frozen=True)
class ResourceRate:
    resource: str
    tier: str  # "" for a resource without tiers
    effective_from: datetime
    hourly_usd: Decimal
    monthly_usd: Decimal | None


async def list_plans(conn: asyncpg.Connection) -> list[CataloguePlan]:
    """Cheapest first, each with its meter limits."""
    limits: dict[str, dict[str, Decimal | None]] = {}
    for row in await conn.fetch(SELECT_PLAN_LIMITS):
        limits.setdefault(row["plan_id"], {})[row["meter"]] = row["limit_quantity"]
    return [CataloguePlan(row["plan_id"], row["name"], row["monthly_credits"], row["price_usd"],
                          limits.get(row["plan_id"], {}))
            for row in await conn.fetch(SELECT_PLANS)]


async def set_llm_price(conn: asyncpg.Connection, price: LlmPrice,
                        effective_from: datetime) -> DatedLlmPrice:
    row = await conn.fetchrow(UPSERT_LLM_PRICE, price.model, effective_from, price.input, price.output,
                              price.cache_read, price.cache_write)
    return _dated_llm_price(row)


async def list_llm_prices(conn: asyncpg.Connection, model: str) -> list[DatedLlmPrice]:
    return [_dated_llm_price(row) for row in await conn.fetch(SELECT_LLM_PRICES, model)]


async def set_credit_rate(conn: asyncpg.Connection, effective_from: datetime,
                          credits_per_usd: Decimal) -> CreditRate:
    return CreditRate(**dict(await conn.fetchrow(UPSERT_CREDIT_RATE, effective_from, credits_per_usd)))


async def set_resource_rate(conn: asyncpg.Connection, resource: str, tier: str, effective_from: datetime,
                            hourly_usd: Decimal, monthly_usd: Decimal | None) -> ResourceRate:
    row = await conn.fetchrow(UPSERT_RESOURCE_RATE, resource, tier, effective_from, hourly_usd, monthly_usd)
    return ResourceRate(**dict(row))


async def list_resource_rates(conn: asyncpg.Connection, resource: str) -> list[ResourceRate]:
    return [ResourceRate(**dict(row)) for row in await conn.fetch(SELECT_RESOURCE_RATES, resource)]


def _dated_llm_price(row: asyncpg.Record) -> DatedLlmPrice:
    return DatedLlmPrice(LlmPrice(row["model"], row["input_usd_per_mtok"], row["output_usd_per_mtok"],
                                  row["cache_read_usd_per_mtok"], row["cache_write_usd_per_mtok"]),
                         row["effective_from"])
