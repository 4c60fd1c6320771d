"""Plan changes, spend caps and negotiated allowances, checked in the caller's unit of work: the
organization is locked and must exist, the plan and the meters named must exist, and each change
must fit the organization's billing (services/metering/store/plan_changes.py applies it)."""

from __future__ import annotations

from decimal import Decimal

import asyncpg

from services.kit.errors import FieldError, NotFoundError
from services.metering.service.organizations import require_organization, unknown_organization
from services.metering.store import plan_changes, plan_requests
from services.metering.store.organizations import Organization
from services.metering.store.plan_changes import Allowance, LockedOrganization, Plan
from services.metering.store.plan_requests import PlanChangeRequest


async def change_plan(conn: asyncpg.Connection, org_id: str, plan_id: str) -> Organization:
    """An upgrade applies at once; any other change waits for the next period. The organization
    as it is after the change."""
    org = await _locked(conn, org_id)
    await plan_changes.change_plan(conn, org, await require_plan(conn, plan_id))
    return await require_organization(conn, org_id)


async def set_spend_cap(conn: asyncpg.Connection, org_id: str, cap: Decimal) -> Organization:
    org = await _locked(conn, org_id)
    if org.billing_model != "byom":
        raise FieldError("org_id", "spend caps apply to BYOM organizations only")
    await plan_changes.set_spend_cap(conn, org, cap)
    return await require_organization(conn, org_id)


async def set_allowance(conn: asyncpg.Connection, org_id: str, monthly_credits: Decimal,
                        limits: dict[str, Decimal | None], at_once: bool) -> Allowance:
    org = await _locked(conn, org_id)
    if not await plan_changes.is_negotiated(conn, org_id):
        raise FieldError("org_id", "negotiated allowances apply to organizations on a negotiated "
                                   "plan (Enterprise)")
    meters = list(limits)
    unknown = await plan_changes.unknown_meters(conn, meters)
    if unknown:
        raise NotFoundError(f"limits[{meters.index(unknown[0])}].meter",
                            f"meter {unknown[0]!r} does not exist")
    return await plan_changes.set_allowance(conn, org, monthly_credits, limits, at_once)


async def request_plan_change(conn: asyncpg.Connection, org_id: str, plan_id: str, note: str,
                              requested_by: str) -> PlanChangeRequest:
    await require_plan(conn, plan_id)
    await require_organization(conn, org_id)
    return await plan_requests.ask(conn, org_id, plan_id, note, requested_by)


async def _locked(conn: asyncpg.Connection, org_id: str) -> LockedOrganization:
    org = await plan_changes.lock_organization(conn, org_id)
    if org is None:
        raise unknown_organization(org_id)
    return org


async def require_plan(conn: asyncpg.Connection, plan_id: str) -> Plan:
    plan = await plan_changes.find_plan(conn, plan_id)
    if plan is None:
        raise NotFoundError("plan_id", f"plan {plan_id!r} does not exist")
    return plan
