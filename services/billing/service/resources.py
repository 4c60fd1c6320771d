"""Resources billed per second: each create, resize and delete is one unit of work that locks the
resource's row, closes its open segment and opens the next (services/billing/store/resources.py)."""

from __future__ import annotations

from decimal import Decimal

import asyncpg

from services.billing.store import resources as store
from services.kit.unit_of_work import unit_of_work


class Resources:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def create(self, new: store.NewResource) -> tuple[store.ResourceView, bool]:
        async with unit_of_work(self.pool) as conn:
            return await store.create_resource(conn, new)

    async def resize(self, org_id: str, resource_id: str, tier: str | None,
                     quantity: Decimal | None) -> tuple[store.ResourceView, bool]:
        async with unit_of_work(self.pool) as conn:
            return await store.resize_resource(conn, org_id, resource_id, tier, quantity)

    async def delete(self, org_id: str, resource_id: str) -> tuple[store.ResourceView, bool]:
        async with unit_of_work(self.pool) as conn:
            return await store.delete_resource(conn, org_id, resource_id)

    async def get(self, org_id: str, resource_id: str) -> store.ResourceView:
        async with self.pool.acquire() as conn:
            return await store.get_resource(conn, org_id, resource_id)

    async def list(self, org_id: str, kind: str, include_deleted: bool) -> list[store.ResourceView]:
        async with self.pool.acquire() as conn:
            return await store.list_resources(conn, org_id, kind=kind, include_deleted=include_deleted)
