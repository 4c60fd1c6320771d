"""Resources billed per second: each create, resize and delete is one unit of work that locks the
resource's row, closes its open segment and opens the next (services/billing/store/resources.py).

The functions taking a connection check the request against what the store finds (the
organization, the resource, an hourly rate) and name the field that fails; `now` (default: the
database's time) lets the seed data and the tests place a change in time."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import asyncpg

from services.billing.store import resources as store
from services.billing.store.resources import NewResource, ResourceView
from services.kit.errors import FieldError, NotFoundError
from services.kit.unit_of_work import unit_of_work
from services.metering.service.organizations import require_organization


class Resources:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def create(self, new: NewResource) -> tuple[ResourceView, bool]:
        async with unit_of_work(self.pool) as conn:
            return await create_resource(conn, new)

    async def resize(self, org_id: str, resource_id: str, tier: str | None,
                     quantity: Decimal | None) -> tuple[ResourceView, bool]:
        async with unit_of_work(self.pool) as conn:
            return await resize_resource(conn, org_id, resource_id, tier, quantity)

    async def delete(self, org_id: str, resource_id: str) -> tuple[ResourceView, bool]:
        async with unit_of_work(self.pool) as conn:
            return await delete_resource(conn, org_id, resource_id)

    async def get(self, org_id: str, resource_id: str) -> ResourceView:
        async with self.pool.acquire() as conn:
            return await get_resource(conn, org_id, resource_id)

    async def list(self, org_id: str, kind: str, include_deleted: bool) -> list[ResourceView]:
        async with self.pool.acquire() as conn:
            return await list_resources(conn, org_id, kind, include_deleted)


async def create_resource(conn: asyncpg.Connection, new: NewResource,
                          now: datetime | None = None) -> tuple[ResourceView, bool]:
    """Starts billing at `now`; (view, replayed). A resource_id used before answers as a replay when
    the request is the one that created it, and is refused naming the first field that differs."""
    await require_organization(conn, new.org_id)
    at = now or await store.database_now(conn)
    rate = await _rate(conn, new.kind, new.tier, at)
    created = await store.create_resource(conn, new, rate, at)
    if not created:
        field = _first_difference(await store.as_created(conn, new.org_id, new.resource_id), new)
        if field is not None:
            raise FieldError(field, f"differs from resource {new.resource_id!r} created earlier; "
                                    "use a new resource_id for a different resource")
    return await _view(conn, new.org_id, new.resource_id, at), not created


async def resize_resource(conn: asyncpg.Connection, org_id: str, resource_id: str, tier: str | None,
                          quantity: Decimal | None, now: datetime | None = None) -> tuple[ResourceView, bool]:
    """(view, replayed): a resize to the tier and quantity the resource has is a replay."""
    current = await _locked(conn, org_id, resource_id)
    if current.status == "deleted":
        raise FieldError("resource_id", f"resource {resource_id!r} is deleted")
    new_tier = current.tier if tier is None else tier
    new_quantity = current.quantity if quantity is None else quantity
    at = now or await store.database_now(conn)
    replayed = (new_tier, new_quantity) == (current.tier, current.quantity)
    if not replayed:
        rate = await _rate(conn, current.kind, new_tier, at)
        await store.resize_resource(conn, org_id, resource_id, current.kind, new_tier, new_quantity, rate, at)
    return await _view(conn, org_id, resource_id, at), replayed


async def delete_resource(conn: asyncpg.Connection, org_id: str, resource_id: str,
                          now: datetime | None = None) -> tuple[ResourceView, bool]:
    """(view, replayed): deleting a deleted resource is a replay."""
    current = await _locked(conn, org_id, resource_id)
    at = now or await store.database_now(conn)
    replayed = current.status == "deleted"
    if not replayed:
        await store.delete_resource(conn, org_id, resource_id, at)
    return await _view(conn, org_id, resource_id, at), replayed


async def get_resource(conn: asyncpg.Connection, org_id: str, resource_id: str,
                       now: datetime | None = None) -> ResourceView:
    view = await store.get_resource(conn, org_id, resource_id, now)
    if view is None:
        await require_organization(conn, org_id)
        raise _missing(resource_id)
    return view


async def list_resources(conn: asyncpg.Connection, org_id: str, kind: str,
                         include_deleted: bool) -> list[ResourceView]:
    views = await store.list_resources(conn, org_id, kind=kind, include_deleted=include_deleted)
    if not views:
        await require_organization(conn, org_id)
    return views


async def _view(conn: asyncpg.Connection, org_id: str, resource_id: str, at: datetime) -> ResourceView:
    """The resource just written (it exists in this unit of work)."""
    view = await store.get_resource(conn, org_id, resource_id, at)
    assert view is not None
    return view


async def _rate(conn: asyncpg.Connection, kind: str, tier: str, at: datetime) -> Decimal:
    rate = await store.hourly_rate(conn, kind, tier, at)
    if rate is None:
        field = "tier" if tier else "kind"
        raise NotFoundError(field, f"no hourly rate for resource {kind!r} tier {tier!r} (SetResourceRate)")
    return rate


async def _locked(conn: asyncpg.Connection, org_id: str, resource_id: str) -> store.LockedResource:
    current = await store.lock_resource(conn, org_id, resource_id)
    if current is None:
        await require_organization(conn, org_id)
        raise _missing(resource_id)
    return current


def _missing(resource_id: str) -> NotFoundError:
    return NotFoundError("resource_id", f"resource {resource_id!r} does not exist")


def _first_difference(earlier: NewResource, asked: NewResource) -> str | None:
    """The first field of `asked` that differs from the resource created earlier under its id."""
    return next((field for field, stored, wanted in (
        ("kind", earlier.kind, asked.kind), ("tier", earlier.tier, asked.tier),
        ("quantity", earlier.quantity, asked.quantity), ("name", earlier.name, asked.name),
        ("user_id", earlier.user_id, asked.user_id),
    ) if stored != wanted), None)
