"""An organization a request names, read in the caller's connection: found, or a NotFoundError
naming org_id. The metering, billing and admin sides check an organization through these."""

from __future__ import annotations

import asyncpg

from services.kit.errors import NotFoundError
from services.metering.store import organizations
from services.metering.store.organizations import CreditGrant, Organization


def unknown_organization(org_id: str) -> NotFoundError:
    return NotFoundError("org_id", f"organization {org_id!r} does not exist")


async def require_organization(conn: asyncpg.Connection, org_id: str) -> Organization:
    org = await organizations.get_organization(conn, org_id)
    if org is None:
        raise unknown_organization(org_id)
    return org


async def rename_organization(conn: asyncpg.Connection, org_id: str, name: str) -> Organization:
    org = await organizations.rename_organization(conn, org_id, name)
    if org is None:
        raise unknown_organization(org_id)
    return org


async def credit_grants(conn: asyncpg.Connection, org_id: str) -> list[CreditGrant]:
    await require_organization(conn, org_id)
    return await organizations.list_grants(conn, org_id)
