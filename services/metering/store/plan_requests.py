"""Plan change requests once asked: listed, then approved (the plan changes) or refused by a
platform admin, and the tenant told through its alert channels as a `plan_change` notice."""

from __future__ import annotations

import asyncpg

from services.kit.errors import NotFoundError, StateConflictError
from services.metering.store import plan_changes
from services.metering.store.alerts import raise_notice

SELECT_REQUESTS = """
SELECT * FROM plan_change_requests
WHERE ($1 = '' OR org_id = $1) AND ($2 = '' OR status = $2)
ORDER BY requested_at DESC, request_id DESC
LIMIT 500"""

LOCK_REQUEST = """
SELECT r.*, p.name AS plan_name FROM plan_change_requests r JOIN plans p USING (plan_id)
WHERE r.org_id = $1 AND r.request_id = $2
FOR UPDATE OF r"""

DECIDE = """
UPDATE plan_change_requests
SET status = $3, decided_by = $4, decided_at = statement_timestamp(), reason = $5
WHERE org_id = $1 AND request_id = $2
RETURNING *"""


async def list_requests(conn: asyncpg.Connection, org_id: str, status: str) -> list[asyncpg.Record]:
    """Newest first; `org_id` "" for every organization, `status` "" for every status."""
    return list(await conn.fetch(SELECT_REQUESTS, org_id, status))


async def approve(conn: asyncpg.Connection, org_id: str, request_id: int, decided_by: str,
                  note: str) -> tuple[asyncpg.Record, asyncpg.Record]:
    """The decided request and the organization on its new plan (or, for a downgrade, with the
    plan waiting for the next period)."""
    asked = await _pending(conn, org_id, request_id)
    organization = await plan_changes.change_plan(conn, org_id, asked["plan_id"])
    when = "now" if organization["plan_id"] == asked["plan_id"] else "from the next billing period"
    decided = await _decide(conn, asked, "approved", decided_by, note,
                            f"Your request to change to the {asked['plan_name']} plan was approved; "
                            f"it applies {when}.")
    return decided, organization


async def refuse(conn: asyncpg.Connection, org_id: str, request_id: int, decided_by: str,
                 reason: str) -> asyncpg.Record:
    asked = await _pending(conn, org_id, request_id)
    because = f": {reason}" if reason else "."
    return await _decide(conn, asked, "refused", decided_by, reason,
                         f"Your request to change to the {asked['plan_name']} plan was refused{because}")


async def _pending(conn: asyncpg.Connection, org_id: str, request_id: int) -> asyncpg.Record:
    asked = await conn.fetchrow(LOCK_REQUEST, org_id, request_id)
    if asked is None:
        raise NotFoundError("request_id", f"plan change request {request_id} of {org_id!r} does not exist")
    if asked["status"] != "pending":
        raise StateConflictError("request_id",
                                 f"plan change request {request_id} was already {asked['status']}")
    return asked


async def _decide(conn: asyncpg.Connection, asked: asyncpg.Record, status: str, decided_by: str,
                  reason: str, message: str) -> asyncpg.Record:
    decided = await conn.fetchrow(DECIDE, asked["org_id"], asked["request_id"], status, decided_by, reason)
    await raise_notice(conn, asked["org_id"], "plan", message)
    return decided
