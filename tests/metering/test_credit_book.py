"""The pure credit book: burn order, holds, lapsing grants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from services.metering.domain.credits import CreditBook, DeductOp, Grant, ReleaseOp, ReserveOp, Unit

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _book(*grants: Grant) -> CreditBook:
    return CreditBook(Unit.CREDITS, grants, [], Decimal(0), Decimal(0), NOW)


def test_grants_burn_monthly_first_then_bonus_by_earliest_expiry() -> None:
    book = _book(
        Grant(1, "bonus", Decimal(10), None),
        Grant(2, "bonus", Decimal(10), NOW + timedelta(days=3)),
        Grant(3, "monthly", Decimal(5), NOW + timedelta(days=20)),
        Grant(4, "bonus", Decimal(10), NOW + timedelta(days=1)),
    )
    result = book.deduct(DeductOp("k", Decimal(22)), Decimal(22))
    assert (result.from_monthly, result.from_bonus) == (5, 17)
    assert [(e.grant_id, e.amount) for e in book.entries] == [(3, -5), (4, -10), (2, -7)]


def test_a_refused_deduction_changes_nothing() -> None:
    book = _book(Grant(1, "monthly", Decimal(5), NOW + timedelta(days=1)))
    result = book.deduct(DeductOp("k", Decimal(6)), Decimal(6))
    assert not result.granted and book.entries == [] and book.balance().available == 5


def test_lapsed_grants_expire_through_the_ledger() -> None:
    book = _book(
        Grant(1, "monthly", Decimal(40), NOW - timedelta(seconds=1)), Grant(2, "bonus", Decimal(7), None)
    )
    assert [(e.kind, e.grant_id, e.amount) for e in book.entries] == [("expire", 1, -40)]
    assert book.balance().monthly_remaining == 0 and book.balance().bonus_remaining == 7


def test_release_returns_what_the_hold_took_to_the_grants_it_came_from() -> None:
    book = _book(
        Grant(1, "monthly", Decimal(3), NOW + timedelta(days=9)), Grant(2, "bonus", Decimal(10), None)
    )
    reservation = book.reserve(ReserveOp("h", Decimal(8), timedelta(minutes=5)), Decimal(8))
    assert reservation.granted and reservation.hold.allocations == {1: 3, 2: 5}
    book.deduct(DeductOp("d", Decimal(4), hold_id="h"), Decimal(4))
    released = book.release(book.holds["h"])
    assert released.released == 4
    assert (book.grants[1].remaining, book.grants[2].remaining) == (0, 9)
    assert book.balance().reserved == 0
    assert book.release(book.holds[ReleaseOp("h").hold_id]).already_closed


def test_one_book_keeps_its_burn_order_as_grants_run_dry() -> None:
    book = _book(
        Grant(1, "bonus", Decimal(10), None),
        Grant(2, "bonus", Decimal(10), NOW + timedelta(days=1)),
        Grant(3, "monthly", Decimal(5), NOW + timedelta(days=20)),
    )
    first = book.deduct(DeductOp("a", Decimal(3)), Decimal(3))
    assert (first.balance.monthly_remaining, first.balance.bonus_remaining) == (2, 20)
    second = book.deduct(DeductOp("b", Decimal(4)), Decimal(4))  # the monthly 2, then 2 of grant 2
    assert (second.from_monthly, second.from_bonus) == (2, 2)
    assert (second.balance.monthly_remaining, second.balance.bonus_remaining) == (0, 18)
    third = book.deduct(DeductOp("c", Decimal(9)), Decimal(9))  # grant 2's last 8, then 1 of grant 1
    assert (third.from_monthly, third.from_bonus, third.balance.bonus_remaining) == (0, 9, 9)
    assert [(e.grant_id, e.amount) for e in book.entries] == [(3, -3), (3, -2), (2, -2), (2, -8), (1, -1)]
    refused = book.deduct(DeductOp("d", Decimal(10)), Decimal(10))
    assert not refused.granted and refused.balance.available == 9


def test_a_copied_grant_is_spent_apart_from_its_original() -> None:
    original = Grant(1, "monthly", Decimal(5), NOW + timedelta(days=20))
    book = _book(original.copy())
    book.deduct(DeductOp("k", Decimal(5)), Decimal(5))
    assert book.grants[1].remaining == 0 and original.remaining == 5
