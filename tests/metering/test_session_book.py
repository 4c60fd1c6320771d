"""The pure side of deduction sessions: extending a hold, settling, the in-memory tally."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from services.metering.domain.credits import (
    Attribution,
    CreditBook,
    DeductOp,
    DenialReason,
    Grant,
    ReserveOp,
    Unit,
)
from services.metering.domain.sessions import Tally

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TTL = timedelta(minutes=5)


def _book(credits: int, hard_limit: int | None = None) -> CreditBook:
    grants = [Grant(1, "monthly", Decimal(credits), NOW + timedelta(days=9))]
    return CreditBook(Unit.CREDITS, grants, [], Decimal(0), Decimal(0), NOW,
                      hard_limit=None if hard_limit is None else Decimal(hard_limit))


def test_an_extension_takes_what_it_wants_as_far_as_the_balance_allows_and_renews_the_hold() -> None:
    book = _book(25)
    hold = book.reserve(ReserveOp("s", Decimal(10), TTL), Decimal(10)).hold
    later = book.now + timedelta(minutes=1)
    book.now = later
    grown = book.extend_hold(hold, Decimal(2), Decimal(10), TTL)
    assert (grown.granted, grown.added, hold.remaining, hold.expires_at) == (True, 10, 20, later + TTL)
    last = book.extend_hold(hold, Decimal(2), Decimal(10), TTL)  # 5 left: at least 2, at most 5
    assert (last.granted, last.added, hold.remaining, book.balance().available) == (True, 5, 25, 0)
    refused = book.extend_hold(hold, Decimal(1), Decimal(10), TTL)
    assert (refused.granted, refused.denial_reason) == (False, DenialReason.INSUFFICIENT_CREDITS)


def test_an_extension_stops_at_the_hard_limit() -> None:
    book = _book(100, hard_limit=15)
    hold = book.reserve(ReserveOp("s", Decimal(10), TTL), Decimal(10)).hold
    assert book.extend_hold(hold, Decimal(1), Decimal(10), TTL).added == 5
    refused = book.extend_hold(hold, Decimal(1), Decimal(10), TTL)
    assert refused.denial_reason is DenialReason.HARD_LIMIT


def test_a_settlement_captures_from_the_hold_and_releases_the_rest() -> None:
    book = _book(50)
    hold = book.reserve(ReserveOp("s", Decimal(20), TTL), Decimal(20)).hold
    settled = book.settle(DeductOp("s", Decimal(7), "s", Attribution()), hold, Decimal(7), None)
    assert (settled.amount, settled.from_hold, hold.status, hold.remaining) == (7, 7, "released", 0)
    assert (book.balance().available, book.balance().reserved, book.period_used) == (43, 0, 7)


def test_a_settlement_after_its_hold_lapsed_charges_no_more_than_the_balance_holds() -> None:
    book = _book(30)
    hold = book.reserve(ReserveOp("s", Decimal(20), TTL), Decimal(20)).hold
    book.release(hold, status="expired")
    book.deduct(DeductOp("other", Decimal(26)), Decimal(26))  # someone spent the credits meanwhile
    settled = book.settle(DeductOp("s", Decimal(9), "s", Attribution()), hold, Decimal(9), None)
    assert (settled.amount, settled.from_hold, settled.from_monthly) == (4, 0, 4)
    assert book.balance().available == 0


def test_the_tally_grants_within_the_hold_and_reports_the_shortfall() -> None:
    tally = Tally(Unit.CREDITS, held=Decimal(10), available=Decimal(90))
    assert tally.shortfall(Decimal(4)) == 0
    first = tally.grant(Decimal(4), None)
    assert (first.index, first.total, first.hold_remaining) == (0, 4, 6)
    assert tally.shortfall(Decimal(8)) == 2
    refused = tally.refuse(Decimal(8), DenialReason.INSUFFICIENT_CREDITS)
    assert (refused.index, refused.granted, refused.total) == (1, False, 4)
