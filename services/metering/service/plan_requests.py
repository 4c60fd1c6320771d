"""Plan change requests, one unit of work per call: a tenant admin asks, a platform admin lists
them and approves or refuses each. The gRPC admin service and the HTTP API both call these."""

from __future__ import annotations

import asyncpg

from services.kit.errors import NotFoundError, StateConflictError
from services.kit.unit_of_work import unit_of_work
from services.metering.service import plan_changes
from services.metering.service.organizations import require_organization
from services.metering.store import plan_requests, prices
from services.metering.store.organizations import Organization
from services.metering.store.plan_requests import LockedRequest, PlanChangeRequest
from services.metering.store.prices import CataloguePlan


class PlanRequests:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def catalogue(self) -> list[CataloguePlan]:
        """The plans and their limits."""
        async with self.pool.acquire() as conn:
            return await prices.list_plans(conn)

    async def ask(self, org_id: str, plan_id: str, note: str, requested_by: str) -> PlanChangeRequest:
        async with self.pool.acquire() as conn, conn.transaction():
            return await plan_changes.request_plan_change(conn, org_id, plan_id, note, requested_by)

    async def list(self, org_id: str, status: str) -> list[PlanChangeRequest]:
        """`org_id` "" lists every organization's."""
        async with self.pool.acquire() as conn:
            if org_id:
                await require_organization(conn, org_id)
            return await plan_requests.list_requests(conn, org_id, status)

    async def approve(self, org_id: str, request_id: int, decided_by: str,
                      note: str) -> tuple[PlanChangeRequest, Organization]:
        """The decided request and the organization on its new plan (or, for a downgrade, with
        the plan waiting for the next period)."""
        async with unit_of_work(self.pool) as conn:
            asked = await _pending(conn, org_id, request_id)
            plan_id = asked.request.plan_id
            organization = await plan_changes.change_plan(conn, org_id, plan_id)
            when = "now" if organization.plan_id == plan_id else "from the next billing period"
            decided = await plan_requests.decide(
                conn, asked.request, "approved", decided_by, note,
                f"Your request to change to the {asked.plan_name} plan was approved; it applies {when}.")
            return decided, organization

    async def refuse(self, org_id: str, request_id: int, decided_by: str, reason: str) -> PlanChangeRequest:
        async with unit_of_work(self.pool) as conn:
            asked = await _pending(conn, org_id, request_id)
            because = f": {reason}" if reason else "."
            return await plan_requests.decide(
                conn, asked.request, "refused", decided_by, reason,
                f"Your request to change to the {asked.plan_name} plan was refused{because}")


async def _pending(conn: asyncpg.Connection, org_id: str, request_id: int) -> LockedRequest:
    asked = await plan_requests.lock_request(conn, org_id, request_id)
    if asked is None:
        raise NotFoundError("request_id", f"plan change request {request_id} of {org_id!r} does not exist")
    if asked.request.status != "pending":
        raise StateConflictError("request_id",
                                 f"plan change request {request_id} was already {asked.request.status}")
    return asked
