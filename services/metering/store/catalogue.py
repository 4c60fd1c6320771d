"""Meters and organizations the hot path checks on every call, cached for a short while.

Meters change only through migrations or the admin service and organizations are not deleted,
so positive answers are cached; an unknown name is looked up again before it is refused.
"""

from __future__ import annotations

import time

import asyncpg

SELECT_METERS = "SELECT meter FROM meters"
SELECT_ORGANIZATION = "SELECT 1 FROM organizations WHERE org_id = $1"


class Catalogue:
    def __init__(self, pool: asyncpg.Pool, ttl_seconds: float = 60.0) -> None:
        self._pool = pool
        self._ttl = ttl_seconds
        self._meters: frozenset[str] = frozenset()
        self._meters_loaded = 0.0
        self._orgs: dict[str, float] = {}

    async def meters(self, *, refresh: bool = False) -> frozenset[str]:
        if refresh or time.monotonic() - self._meters_loaded > self._ttl:
            self._meters = frozenset(r["meter"] for r in await self._pool.fetch(SELECT_METERS))
            self._meters_loaded = time.monotonic()
        return self._meters

    async def organization_exists(self, org_id: str) -> bool:
        seen = self._orgs.get(org_id)
        if seen is not None and time.monotonic() - seen < self._ttl:
            return True
        if await self._pool.fetchval(SELECT_ORGANIZATION, org_id) is None:
            return False
        self._orgs[org_id] = time.monotonic()
        return True
