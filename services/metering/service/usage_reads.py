"""Reading an organization's use this period, unknown organizations and meters told apart."""

from __future__ import annotations

import asyncpg

from services.kit.errors import NotFoundError
from services.metering.domain.readings import Usage
from services.metering.service.organizations import unknown_organization
from services.metering.store.quota import Missing, find_usage


async def read_usage(conn: asyncpg.Connection, org_id: str, meter: str) -> Usage:
    """The credits (`meter` empty) or one meter's use; NotFoundError naming what does not exist."""
    found = await find_usage(conn, org_id, meter)
    if found is Missing.ORGANIZATION:
        raise unknown_organization(org_id)
    if found is Missing.METER:
        raise NotFoundError("meter", f"meter {meter!r} does not exist")
    assert not isinstance(found, Missing)
    return found
