"""Usage events: one `INSERT … SELECT FROM unnest … ON CONFLICT DO NOTHING RETURNING` statement
for many events, and the read of keys the insert skipped (stored before, or by a racing
transaction the insert waited for). The group insert that gathers concurrent RecordUsage calls is
services/metering/service/usage_recorder.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg

from services.kit.row_sets import RowSet, column

SELECT_STORED_EVENTS = """
SELECT e.org_id, e.idempotency_key, e.event_id, e.recorded_at, e.meter, e.quantity
FROM unnest($1::text[], $2::text[]) AS k(org_id, idempotency_key)
JOIN usage_events e USING (org_id, idempotency_key)"""

NOW = "SELECT statement_timestamp()"


# Not frozen: a frozen dataclass's __init__ costs a microsecond more per event, a quarter of a
# batch event's validation. Nothing mutates events after validation. Its fields are the columns
# the inserts below write (services/kit/row_sets.py).
@dataclass(slots=True)
class NewEvent:
    org_id: str = column("text")
    idempotency_key: str = column("text")
    meter: str = column("text")
    quantity: Decimal = column("numeric")
    occurred_at: datetime = column("timestamptz")
    workspace_id: str | None = column("text", default=None)
    user_id: str | None = column("text", default=None)
    source: str | None = column("text", default=None)
    model: str | None = column("text", default=None)
    token_kind: str | None = column("text", default=None)


EVENTS = RowSet(NewEvent, 1, "e")
_PAIRS = EVENTS.next_param

INSERT_EVENTS = f"""
INSERT INTO usage_events ({EVENTS.names})
SELECT * FROM {EVENTS.source}
-- Key order: concurrent inserts of overlapping keys then wait on each other instead of deadlocking.
ORDER BY 1, 2
ON CONFLICT (org_id, idempotency_key) DO NOTHING
RETURNING org_id, idempotency_key, event_id, recorded_at"""

# The common case in one round trip: no quota row covers any (organization, meter) of the batch,
# so the events go in at once (autocommit). Otherwise nothing is inserted and `tracked` says so.
INSERT_UNTRACKED_EVENTS = f"""
WITH tracked AS (
    SELECT count(*) AS n
    FROM quotas q
    JOIN unnest(${_PAIRS}::text[], ${_PAIRS + 1}::text[]) AS k(org_id, resource)
      ON q.org_id = k.org_id AND q.resource = k.resource
), inserted AS (
    INSERT INTO usage_events ({EVENTS.names})
    SELECT * FROM {EVENTS.source}
    WHERE (SELECT n FROM tracked) = 0
    ORDER BY 1, 2
    ON CONFLICT (org_id, idempotency_key) DO NOTHING
    RETURNING org_id, idempotency_key, event_id, recorded_at
)
SELECT t.n AS tracked, i.* FROM tracked t LEFT JOIN inserted i ON true"""

@dataclass(slots=True)
class StoredEvent:
    event_id: int
    recorded_at: datetime
    duplicate: bool
    # A retry whose meter or quantity differ from the stored event's: the key was reused.
    conflicting: bool = False


@dataclass(frozen=True, slots=True)
class EarlierEvent:
    """An event stored before: what a retry of its key is compared with."""

    event_id: int
    recorded_at: datetime
    meter: str
    quantity: Decimal


EventKey = tuple[str, str]  # (org_id, idempotency_key)


async def insert_untracked(conn: asyncpg.Connection, rows: list[NewEvent],
                            pairs: list[tuple[str, str]]) -> dict[EventKey, StoredEvent] | None:
    """Inserts the rows when no quota tracks their meters; None when one does (nothing stored).
    Each key inserted now answers with its new event (not a duplicate)."""
    result = await conn.fetch(INSERT_UNTRACKED_EVENTS, *EVENTS.arguments(rows),
                              [p[0] for p in pairs], [p[1] for p in pairs])
    if result[0]["tracked"]:
        return None
    return {(r["org_id"], r["idempotency_key"]): StoredEvent(r["event_id"], r["recorded_at"], False)
            for r in result if r["idempotency_key"] is not None}


async def insert_events(conn: asyncpg.Connection, rows: list[NewEvent]) -> dict[EventKey, StoredEvent]:
    """Each key inserted now, with its new event (not a duplicate); keys stored before are left out."""
    if not rows:
        return {}
    return {
        (r["org_id"], r["idempotency_key"]): StoredEvent(r["event_id"], r["recorded_at"], False)
        for r in await conn.fetch(INSERT_EVENTS, *EVENTS.arguments(rows))
    }


async def stored_events(conn: asyncpg.Connection, keys: list[EventKey]) -> dict[EventKey, EarlierEvent]:
    if not keys:
        return {}
    rows = await conn.fetch(SELECT_STORED_EVENTS, [k[0] for k in keys], [k[1] for k in keys])
    return {(r["org_id"], r["idempotency_key"]): EarlierEvent(r["event_id"], r["recorded_at"], r["meter"],
                                                              r["quantity"])
            for r in rows}


async def now(conn: asyncpg.Connection) -> datetime:
    """The database's time for this statement."""
    when: datetime = await conn.fetchval(NOW)
    return when
