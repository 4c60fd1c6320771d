"""Plan change requests, one unit of work per call: a tenant admin asks, a platform admin lists
them and approves or refuses each. The gRPC admin service and the HTTP API both call these."""

from __future__ import annotations

import asyncpg

from services.metering.store import organizations, plan_changes, plan_requests, prices


class PlanRequests:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def catalogue(self) -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
        """The plans and their limits."""
        async with self.pool.acquire() as conn:
            return await prices.list_plans(conn)

    async def ask(self, org_id: str, plan_id: str, note: str, requested_by: str) -> asyncpg.Record:
        async with self.pool.acquire() as conn, conn.transaction():
            return await plan_changes.request_plan_change(conn, org_id, plan_id, note, requested_by)

    async def list(self, org_id: str, status: str) -> list[asyncpg.Record]:
        """`org_id` "" lists every organization's."""
        async with self.pool.acquire() as conn:
            if org_id:
                await organizations.get_organization(conn, org_id)
            return await plan_requests.list_requests(conn, org_id, status)

    async def approve(self, org_id: str, request_id: int, decided_by: str,
                      note: str) -> tuple[asyncpg.Record, asyncpg.Record]:
        async with self.pool.acquire() as conn, conn.transaction():
            return await plan_requests.approve(conn, org_id, request_id, decided_by, note)

    async def refuse(self, org_id: str, request_id: int, decided_by: str, reason: str) -> asyncpg.Record:
        async with self.pool.acquire() as conn, conn.transaction():
            return await plan_requests.refuse(conn, org_id, request_id, decided_by, reason)
