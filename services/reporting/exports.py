"""Usage exports: background jobs that stream usage events into CSV or JSON chunks in PostgreSQL.

A request stores a `processing` export and wakes this process's runner. Runners of every replica
claim exports with `FOR NO KEY UPDATE SKIP LOCKED` and keep the row locked for the whole run, so a
replica that dies mid-run releases it to another. CSV is written by PostgreSQL itself
(`COPY … TO STDOUT`) and JSON from a server-side cursor a few thousand rows at a time; either
stream is cut into chunks of about a megabyte as it comes, so memory stays bounded whatever the
export's size. Downloads stream the chunks one by one,
from any replica, until the export expires; expired exports are deleted by a sweep.
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

from services.domain.decimals import format_decimal
from services.domain.errors import FieldError, NotFoundError

log = logging.getLogger(__name__)

FORMATS = ("csv", "json")
COLUMNS = ("event_id", "occurred_at", "meter", "quantity", "workspace_id", "user_id", "source", "model",
           "token_kind", "idempotency_key", "recorded_at")
MAX_RANGE = timedelta(days=731)
MAX_ATTEMPTS = 3

INSERT_EXPORT = """
INSERT INTO usage_exports (org_id, export_id, status, format, meters, range_from, range_to,
                           requested_by, created_at, expires_at)
VALUES ($1, $2, 'processing', $3, $4, $5, $6, $7, statement_timestamp(), statement_timestamp() + $8::interval)
RETURNING *, statement_timestamp() AS now"""

SELECT_EXPORT = """
SELECT *, statement_timestamp() AS now FROM usage_exports WHERE org_id = $1 AND export_id = $2"""

# NO KEY UPDATE: the writer connection's chunk inserts check their foreign key with KEY SHARE,
# which this lock lets through while it still keeps other runners away.
CLAIM_EXPORT = """
SELECT * FROM usage_exports
WHERE status = 'processing' AND expires_at > statement_timestamp()
ORDER BY created_at
LIMIT 1
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

# Key order: the (org_id, occurred_at) index serves the range; event_id keeps the order total.
# Timestamps as RFC 3339 UTC text, the same in both formats.
SELECT_EVENTS = """
SELECT event_id, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at,
       meter, quantity, workspace_id, user_id, source, model, token_kind, idempotency_key,
       to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS recorded_at
FROM usage_events
WHERE org_id = $1 AND occurred_at >= $2 AND occurred_at <= $3
  AND (cardinality($4::text[]) = 0 OR meter = ANY($4::text[]))
ORDER BY occurred_at, event_id"""

SELECT_CHUNK = "SELECT data FROM usage_export_chunks WHERE org_id = $1 AND export_id = $2 AND seq = $3"

DELETE_EXPIRED = "DELETE FROM usage_exports WHERE expires_at <= statement_timestamp()"


@dataclass(frozen=True)
class ExportRequest:
    format: str
    meters: tuple[str, ...]
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Export:
    org_id: str
    export_id: str
    status: str  # processing | completed | failed | expired
    format: str
    row_count: int
    size_bytes: int
    created_at: datetime
    expires_at: datetime
    error: str | None

    @property
    def downloadable(self) -> bool:
        return self.status == "completed"


def export_request(fmt: str, meters: Sequence[str], start: datetime | None, end: datetime | None,
                   fields: tuple[str, str] = ("period.from", "period.to")) -> ExportRequest:
    """`fields` names start and end as the caller's transport does."""
    from_field, to_field = fields
    if fmt not in FORMATS:
        raise FieldError("format", "must be 'csv' or 'json'")
    if start is None:
        raise FieldError(from_field, "is required")
    if end is None:
        raise FieldError(to_field, "is required")
    if end < start:
        raise FieldError(to_field, f"must not be before {from_field}")
    if end - start > MAX_RANGE:
        raise FieldError(to_field, "an export may span at most two years")
    return ExportRequest(fmt, tuple(sorted(set(meters))), start, end)


def _export(row: asyncpg.Record) -> Export:
    status = row["status"]
    if row["expires_at"] <= row["now"]:
        status = "expired"
    return Export(row["org_id"], row["export_id"], status, row["format"], row["row_count"],
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
                                        self._ttl)
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
        every `poll_seconds` for other replicas' (or a crashed run's)."""
        while not stop.is_set():
            try:
                while await self.run_one():
                    pass
            except Exception:
                log.exception("usage export runner failed; retrying in %.1fs", poll_seconds)
            self._wake.clear()
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waiters, timeout=poll_seconds, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def run_one(self) -> bool:
        """Claims and produces one export; False when none is waiting."""
        row: asyncpg.Record | None = None
        async with self._pool.acquire() as conn:
            try:
                async with conn.transaction():
                    row = await conn.fetchrow(CLAIM_EXPORT)
                    if row is None:
                        return False
                    await self._produce(conn, row)
                return True
            except (asyncpg.PostgresConnectionError, OSError):
                raise
            except Exception as error:
                if row is not None:
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
            status = await conn.copy_from_query(
                SELECT_EVENTS, org_id, export["range_from"], export["range_to"], list(export["meters"]),
                output=sink, format="csv", header=True)
            await sink.flush()
        await conn.execute(COMPLETE_EXPORT, org_id, export_id, int(status.rsplit(" ", 1)[-1]), sink.size)

    async def _produce_json(self, conn: asyncpg.Connection, export: asyncpg.Record) -> None:
        org_id, export_id = export["org_id"], export["export_id"]
        await conn.execute(DELETE_CHUNKS, org_id, export_id)
        writer = _Writer(export["format"])
        seq = rows = size = 0
        cursor = await conn.cursor(SELECT_EVENTS, org_id, export["range_from"], export["range_to"],
                                   list(export["meters"]))
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
    """Encodes events as one JSON array, buffering at most one chunk."""

    def __init__(self, fmt: str) -> None:
        assert fmt == "json"
        self._text = io.StringIO()
        self._rows = 0
        self._text.write("[")

    @property
    def size(self) -> int:
        return self._text.tell()

    def add(self, event: asyncpg.Record) -> None:
        item = json.dumps({c: _text(event[c]) for c in COLUMNS})
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
