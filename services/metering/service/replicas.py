"""This replica's view of the live metering server replicas, and which of them owns an
organization's credit operations (see domain.ownership)."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from services.metering.domain.ownership import owner_of
from services.metering.store import replicas as store

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

    @property
    def live(self) -> tuple[str, ...]:
        return self._live

    def owner_elsewhere(self, org_id: str) -> str | None:
        """The address of the replica that owns `org_id`; None when it is this one."""
        owner = owner_of(org_id, self._live)
        return None if owner == self.address else owner

    async def beat(self) -> int:
        """Announces this replica and reads the live ones; returns how many replicas joined or
        left this replica's view."""
        async with self._pool.acquire() as conn, conn.transaction():
            await store.beat(conn, self.address)
            live = await store.live(conn, self._live_within)
            await store.forget_long_gone(conn, FORGOTTEN_AFTER)
        before, self._live = set(self._live), tuple(sorted({*live, self.address}))
        return len(before ^ set(self._live))

    async def leave(self) -> None:
        """Stops owning organizations: the others take them over at their next heartbeat."""
        self._live = (self.address,)
        async with self._pool.acquire() as conn:
            await store.leave(conn, self.address)
