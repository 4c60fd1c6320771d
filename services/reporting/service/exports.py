"""Usage exports: background jobs that stream usage events, credit spend (granted deductions) or
resource lifetimes (per-second billed resources, one row per segment) into CSV or JSON chunks in
PostgreSQL.

A request stores a `processing` export and wakes this process's runner. Runners of every replica
find waiting exports, lock one by its key with `FOR NO KEY UPDATE SKIP LOCKED` and keep the row
locked for the whole run, so a replica that dies mid-run releases it to another. CSV is written by
PostgreSQL itself (`COPY … TO STDOUT`) and JSON from a server-side cursor a few thousand rows at a
time; either stream is cut into chunks of about a megabyte as it comes, so memory stays bounded
whatever the export's size. Downloads stream the chunks one by one, from any replica, until the
export expires; expired exports are deleted by a sweep.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from services.kit.decimals import format_decimal
from services.kit.errors import FieldError, NotFoundError
from services.kit.periodic import run_periodically

log = logging.getLogger(__name__)

FORMATS = ("csv", "json")
MAX_RANGE = timedelta(days=731)
MAX_ATTEMPTS = 3

INSERT_EXPORT = """
INSERT INTO usage_exports (org_id, export_id, status, format, meters, range_from, range_to,
                           requested_by, created_at, expires_at, kind)
VALUES ($1, $2, 'processing', $3, $4, $5, $6, $7, statement_timestamp(), statement_timestamp() + $8::interval,
        $9)
RETURNING *, created_at AS now"""

SELECT_EXPORT = """
SELECT *, statement_timestamp() AS now FROM usage_exports WHERE org_id = $1 AND export_id = $2"""

# Waiting exports are found without a lock, then each is locked by its full key until one is free,
# so no statement locks rows of several organizations.
FIND_WAITING = """
SELECT org_id, export_id FROM usage_exports
WHERE status = 'processing' AND expires_at > statement_timestamp()
ORDER BY created_at
LIMIT $1"""

# NO KEY UPDATE: the writer connection's chunk inserts check their foreign key with KEY SHARE,
# which this lock lets through while it still keeps other runners away.
CLAIM_EXPORT = """
SELECT * FROM usage_exports
WHERE org_id = $1 AND export_id = $2 AND status = 'processing' AND expires_at > statement_timestamp()
FOR NO KEY UPDATE SKIP LOCKED"""

DELETE_CHUNKS = "DELETE FROM usage_export_chunks WHERE org_id = $1 AND export_id = $2"

INSERT_CHUNK = "INSERT INTO usage_export_chunks (org_id, export_id, seq, data) VALUES ($1, $2, $3, $4)"

COMPLETE_EXPORT = """
UPDATE usage_exports
SET status = 'completed', row_count = $3, size_bytes = $4, completed_at = statement_timestamp()
WHERE org_id = $1 AND export_id = $2"""

RECORD_FAILURE = """
UPDATE usage_exports
SET attempts = attempts + 1, error = $3,
    status = CASE WHEN attempts + 1 >= $4 THEN 'failed' ELSE status END
WHERE org_id = $1 AND export_id = $2"""

_UTC = """to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""

# Key order: the (org_id, occurred_at) index serves the range; event_id keeps the order total.
# Timestamps as RFC 3339 UTC text, the same in both formats.
SELECT_EVENTS = f"""
SELECT event_id, {_UTC.format("occurred_at")} AS occurred_at,
       meter, quantity, workspace_id, user_id, source, model, token_kind, idempotency_key,
       {_UTC.format("recorded_at")} AS recorded_at
FROM usage_events
WHERE org_id = $1 AND occurred_at >= $2 AND occurred_at <= $3
  AND (cardinality($4::text[]) = 0 OR meter = ANY($4::text[]))
ORDER BY occurred_at, event_id"""

# Granted deductions made in the range, in the organization's unit, with what each drew from.
SELECT_SPEND = f"""
SELECT {_UTC.format("created_at")} AS created_at, idempotency_key, amount, unit, from_hold, from_monthly,
       from_bonus, hold_id, workspace_id, user_id, source, model,
       (tokens->>'input')::numeric AS input_tokens, (tokens->>'output')::numeric AS output_tokens,
       (tokens->>'cache_read')::numeric AS cache_read_tokens,
       (tokens->>'cache_write')::numeric AS cache_write_tokens
FROM deductions
WHERE org_id = $1 AND granted AND created_at >= $2 AND created_at <= $3
ORDER BY deductions.created_at, idempotency_key"""

# Segments of per-second billed resources that overlap the range (ended_at empty: still running).
SELECT_LIFETIMES = f"""
SELECT r.resource_id, r.name, r.kind, r.user_id, r.status, {_UTC.format("r.created_at")} AS created_at,
       {_UTC.format("r.deleted_at")} AS deleted_at, s.segment_no, s.tier, s.quantity, s.hourly_usd,
       {_UTC.format("s.started_at")} AS started_at, {_UTC.format("s.ended_at")} AS ended_at
FROM resource_segments s
JOIN resources r ON r.org_id = s.org_id AND r.resource_id = s.resource_id
WHERE s.org_id = $1 AND s.started_at <= $3 AND (s.ended_at IS NULL OR s.ended_at >= $2)
ORDER BY s.started_at, r.resource_id, s.segment_no"""


@dataclass(frozen=True)
class Dataset:
    """What one kind of export holds: its columns in order and the statement that reads them."""

    columns: tuple[str, ...]
    statement: str
    by_meter: bool  # resource_types select meters; the statement takes them as $4


DATASETS = {
    "usage_events": Dataset(
        ("event_id", "occurred_at", "meter", "quantity", "workspace_id", "user_id", "source", "model",
         "token_kind", "idempotency_key", "recorded_at"), SELECT_EVENTS, True),
    "credit_spend": Dataset(
        ("created_at", "idempotency_key", "amount", "unit", "from_hold", "from_monthly", "from_bonus",
         "hold_id", "workspace_id", "user_id", "source", "model", "input_tokens", "output_tokens",
         "cache_read_tokens", "cache_write_tokens"), SELECT_SPEND, False),
    "resource_lifetimes": Dataset(
        ("resource_id", "name", "kind", "user_id", "status", "created_at", "deleted_at", "segment_no",
         "tier", "quantity", "hourly_usd", "started_at", "ended_at"), SELECT_LIFETIMES, False),
}
KINDS = tuple(DATASETS)

SELECT_CHUNK = "SELECT data FROM usage_export_chunks WHERE org_id = $1 AND export_id = $2 AND seq = $3"

DELETE_EXPIRED = "DELETE FROM usage_exports WHERE expires_at <= statement_timestamp()"


@dataclass(frozen=True)
class ExportRequest:
    kind: str
    format: str
    meters: tuple[str, ...]
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Export:
    org_id: str
    export_id: str
    status: str  # processing | completed | failed | expired
    kind: str
    format: str
    row_count: int
    size_bytes: int
    created_at: datetime
    expires_at: datetime
    error: str | None

    @property
    def downloadable(self) -> bool:
        return self.status == "completed"


def export_request(kind: str, fmt: str, meters: Sequence[str], start: datetime | None,
                   end: datetime | None,
                   fields: tuple[str, str] = ("period.from", "period.to")) -> ExportRequest:
    """`fields` names start and end as the caller's transport does."""
    from_field, to_field = fields
    if kind not in DATASETS:
        raise FieldError("kind", f"must be one of {', '.join(KINDS)}")
    if fmt not in FORMATS:
        raise FieldError("format", "must be 'csv' or 'json'")
    if meters and not DATASETS[kind].by_meter:
        raise FieldError("resource_types", "selects usage events only; leave it empty for this kind")
    if start is None:
        raise FieldError(from_field, "is required")
    if end is None:
        raise FieldError(to_field, "is required")
    if end < start:
        raise FieldError(to_field, f"must not be before {from_field}")
    if end - start > MAX_RANGE:
        raise FieldError(to_field, "an export may span at most two years")
    return ExportRequest(kind, fmt, tuple(sorted(set(meters))), start, end)


async def _claim(conn: asyncpg.Connection, candidates: int = 10) -> asyncpg.Record | None:
    for waiting in await conn.fetch(FIND_WAITING, candidates):
        row: asyncpg.Record | None = await conn.fetchrow(CLAIM_EXPORT, *waiting)
        if row is not None:
            return row
    return None


def _export(row: asyncpg.Record) -> Export:
    status = row["status"]
    if row["expires_at"] <= row["now"]:
        status = "expired"
    return Export(row["org_id"], row["export_id"], status, row["kind"], row["format"], row["row_count"],
                  row["size_bytes"], row["created_at"], row["expires_at"], row["error"])


class Exports:
    def __init__(self, pool: asyncpg.Pool, ttl: timedelta = timedelta(days=7),
                 chunk_bytes: int = 1 << 20, fetch_rows: int = 5000) -> None:
        self._pool = pool
        self._ttl = ttl
        self._chunk_bytes = chunk_bytes
        self._fetch_rows = fetch_rows
        self._wake = asyncio.Event()

    async def create(self, org_id: str, request: ExportRequest, requested_by: str) -> Export:
        export_id = f"export-{uuid.uuid4().hex[:20]}"
        row = await self._pool.fetchrow(INSERT_EXPORT, org_id, export_id, request.format,
                                        list(request.meters), request.start, request.end, requested_by,
                                        self._ttl, request.kind)
        self._wake.set()
        return _export(row)

    async def get(self, org_id: str, export_id: str) -> Export:
        row = await self._pool.fetchrow(SELECT_EXPORT, org_id, export_id)
        if row is None:
            raise NotFoundError("export_id", f"export {export_id!r} does not exist")
        return _export(row)

    async def chunks(self, export: Export) -> AsyncIterator[bytes]:
        """The file, a chunk at a time (never more than one chunk in memory)."""
        seq = 0
        while True:
            data = await self._pool.fetchval(SELECT_CHUNK, export.org_id, export.export_id, seq)
            if data is None:
                return
            yield bytes(data)
            seq += 1

    async def run(self, stop: asyncio.Event, poll_seconds: float) -> None:
        """Runs exports until `stop` is set; wakes at once for this process's new exports and
        every `poll_seconds` for other replicas' (or a crashed run's); backs off while claiming fails."""
        await run_periodically("usage export runner", self.run_waiting, poll_seconds, stop, wake=self._wake)

    async def run_waiting(self) -> int:
        """Produces exports until none is waiting; how many were claimed."""
        claimed = 0
        while await self.run_one():
            claimed += 1
        return claimed

    async def run_one(self) -> bool:
        """Claims and produces one export; False when none is waiting."""
        row: asyncpg.Record | None = None
        async with self._pool.acquire() as conn:
            try:
                async with conn.transaction():
                    row = await _claim(conn)
                    if row is None:
                        return False
                    await self._produce(conn, row)
                return True
            except (asyncpg.PostgresConnectionError, OSError):
                raise
            except Exception as error:
                if row is None:
                    raise  # the claim itself failed: the runner backs off
                log.exception("usage export %s failed", row["export_id"])
                await conn.execute(RECORD_FAILURE, row["org_id"], row["export_id"],
                                   f"{type(error).__name__}: {error}"[:500], MAX_ATTEMPTS)
                return True

    async def sweep_expired(self) -> int:
        result: str = await self._pool.execute(DELETE_EXPIRED)
        return int(result.rsplit(" ", 1)[-1])

    async def _produce(self, conn: asyncpg.Connection, export: asyncpg.Record) -> None:
        if export["format"] == "csv":
            await self._produce_csv(conn, export)
        else:
            await self._produce_json(conn, export)

    async def _produce_csv(self, conn: asyncpg.Connection, export: asyncpg.Record) -> None:
        """PostgreSQL writes the CSV itself (COPY … TO STDOUT); its stream is cut into chunks that a
        second connection stores as they come, so nothing accumulates here."""
        org_id, export_id = export["org_id"], export["export_id"]
        async with self._pool.acquire() as writer:
            # Chunks of an earlier, crashed run were committed by its writer: remove them first.
            await writer.execute(DELETE_CHUNKS, org_id, export_id)
            sink = _ChunkSink(writer, org_id, export_id, self._chunk_bytes)
            dataset, args = _query(export)
            status = await conn.copy_from_query(dataset.statement, *args, output=sink, format="csv",
                                                header=True)
            await sink.flush()
        await conn.execute(COMPLETE_EXPORT, org_id, export_id, int(status.rsplit(" ", 1)[-1]), sink.size)

    async def _produce_json(self, conn: asyncpg.Connection, export: asyncpg.Record) -> None:
        org_id, export_id = export["org_id"], export["export_id"]
        await conn.execute(DELETE_CHUNKS, org_id, export_id)
        dataset, args = _query(export)
        writer = _Writer(dataset.columns)
        seq = rows = size = 0
        cursor = await conn.cursor(dataset.statement, *args)
        while batch := await cursor.fetch(self._fetch_rows):
            for event in batch:
                writer.add(event)
            rows += len(batch)
            if writer.size >= self._chunk_bytes:
                data = writer.take()
                await conn.execute(INSERT_CHUNK, org_id, export_id, seq, data)
                seq, size = seq + 1, size + len(data)
        data = writer.finish()
        await conn.execute(INSERT_CHUNK, org_id, export_id, seq, data)
        await conn.execute(COMPLETE_EXPORT, org_id, export_id, rows, size + len(data))


def _query(export: asyncpg.Record) -> tuple[Dataset, list[object]]:
    dataset = DATASETS[export["kind"]]
    args: list[object] = [export["org_id"], export["range_from"], export["range_to"]]
    return dataset, [*args, list(export["meters"])] if dataset.by_meter else args


class _ChunkSink:
    """COPY's output, stored in chunks of about `chunk_bytes` as it streams."""

    def __init__(self, conn: asyncpg.Connection, org_id: str, export_id: str, chunk_bytes: int) -> None:
        self._conn, self._org_id, self._export_id = conn, org_id, export_id
        self._chunk_bytes = chunk_bytes
        self._buffer = bytearray()
        self._seq = 0
        self.size = 0

    async def __call__(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) >= self._chunk_bytes:
            await self.flush()

    async def flush(self) -> None:
        if not self._buffer and self._seq:
            return
        await self._conn.execute(INSERT_CHUNK, self._org_id, self._export_id, self._seq, bytes(self._buffer))
        self.size += len(self._buffer)
        self._seq += 1
        self._buffer.clear()


class _Writer:
    """Encodes rows as one JSON array, buffering at most one chunk."""

    def __init__(self, columns: tuple[str, ...]) -> None:
        self._columns = columns
        self._text = io.StringIO()
        self._rows = 0
        self._text.write("[")

    @property
    def size(self) -> int:
        return self._text.tell()

    def add(self, event: asyncpg.Record) -> None:
        item = json.dumps({c: _text(event[c]) for c in self._columns})
        self._text.write(("," if self._rows else "") + "\n" + item)
        self._rows += 1

    def take(self) -> bytes:
        data = self._text.getvalue().encode()
        self._text.seek(0)
        self._text.truncate()
        return data

    def finish(self) -> bytes:
        self._text.write("\n]\n" if self._rows else "]\n")
        return self.take()


def _text(value: object) -> str | int | None:
    if value is None or isinstance(value, str | int):
        return value
    return format_decimal(value)  # type: ignore[arg-type]
