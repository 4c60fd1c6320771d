"""The catalogue the admin API keeps: plans with their limits, dated LLM prices, credit rates and
resource rates. A price takes effect from its date; one set for the same date replaces it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import asyncpg

from services.kit.unit_of_work import unit_of_work
from services.metering.domain.pricing import LlmPrice
from services.metering.store import prices
from services.metering.store.prices import CataloguePlan, CreditRate, DatedLlmPrice, ResourceRate


class PriceList:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def plans(self) -> list[CataloguePlan]:
        async with self.pool.acquire() as conn:
            return await prices.list_plans(conn)

    async def set_llm_price(self, price: LlmPrice, effective_from: datetime) -> DatedLlmPrice:
        async with unit_of_work(self.pool) as conn:
            return await prices.set_llm_price(conn, price, effective_from)

    async def llm_prices(self, model: str) -> list[DatedLlmPrice]:
        async with self.pool.acquire() as conn:
            return await prices.list_llm_prices(conn, model)

    async def set_credit_rate(self, effective_from: datetime, credits_per_usd: Decimal) -> CreditRate:
        async with unit_of_work(self.pool) as conn:
            return await prices.set_credit_rate(conn, effective_from, credits_per_usd)

    async def set_resource_rate(self, resource: str, tier: str, effective_from: datetime, hourly_usd: Decimal,
                                monthly_usd: Decimal | None) -> ResourceRate:
        async with unit_of_work(self.pool) as conn:
            return await prices.set_resource_rate(conn, resource, tier, effective_from, hourly_usd,
                                                  monthly_usd)

    async def resource_rates(self, resource: str) -> list[ResourceRate]:
        async with self.pool.acquire() as conn:
            return await prices.list_resource_rates(conn, resource)
