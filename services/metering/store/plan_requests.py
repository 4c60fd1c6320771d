"""Plan change requests: asked, listed, locked, and decided (the tenant told through its alert
channels as a `plan_change` notice)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.metering.store.alerts import raise_notice

COLUMNS = """org_id, request_id, plan_id, note, requested_by, requested_at, status, decided_by, decided_at,
    reason"""

INSERT_REQUEST = f"""
INSERT INTO plan_change_requests (org_id, plan_id, note, requested_by) VALUES ($1, $2, $3, $4)
RETURNING {COLUMNS}"""

SELECT_REQUESTS = f"""
SELECT {COLUMNS} FROM plan_change_requests
WHERE ($1 = '' OR org_id = $1) AND ($2 = '' OR status = $2)
ORDER BY requested_at DESC, request_id DESC
LIMIT 500"""

LOCK_REQUEST = """
SELECT r.org_id, r.request_id, r.plan_id, r.note, r.requested_by, r.requested_at, r.status, r.decided_by,
       r.decided_at, r.reason, p.name AS plan_name
FROM plan_change_requests r JOIN plans p USING (plan_id)
WHERE r.org_id = $1 AND r.request_id = $2
FOR UPDATE OF r"""

DECIDE = f"""
UPDATE plan_change_requests
SET status = $3, decided_by = $4, decided_at = statement_timestamp(), reason = $5
WHERE org_id = $1 AND request_id = $2
RETURNING {COLUMNS}"""


@dataclass(frozen=True)
class PlanChangeRequest:
    org_id: str
    request_id: int
    plan_id: str
    note: str
    requested_by: str  # the asking key's id
    requested_at: datetime
    status: str  # pending | approved | refused
    decided_by: str | None
    decided_at: datetime | None
    reason: str


@dataclass(frozen=True)
class LockedRequest:
    """A request locked until the caller's transaction ends, with its plan's name for the notice."""

    request: PlanChangeRequest
    plan_name: str


async def ask(conn: asyncpg.Connection, org_id: str, plan_id: str, note: str,
              requested_by: str) -> PlanChangeRequest:
    return PlanChangeRequest(**dict(await conn.fetchrow(INSERT_REQUEST, org_id, plan_id, note, requested_by)))


async def list_requests(conn: asyncpg.Connection, org_id: str, status: str) -> list[PlanChangeRequest]:
    """Newest first; `org_id` "" for every organization, `status` "" for every status."""
    return [PlanChangeRequest(**dict(row)) for row in await conn.fetch(SELECT_REQUESTS, org_id, status)]


async def lock_request(conn: asyncpg.Connection, org_id: str, request_id: int) -> LockedRequest | None:
    """The request with its plan's name, locked until the caller's transaction ends; None if absent."""
    row = await conn.fetchrow(LOCK_REQUEST, org_id, request_id)
    if row is None:
        return None
    fields = dict(row)
    plan_name = fields.pop("plan_name")
    return LockedRequest(PlanChangeRequest(**fields), plan_name)


async def decide(conn: asyncpg.Connection, asked: PlanChangeRequest, status: str, decided_by: str,
                 reason: str, message: str) -> PlanChangeRequest:
    """Records the decision and tells the tenant `message` as a `plan_change` notice."""
    decided = await conn.fetchrow(DECIDE, asked.org_id, asked.request_id, status, decided_by, reason)
    await raise_notice(conn, asked.org_id, "plan", message)
    return PlanChangeRequest(**dict(decided))
