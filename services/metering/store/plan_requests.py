"""Plan change requests: asked, listed, locked, and decided (the tenant told through its alert
channels as a `plan_change` notice)."""

from __future__ import annotations

import asyncpg

from services.metering.store.alerts import raise_notice

INSERT_REQUEST = """
INSERT INTO plan_change_requests (org_id, plan_id, note, requested_by) VALUES ($1, $2, $3, $4)
RETURNING *"""

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


async def ask(conn: asyncpg.Connection, org_id: str, plan_id: str, note: str,
              requested_by: str) -> asyncpg.Record:
    asked: asyncpg.Record = await conn.fetchrow(INSERT_REQUEST, org_id, plan_id, note, requested_by)
    return asked


async def list_requests(conn: asyncpg.Connection, org_id: str, status: str) -> list[asyncpg.Record]:
    """Newest first; `org_id` "" for every organization, `status` "" for every status."""
    return list(await conn.fetch(SELECT_REQUESTS, org_id, status))


async def lock_request(conn: asyncpg.Connection, org_id: str, request_id: int) -> asyncpg.Record | None:
    """The request with its plan's name, locked until the caller's transaction ends; None if absent."""
    asked: asyncpg.Record | None = await conn.fetchrow(LOCK_REQUEST, org_id, request_id)
    return asked


async def decide(conn: asyncpg.Connection, asked: asyncpg.Record, status: str, decided_by: str,
                 reason: str, message: str) -> asyncpg.Record:
    """Records the decision and tells the tenant `message` as a `plan_change` notice."""
    decided = await conn.fetchrow(DECIDE, asked["org_id"], asked["request_id"], status, decided_by, reason)
    await raise_notice(conn, asked["org_id"], "plan", message)
    return decided
