"""Per-second billing: the published pricing examples and proration, exact in the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import pytest

from services.billing.domain.proration import cost_usd, hour_pieces
from services.billing.service.resources import (
    create_resource,
    delete_resource,
    get_resource,
    resize_resource,
)
from services.billing.store.resources import NewResource

PRO = Decimal("0.0397")  # Postgres Pro / Compute Pro, per hour
STORAGE = Decimal("0.000137")  # per GB and hour
MINUTE, HOUR, DAY = 60, 3600, 86_400


def _within_published_precision(ours: Decimal, documented: str) -> bool:
    """Published figures are rounded (or cut): ours must be within one unit of the last digit."""
    places = -Decimal(documented).as_tuple().exponent  # type: ignore[operator]
    return abs(ours - Decimal(documented)) < Decimal(1).scaleb(-places)


@pytest.mark.parametrize(("seconds", "rate", "documented"), [
    (5 * MINUTE, PRO, "0.0033"),
    (HOUR, PRO, "0.0397"),
    (DAY, PRO, "0.952"),
    (HOUR, STORAGE, "0.00014"),
    (DAY, STORAGE, "0.0033"),
    (30 * DAY, STORAGE, "0.10"),
])
def test_published_pricing_examples_cost_what_the_price_list_says(seconds: int, rate: Decimal,
                                                         documented: str) -> None:
    ours = cost_usd(Decimal(seconds), rate)
    assert _within_published_precision(ours, documented), (ours, documented)


def test_thirty_days_of_a_pro_database_is_720_hours_at_the_hourly_rate() -> None:
    # The price list shows "30 days: $29.00", the monthly list price; 720 h x $0.0397 is $28.584 (even
    # the unrounded $29/730 h gives $28.60), so per-second billing charges 28.584.
    assert cost_usd(Decimal(30 * DAY), PRO) == Decimal("28.584")


def test_a_database_from_13_30_to_14_15_costs_three_quarters_of_the_hourly_rate_exactly() -> None:
    start = datetime(2024, 11, 29, 13, 30, tzinfo=UTC)
    end = datetime(2024, 11, 29, 14, 15, tzinfo=UTC)
    pieces = list(hour_pieces(start, end))
    assert [(p.hour_start.hour, p.seconds) for p in pieces] == [(13, 1800), (14, 900)]
    total = sum((cost_usd(p.seconds, PRO) for p in pieces), Decimal(0))
    assert total == Decimal("0.75") * PRO == Decimal("0.029775")


def test_one_second_is_billed_to_sixty_significant_digits() -> None:
    one = cost_usd(Decimal(1), PRO)
    assert str(one).startswith("0.0000110277777777777777")
    assert len(one.as_tuple().digits) == 60


async def test_created_and_deleted_mid_hour_the_store_bills_the_exact_seconds(pool: asyncpg.Pool,
                                                                              make_org) -> None:
    org = await make_org()
    created = datetime(2024, 11, 29, 13, 30, tzinfo=UTC)
    async with pool.acquire() as conn:
        await create_resource(conn, NewResource(org, "db-1", "postgres", "pro", Decimal(1), "prod", "u1"),
                              now=created)
        view, replayed = await delete_resource(conn, org, "db-1", now=created + timedelta(minutes=45))
    assert not replayed and view.status == "deleted"
    assert view.billed_seconds == 2700 and view.cost_usd == Decimal("0.029775")


async def test_a_resize_bills_each_size_for_its_own_seconds(pool: asyncpg.Pool, make_org) -> None:
    org = await make_org()
    t0 = datetime(2024, 11, 29, 10, 0, tzinfo=UTC)
    async with pool.acquire() as conn:
        await create_resource(conn, NewResource(org, "db", "postgres", "starter", Decimal(1), "db", None),
                              now=t0)
        _, same = await resize_resource(conn, org, "db", "starter", None, now=t0 + timedelta(minutes=10))
        await resize_resource(conn, org, "db", "pro", None, now=t0 + timedelta(minutes=30))
        await create_resource(conn, NewResource(org, "vol", "storage_gb", "", Decimal("2.5"), "vol", None),
                              now=t0)
        await delete_resource(conn, org, "db", now=t0 + timedelta(hours=1))
        db = await get_resource(conn, org, "db")
        vol = await get_resource(conn, org, "vol", now=t0 + timedelta(days=1))
    assert same  # resizing to the current size changes nothing
    assert db.cost_usd == Decimal("1800") * Decimal("0.0123") / 3600 + Decimal("1800") * PRO / 3600
    assert db.cost_usd == Decimal("0.026")
    assert vol.billed_seconds == DAY and vol.cost_usd == Decimal("0.00822")  # 2.5 GB x 24 h x 0.000137
