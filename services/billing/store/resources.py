"""Resource lifecycle: create, resize, delete. Each change closes one segment and opens the next.

The service layer checks what a change needs (the organization, the resource, an hourly rate) and
calls these in its unit of work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg

from services.billing.domain.resources import ResourceMeter, Segment, billed, resource_meter

NOW = "SELECT date_trunc('second', statement_timestamp())"
SELECT_RATE = """
SELECT hourly_usd FROM resource_rates
WHERE resource = $1 AND tier = $2 AND effective_from <= $3
ORDER BY effective_from DESC LIMIT 1"""
INSERT_RESOURCE_METER = """
INSERT INTO billing_meters (meter, source, resource, tier, display_name, unit, stripe_scale, service,
                            category, stripe_event_name)
VALUES ($1, 'resource', $2, $3, $4, $5, $6, 'infrastructure', $7, $8)
ON CONFLICT DO NOTHING"""
INSERT_RESOURCE = """
INSERT INTO resources (org_id, resource_id, kind, name, tier, quantity, user_id, status, created_at,
                       updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, 'running', $8, $8)
ON CONFLICT (org_id, resource_id) DO NOTHING
RETURNING resource_id"""
INSERT_SEGMENT = """
INSERT INTO resource_segments (org_id, resource_id, segment_no, meter, tier, quantity, hourly_usd,
                               started_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"""
SELECT_RESOURCE_FOR_UPDATE = """
SELECT kind, tier, quantity, status FROM resources WHERE org_id = $1 AND resource_id = $2 FOR UPDATE"""
CLOSE_OPEN_SEGMENT = """
UPDATE resource_segments SET ended_at = greatest($3, started_at)
WHERE org_id = $1 AND resource_id = $2 AND ended_at IS NULL
RETURNING segment_no"""
RESIZE_RESOURCE = """
UPDATE resources SET tier = $3, quantity = $4, updated_at = $5 WHERE org_id = $1 AND resource_id = $2"""
DELETE_RESOURCE = """
UPDATE resources SET status = 'deleted', deleted_at = $3, updated_at = $3
WHERE org_id = $1 AND resource_id = $2"""
SELECT_FIRST_SEGMENT = """
SELECT tier, quantity FROM resource_segments WHERE org_id = $1 AND resource_id = $2 AND segment_no = 1"""
SELECT_RESOURCES = """
SELECT org_id, resource_id, kind, name, tier, quantity, user_id, status, created_at, deleted_at
FROM resources
WHERE org_id = $1 AND ($2 = '' OR resource_id = $2) AND ($3 = '' OR kind = $3) AND ($4 OR status = 'running')
ORDER BY created_at, resource_id"""
SELECT_SEGMENTS = """
SELECT resource_id, tier, quantity, hourly_usd, started_at, ended_at FROM resource_segments
WHERE org_id = $1 AND resource_id = ANY($2::text[]) ORDER BY resource_id, segment_no"""


@dataclass(frozen=True)
class NewResource:
    org_id: str
    resource_id: str
    kind: str
    tier: str
    quantity: Decimal
    name: str
    user_id: str | None


@dataclass(frozen=True)
class LockedResource:
    """A resource's row, locked until the transaction ends."""

    kind: str
    tier: str
    quantity: Decimal
    status: str  # running | deleted


@dataclass(frozen=True)
class ResourceView:
    org_id: str
    resource_id: str
    kind: str
    name: str
    tier: str
    quantity: Decimal
    user_id: str | None
    status: str
    created_at: datetime
    deleted_at: datetime | None
    hourly_usd: Decimal
    billed_seconds: Decimal
    cost_usd: Decimal


async def database_now(conn: asyncpg.Connection) -> datetime:
    """The database's time, whole seconds: when a change takes effect unless the caller says."""
    now: datetime = await conn.fetchval(NOW)
    return now


async def hourly_rate(conn: asyncpg.Connection, kind: str, tier: str, at: datetime) -> Decimal | None:
    """The hourly price of the resource in force at `at`; None when no rate was set."""
    rate: Decimal | None = await conn.fetchval(SELECT_RATE, kind, tier, at)
    return rate


async def create_resource(conn: asyncpg.Connection, new: NewResource, hourly_usd: Decimal,
                          at: datetime) -> bool:
    """Starts billing at `at`; False (nothing written) when the resource_id was used before."""
    meter = await _ensure_meter(conn, new.kind, new.tier)
    created = await conn.fetchval(INSERT_RESOURCE, new.org_id, new.resource_id, new.kind, new.name,
                                  new.tier, new.quantity, new.user_id, at)
    if created is None:
        return False
    await conn.execute(INSERT_SEGMENT, new.org_id, new.resource_id, 1, meter.meter, new.tier,
                       new.quantity, hourly_usd, at)
    return True


async def as_created(conn: asyncpg.Connection, org_id: str, resource_id: str) -> NewResource:
    """The resource as it was created (its first tier and quantity), which must exist."""
    row = await conn.fetchrow(SELECT_RESOURCES, org_id, resource_id, "", True)
    first = await conn.fetchrow(SELECT_FIRST_SEGMENT, org_id, resource_id)
    return NewResource(org_id=org_id, resource_id=resource_id, kind=row["kind"], tier=first["tier"],
                       quantity=first["quantity"], name=row["name"], user_id=row["user_id"])


async def lock_resource(conn: asyncpg.Connection, org_id: str, resource_id: str) -> LockedResource | None:
    row = await conn.fetchrow(SELECT_RESOURCE_FOR_UPDATE, org_id, resource_id)
    if row is None:
        return None
    return LockedResource(kind=row["kind"], tier=row["tier"], quantity=row["quantity"], status=row["status"])


async def resize_resource(conn: asyncpg.Connection, org_id: str, resource_id: str, kind: str, tier: str,
                          quantity: Decimal, hourly_usd: Decimal, at: datetime) -> None:
    """Closes the open segment at `at` and opens one at the new tier and quantity."""
    meter = await _ensure_meter(conn, kind, tier)
    closed = await conn.fetchval(CLOSE_OPEN_SEGMENT, org_id, resource_id, at)
    await conn.execute(INSERT_SEGMENT, org_id, resource_id, closed + 1, meter.meter, tier, quantity,
                       hourly_usd, at)
    await conn.execute(RESIZE_RESOURCE, org_id, resource_id, tier, quantity, at)


async def delete_resource(conn: asyncpg.Connection, org_id: str, resource_id: str, at: datetime) -> None:
    """Stops billing at `at`."""
    await conn.execute(CLOSE_OPEN_SEGMENT, org_id, resource_id, at)
    await conn.execute(DELETE_RESOURCE, org_id, resource_id, at)


async def get_resource(conn: asyncpg.Connection, org_id: str, resource_id: str,
                       now: datetime | None = None) -> ResourceView | None:
    views = await list_resources(conn, org_id, now, resource_id=resource_id, include_deleted=True)
    return views[0] if views else None


async def list_resources(conn: asyncpg.Connection, org_id: str, now: datetime | None = None, *,
                         resource_id: str = "", kind: str = "",
                         include_deleted: bool = False) -> list[ResourceView]:
    at = now or await database_now(conn)
    rows = await conn.fetch(SELECT_RESOURCES, org_id, resource_id, kind, include_deleted)
    segments: dict[str, list[Segment]] = {}
    for s in await conn.fetch(SELECT_SEGMENTS, org_id, [r["resource_id"] for r in rows]):
        segments.setdefault(s["resource_id"], []).append(
            Segment(s["tier"], s["quantity"], s["hourly_usd"], s["started_at"], s["ended_at"]))
    return [_view(row, segments.get(row["resource_id"], []), at) for row in rows]


def _view(row: asyncpg.Record, segments: list[Segment], now: datetime) -> ResourceView:
    seconds, cost = billed(segments, now)
    return ResourceView(
        org_id=row["org_id"], resource_id=row["resource_id"], kind=row["kind"], name=row["name"],
        tier=row["tier"], quantity=row["quantity"], user_id=row["user_id"], status=row["status"],
        created_at=row["created_at"], deleted_at=row["deleted_at"],
        hourly_usd=segments[-1].hourly_usd if segments else Decimal(0),
        billed_seconds=seconds, cost_usd=cost,
    )


async def _ensure_meter(conn: asyncpg.Connection, kind: str, tier: str) -> ResourceMeter:
    meter = resource_meter(kind, tier)
    await conn.execute(INSERT_RESOURCE_METER, meter.meter, kind, tier, meter.display_name, meter.unit,
                       meter.stripe_scale, meter.category, meter.stripe_event_name)
    return meter
