"""RecordUsage with group insert.

Events from concurrent RecordUsage calls are gathered while an insert is in flight and written
together by one statement (services/metering/store/usage.py). Keys the insert skipped were stored
before (or by a racing transaction the insert waited for); one more statement reads their
original ids, and each caller is answered from those rows.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal

import asyncpg

from services.kit.decimals import format_decimal
from services.kit.errors import FieldError, QuotaExceededError
from services.metering.domain.usage_limits import Candidate, MeterCounter, admit
from services.metering.store import quota_limits
from services.metering.store.usage import (
    EarlierEvent,
    EventKey,
    NewEvent,
    StoredEvent,
    insert_events,
    insert_untracked,
    now,
    stored_events,
)


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
    unique: dict[EventKey, NewEvent] = {}
    for event in events:
        unique.setdefault((event.org_id, event.idempotency_key), event)
    pairs = sorted({(e.org_id, e.meter) for e in unique.values()})
    async with pool.acquire() as conn:
        inserted = await insert_untracked(conn, [unique[k] for k in sorted(unique)], pairs)
        if inserted is not None:
            skipped = [k for k in unique if k not in inserted]
            return _answers(events, unique, inserted, await stored_events(conn, skipped), set(), {})
    # Metered against a quota: the unit of work locks the counters, admits, inserts and counts.
    async with pool.acquire() as conn, conn.transaction():
        counters = await quota_limits.lock_counters(conn, pairs)
        earlier = await stored_events(conn, [k for k, e in unique.items() if (e.org_id, e.meter) in counters])
        fresh = [e for k, e in sorted(unique.items()) if k not in earlier]
        verdicts = admit((Candidate(e.org_id, e.meter, e.quantity, e.occurred_at) for e in fresh), counters)
        refused = {(e.org_id, e.idempotency_key) for e, ok in zip(fresh, verdicts, strict=True) if not ok}
        inserted = await insert_events(conn, [e for e, ok in zip(fresh, verdicts, strict=True) if ok])
        skipped = [k for k in unique if k not in inserted and k not in refused and k not in earlier]
        earlier.update(await stored_events(conn, skipped))
        if counters:
            await quota_limits.save_counters(conn, counters, await now(conn))
    return _answers(events, unique, inserted, earlier, refused, counters)


def _answers(events: list[NewEvent], unique: dict[EventKey, NewEvent],
             inserted: dict[EventKey, StoredEvent], earlier: dict[EventKey, EarlierEvent],
             refused: set[EventKey],
             counters: dict[tuple[str, str], MeterCounter]) -> list[StoredEvent | FieldError]:
    answered: set[EventKey] = set()
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
            results.append(inserted[key])
            continue
        stored: StoredEvent | EarlierEvent
        if key in earlier:  # stored before this batch: compare with what was stored
            stored = earlier[key]
            original = (stored.meter, stored.quantity)
        else:  # a repeat within this batch: compare with the batch's first occurrence
            stored = inserted[key]
            original = (unique[key].meter, unique[key].quantity)
        conflicting = original != (event.meter, event.quantity)
        results.append(StoredEvent(stored.event_id, stored.recorded_at, True, conflicting))
    return results
