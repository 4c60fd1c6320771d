"""Usage events with group insert.

Events from concurrent RecordUsage calls are gathered while an insert is in flight and written
together with one `INSERT … SELECT FROM unnest … ON CONFLICT DO NOTHING RETURNING` statement.
Keys the insert skipped were stored before (or by a racing transaction the insert waited for);
one more statement reads their original ids, and each caller is answered from those rows.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg

from services.kit.decimals import format_decimal
from services.kit.errors import FieldError, QuotaExceededError
from services.metering.domain.usage_limits import Candidate, MeterCounter, admit
from services.metering.store import quota_limits

INSERT_EVENTS = """
INSERT INTO usage_events (org_id, idempotency_key, meter, quantity, occurred_at,
                          workspace_id, user_id, source, model, token_kind)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::timestamptz[],
                     $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
-- Key order: concurrent inserts of overlapping keys then wait on each other instead of deadlocking.
ORDER BY 1, 2
ON CONFLICT (org_id, idempotency_key) DO NOTHING
RETURNING org_id, idempotency_key, event_id, recorded_at"""

# The common case in one round trip: no quota row covers any (organization, meter) of the batch,
# so the events go in at once (autocommit). Otherwise nothing is inserted and `tracked` says so.
INSERT_UNTRACKED_EVENTS = """
WITH tracked AS (
    SELECT count(*) AS n
    FROM quotas q
    JOIN unnest($11::text[], $12::text[]) AS k(org_id, resource)
      ON q.org_id = k.org_id AND q.resource = k.resource
), inserted AS (
    INSERT INTO usage_events (org_id, idempotency_key, meter, quantity, occurred_at,
                              workspace_id, user_id, source, model, token_kind)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::timestamptz[],
                         $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
    WHERE (SELECT n FROM tracked) = 0
    ORDER BY 1, 2
    ON CONFLICT (org_id, idempotency_key) DO NOTHING
    RETURNING org_id, idempotency_key, event_id, recorded_at
)
SELECT t.n AS tracked, i.* FROM tracked t LEFT JOIN inserted i ON true"""

SELECT_STORED_EVENTS = """
SELECT e.org_id, e.idempotency_key, e.event_id, e.recorded_at, e.meter, e.quantity
FROM unnest($1::text[], $2::text[]) AS k(org_id, idempotency_key)
JOIN usage_events e USING (org_id, idempotency_key)"""

NOW = "SELECT statement_timestamp()"


# Not frozen: a frozen dataclass's __init__ costs a microsecond more per event, a quarter of a
# batch event's validation. Nothing mutates events after validation.
@dataclass(slots=True)
class NewEvent:
    org_id: str
    idempotency_key: str
    meter: str
    quantity: Decimal
    occurred_at: datetime
    workspace_id: str | None = None
    user_id: str | None = None
    source: str | None = None
    model: str | None = None
    token_kind: str | None = None


@dataclass(slots=True)
class StoredEvent:
    event_id: int
    recorded_at: datetime
    duplicate: bool
    # A retry whose meter or quantity differ from the stored event's: the key was reused.
    conflicting: bool = False


_Key = tuple[str, str]


@dataclass
class _Request:
    events: list[NewEvent]
    future: asyncio.Future[list[StoredEvent | FieldError]]


class UsageRecorder:
    """Gathers concurrent RecordUsage calls of this process into shared inserts."""

    # One group insert in flight per process: small calls arriving meanwhile share the next one,
    # which costs less server CPU per event than more, smaller inserts (measured in bench/metering).
    # A call carrying `direct_from` events or more is a batch already: it gets its own insert at
    # once, so several callers' batches load PostgreSQL in parallel instead of queueing.
    def __init__(self, pool: asyncpg.Pool, max_batch: int = 5000, max_in_flight: int = 1,
                 direct_from: int = 100) -> None:
        self._pool = pool
        self._max_batch = max_batch
        self._direct_from = direct_from
        self._queue: list[_Request] = []
        self._slots = max_in_flight
        self._writers = 0

    async def record(self, events: list[NewEvent]) -> list[StoredEvent | FieldError]:
        if len(events) >= self._direct_from:
            return await write_events(events, self._pool)
        future: asyncio.Future[list[StoredEvent | FieldError]] = asyncio.get_running_loop().create_future()
        self._queue.append(_Request(events, future))
        if self._writers < self._slots:
            self._writers += 1
            asyncio.get_running_loop().create_task(self._write_queued())
        return await future

    async def _write_queued(self) -> None:
        try:
            while self._queue:
                batch: list[_Request] = []
                size = 0
                while self._queue and (not batch or size + len(self._queue[0].events) <= self._max_batch):
                    request = self._queue.pop(0)
                    batch.append(request)
                    size += len(request.events)
                await self._write(batch)
        finally:
            self._writers -= 1

    async def _write(self, batch: list[_Request]) -> None:
        try:
            stored = await write_events([e for r in batch for e in r.events], self._pool)
        except Exception as error:
            for request in batch:
                if not request.future.done():
                    request.future.set_exception(error)
            return
        offset = 0
        for request in batch:
            if not request.future.done():
                request.future.set_result(stored[offset : offset + len(request.events)])
            offset += len(request.events)


async def write_events(events: list[NewEvent], pool: asyncpg.Pool) -> list[StoredEvent | FieldError]:
    """Stores events (first occurrence of a key wins) and answers each from the stored row.

    Without a quota on any of the batch's meters that is one autocommit statement. Events of a
    meter with a quota row lock that row first: hard limits admit events in order while they fit,
    and the period counter and its alerts move in the same transaction.
    """
    unique: dict[_Key, NewEvent] = {}
    for event in events:
        unique.setdefault((event.org_id, event.idempotency_key), event)
    pairs = sorted({(e.org_id, e.meter) for e in unique.values()})
    async with pool.acquire() as conn:
        inserted = await _insert_untracked(conn, [unique[k] for k in sorted(unique)], pairs)
        if inserted is not None:
            skipped = [k for k in unique if k not in inserted]
            return _answers(events, unique, inserted, await _stored(conn, skipped), set(), {})
    async with pool.acquire() as conn, conn.transaction():
        counters = await quota_limits.lock_counters(conn, pairs)
        earlier = await _stored(conn, [k for k, e in unique.items() if (e.org_id, e.meter) in counters])
        fresh = [e for k, e in sorted(unique.items()) if k not in earlier]
        verdicts = admit((Candidate(e.org_id, e.meter, e.quantity, e.occurred_at) for e in fresh), counters)
        refused = {(e.org_id, e.idempotency_key) for e, ok in zip(fresh, verdicts, strict=True) if not ok}
        inserted = await _insert(conn, [e for e, ok in zip(fresh, verdicts, strict=True) if ok])
        skipped = [k for k in unique if k not in inserted and k not in refused and k not in earlier]
        earlier.update(await _stored(conn, skipped))
        if counters:
            await quota_limits.save_counters(conn, counters, await conn.fetchval(NOW))
    return _answers(events, unique, inserted, earlier, refused, counters)


async def _insert_untracked(conn: asyncpg.Connection, rows: list[NewEvent],
                            pairs: list[tuple[str, str]]) -> dict[_Key, asyncpg.Record] | None:
    """Inserts the rows when no quota tracks their meters; None when one does (nothing stored)."""
    result = await conn.fetch(
        INSERT_UNTRACKED_EVENTS, [e.org_id for e in rows], [e.idempotency_key for e in rows],
        [e.meter for e in rows], [e.quantity for e in rows], [e.occurred_at for e in rows],
        [e.workspace_id for e in rows], [e.user_id for e in rows], [e.source for e in rows],
        [e.model for e in rows], [e.token_kind for e in rows], [p[0] for p in pairs], [p[1] for p in pairs],
    )
    if result[0]["tracked"]:
        return None
    return {(r["org_id"], r["idempotency_key"]): r for r in result if r["idempotency_key"] is not None}


async def _insert(conn: asyncpg.Connection, rows: list[NewEvent]) -> dict[_Key, asyncpg.Record]:
    if not rows:
        return {}
    return {
        (r["org_id"], r["idempotency_key"]): r
        for r in await conn.fetch(
            INSERT_EVENTS, [e.org_id for e in rows], [e.idempotency_key for e in rows],
            [e.meter for e in rows], [e.quantity for e in rows], [e.occurred_at for e in rows],
            [e.workspace_id for e in rows], [e.user_id for e in rows], [e.source for e in rows],
            [e.model for e in rows], [e.token_kind for e in rows],
        )
    }


async def _stored(conn: asyncpg.Connection, keys: list[_Key]) -> dict[_Key, asyncpg.Record]:
    if not keys:
        return {}
    rows = await conn.fetch(SELECT_STORED_EVENTS, [k[0] for k in keys], [k[1] for k in keys])
    return {(r["org_id"], r["idempotency_key"]): r for r in rows}


def _answers(events: list[NewEvent], unique: dict[_Key, NewEvent], inserted: dict[_Key, asyncpg.Record],
             earlier: dict[_Key, asyncpg.Record], refused: set[_Key],
             counters: dict[tuple[str, str], MeterCounter]) -> list[StoredEvent | FieldError]:
    answered: set[_Key] = set()
    results: list[StoredEvent | FieldError] = []
    for event in events:
        key = (event.org_id, event.idempotency_key)
        if key in refused:
            hard = counters[(event.org_id, event.meter)].limits.hard_limit
            results.append(QuotaExceededError(
                "quantity", f"the hard limit of {format_decimal(hard or Decimal(0))} {event.meter} "
                "for this billing period would be exceeded"))
            continue
        if key in inserted and key not in answered:
            answered.add(key)
            row = inserted[key]
            results.append(StoredEvent(row["event_id"], row["recorded_at"], duplicate=False))
            continue
        if key in earlier:  # stored before this batch: compare with what was stored
            row = earlier[key]
            original = (row["meter"], row["quantity"])
        else:  # a repeat within this batch: compare with the batch's first occurrence
            row = inserted[key]
            original = (unique[key].meter, unique[key].quantity)
        conflicting = original != (event.meter, event.quantity)
        results.append(StoredEvent(row["event_id"], row["recorded_at"], True, conflicting))
    return results
