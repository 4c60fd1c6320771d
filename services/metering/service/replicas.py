"""This replica's view of the live metering server replicas, and which of them owns an
organization's credit operations (see domain.ownership)."""

from __future__ import annotations

import logging
from datetime import timedelta

import asyncpg

from services.metering.domain.ownership import owner_of
from services.metering.store import replicas as store

log = logging.getLogger(__name__)

# A replica that missed this many heartbeats no longer owns anything; rows of replicas silent
# for an hour are removed (a replica that comes back announces itself again).
MISSED_BEATS = 3
FORGOTTEN_AFTER = timedelta(hours=1)


class Replicas:
    def __init__(self, pool: asyncpg.Pool, address: str, heartbeat_seconds: float) -> None:
        self.address = address
        self._pool = pool
        self._live_within = timedelta(seconds=heartbeat_seconds * MISSED_BEATS)
        self._live: tuple[str, ...] = (address,)

    def owner_elsewhere(self, org_id: str) -> str | None:
        """The address of the replica that owns `org_id`; None when it is this one."""
        owner = owner_of(org_id, self._live)
        return None if owner == self.address else owner

    async def beat(self) -> None:
        """Announces this replica and reads the live ones (logged when they change)."""
        async with self._pool.acquire() as conn, conn.transaction():
            await store.beat(conn, self.address)
            live = tuple(sorted({*await store.live(conn, self._live_within), self.address}))
            await store.forget_long_gone(conn, FORGOTTEN_AFTER)
        if live != self._live:
            log.info("live replicas: %s", ", ".join(live))
            self._live = live

    async def leave(self) -> None:
        """Stops owning organizations: the others take them over at their next heartbeat."""
        self._live = (self.address,)
        async with self._pool.acquire() as conn:
            await store.leave(conn, self.address)
