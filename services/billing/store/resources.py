"""Resource lifecycle: create, resize, delete. Each change closes one segment and opens the next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg

from services.billing.domain.resources import ResourceMeter, Segment, billed, resource_meter
from services.kit.errors import FieldError, NotFoundError
from services.metering.store.organizations import get_organization

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


async def create_resource(conn: asyncpg.Connection, new: NewResource,
                          now: datetime | None = None) -> tuple[ResourceView, bool]:
    """Starts billing at `now` (default: the database's time, whole seconds); (view, replayed)."""
    await get_organization(conn, new.org_id)
    at = now or await conn.fetchval(NOW)
    rate = await _rate(conn, new.kind, new.tier, at)
    meter = await _ensure_meter(conn, new.kind, new.tier)
    created = await conn.fetchval(INSERT_RESOURCE, new.org_id, new.resource_id, new.kind, new.name,
                                  new.tier, new.quantity, new.user_id, at)
    if created is None:
        await _same_as_existing(conn, new)
    else:
        await conn.execute(INSERT_SEGMENT, new.org_id, new.resource_id, 1, meter.meter, new.tier,
                           new.quantity, rate, at)
    return await get_resource(conn, new.org_id, new.resource_id, at), created is None


async def resize_resource(conn: asyncpg.Connection, org_id: str, resource_id: str, tier: str | None,
                          quantity: Decimal | None, now: datetime | None = None) -> tuple[ResourceView, bool]:
    current = await _locked(conn, org_id, resource_id)
    if current["status"] == "deleted":
        raise FieldError("resource_id", f"resource {resource_id!r} is deleted")
    new_tier = current["tier"] if tier is None else tier
    new_quantity = current["quantity"] if quantity is None else quantity
    at = now or await conn.fetchval(NOW)
    replayed = (new_tier, new_quantity) == (current["tier"], current["quantity"])
    if not replayed:
        rate = await _rate(conn, current["kind"], new_tier, at)
        meter = await _ensure_meter(conn, current["kind"], new_tier)
        closed = await conn.fetchval(CLOSE_OPEN_SEGMENT, org_id, resource_id, at)
        await conn.execute(INSERT_SEGMENT, org_id, resource_id, closed + 1, meter.meter, new_tier,
                           new_quantity, rate, at)
        await conn.execute(RESIZE_RESOURCE, org_id, resource_id, new_tier, new_quantity, at)
    return await get_resource(conn, org_id, resource_id, at), replayed


async def delete_resource(conn: asyncpg.Connection, org_id: str, resource_id: str,
                          now: datetime | None = None) -> tuple[ResourceView, bool]:
    current = await _locked(conn, org_id, resource_id)
    at = now or await conn.fetchval(NOW)
    replayed = current["status"] == "deleted"
    if not replayed:
        await conn.execute(CLOSE_OPEN_SEGMENT, org_id, resource_id, at)
        await conn.execute(DELETE_RESOURCE, org_id, resource_id, at)
    return await get_resource(conn, org_id, resource_id, at), replayed


async def get_resource(conn: asyncpg.Connection, org_id: str, resource_id: str,
                       now: datetime | None = None) -> ResourceView:
    views = await list_resources(conn, org_id, now, resource_id=resource_id, include_deleted=True)
    if not views:
        raise NotFoundError("resource_id", f"resource {resource_id!r} does not exist")
    return views[0]


async def list_resources(conn: asyncpg.Connection, org_id: str, now: datetime | None = None, *,
                         resource_id: str = "", kind: str = "",
                         include_deleted: bool = False) -> list[ResourceView]:
    at = now or await conn.fetchval(NOW)
    rows = await conn.fetch(SELECT_RESOURCES, org_id, resource_id, kind, include_deleted)
    if not rows:
        await get_organization(conn, org_id)
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


async def _rate(conn: asyncpg.Connection, kind: str, tier: str, at: datetime) -> Decimal:
    rate: Decimal | None = await conn.fetchval(SELECT_RATE, kind, tier, at)
    if rate is None:
        field = "tier" if tier else "kind"
        raise NotFoundError(field, f"no hourly rate for resource {kind!r} tier {tier!r} (SetResourceRate)")
    return rate


async def _ensure_meter(conn: asyncpg.Connection, kind: str, tier: str) -> ResourceMeter:
    meter = resource_meter(kind, tier)
    await conn.execute(INSERT_RESOURCE_METER, meter.meter, kind, tier, meter.display_name, meter.unit,
                       meter.stripe_scale, meter.category, meter.stripe_event_name)
    return meter


async def _locked(conn: asyncpg.Connection, org_id: str, resource_id: str) -> asyncpg.Record:
    row = await conn.fetchrow(SELECT_RESOURCE_FOR_UPDATE, org_id, resource_id)
    if row is None:
        await get_organization(conn, org_id)
        raise NotFoundError("resource_id", f"resource {resource_id!r} does not exist")
    return row


async def _same_as_existing(conn: asyncpg.Connection, new: NewResource) -> None:
    """Refuses a create whose resource_id was used for a different resource, naming what differs."""
    row = await conn.fetchrow(SELECT_RESOURCES, new.org_id, new.resource_id, "", True)
    first = await conn.fetchrow(SELECT_FIRST_SEGMENT, new.org_id, new.resource_id)
    for field, stored, asked in (
        ("kind", row["kind"], new.kind), ("tier", first["tier"], new.tier),
        ("quantity", first["quantity"], new.quantity), ("name", row["name"], new.name),
        ("user_id", row["user_id"], new.user_id),
    ):
        if stored != asked:
            raise FieldError(field, f"differs from resource {new.resource_id!r} created earlier; "
                                    "use a new resource_id for a different resource")
