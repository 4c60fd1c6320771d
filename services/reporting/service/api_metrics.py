"""The metering API's own request metrics per organization, kept in PostgreSQL.

Requests are counted in memory and added to `api_request_metrics` every few seconds (and when the
server stops), so the figures survive restarts and add up across replicas. Only well-formed
organization ids are counted and only existing organizations are stored; a batch the database
refuses is dropped with one log line, while one that cannot reach the database waits for the next flush.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal

import asyncpg

from services.kit import inputs
from services.kit.database import DATABASE_UNREACHABLE
from services.kit.errors import FieldError

UPSERT_METRICS = """
INSERT INTO api_request_metrics (org_id, day, surface, requests, latency_ms_sum)
SELECT m.org_id, m.day, m.surface, m.requests, m.latency_ms_sum
FROM unnest($1::text[], $2::date[], $3::text[], $4::bigint[], $5::numeric[])
     AS m(org_id, day, surface, requests, latency_ms_sum)
JOIN organizations o ON o.org_id = m.org_id
ORDER BY 1, 2, 3
ON CONFLICT (org_id, day, surface) DO UPDATE
SET requests = api_request_metrics.requests + EXCLUDED.requests,
    latency_ms_sum = api_request_metrics.latency_ms_sum + EXCLUDED.latency_ms_sum"""

_Key = tuple[str, date, str]
log = logging.getLogger(__name__)


class ApiMetricsRecorder:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._pending: dict[_Key, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])

    def record(self, org_id: str, surface: str, elapsed_ns: int) -> None:
        try:
            inputs.slug(org_id, "org_id")
        except FieldError:
            return
        cell = self._pending[(org_id, datetime.now(UTC).date(), surface)]
        cell[0] += 1
        cell[1] += Decimal(elapsed_ns) / 1_000_000

    async def flush(self) -> int:
        """Adds what was counted since the last flush; keeps it for the next one while the database
        is unreachable, drops it when the database refuses it."""
        pending, self._pending = self._pending, defaultdict(lambda: [Decimal(0), Decimal(0)])
        if not pending:
            return 0
        keys = sorted(pending)
        try:
            await self._pool.execute(
                UPSERT_METRICS, [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys],
                [int(pending[k][0]) for k in keys], [pending[k][1] for k in keys])
        except Exception as error:
            if isinstance(error, DATABASE_UNREACHABLE) and not _refused(error):
                self._keep(pending)
                raise
            if not _refused(error):
                raise
            log.error("API metrics of %d organization-days dropped: the database refused them (%s)",
                      len(keys), type(error).__name__)
        return 0  # nothing worth a log line

    def _keep(self, pending: dict[_Key, list[Decimal]]) -> None:
        for key, (count, latency) in pending.items():
            cell = self._pending[key]
            cell[0] += count
            cell[1] += latency


def _refused(error: Exception) -> bool:
    """PostgreSQL or the driver rejected the rows themselves (a client-side encoding failure is an
    asyncpg InterfaceError and a ValueError): retrying cannot help."""
    if isinstance(error, ValueError):
        return True
    return isinstance(error, asyncpg.PostgresError) and not isinstance(error, DATABASE_UNREACHABLE)
