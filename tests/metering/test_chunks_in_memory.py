"""A live session answers the chunks that fit its hold in memory and leaves the rest to `charge`,
which visits the database; neither path counts a chunk the other counted."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from services.metering.domain.credits import Attribution, CreditBook, Grant, ReserveOp, Unit
from services.metering.domain.pricing import LlmPrice, LlmUsage, TokenCounts
from services.metering.domain.sessions import SessionOpening
from services.metering.service.streaming import DeductionSessions, Session

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TTL = timedelta(minutes=5)


def _session(held: int) -> Session:
    """A session holding `held` of an organization's 100 credits; no database behind it."""
    book = CreditBook(Unit.CREDITS, [Grant(1, "monthly", Decimal(100), NOW + timedelta(days=9))], [],
                      Decimal(0), Decimal(0), NOW)
    reservation = book.reserve(ReserveOp("s-1", Decimal(held), TTL), Decimal(held))
    opening = SessionOpening("s-1", Decimal(held), TTL, timedelta(seconds=30), Attribution())
    nothing: Any = None  # the in-memory path must not touch the ledger or the pool
    return Session(DeductionSessions(nothing, nothing), "org-1", opening, reservation)


def test_chunks_that_fit_the_hold_are_answered_in_memory() -> None:
    session = _session(held=10)
    first = session.charge_from_hold(Decimal(4))
    second = session.charge_from_hold(Decimal("2.5"))
    assert first is not None and second is not None
    assert (first.index, first.granted) == (0, True)
    assert (first.total, first.hold_remaining) == (Decimal(4), Decimal(6))
    assert (second.index, second.total, second.hold_remaining) == (1, Decimal("6.5"), Decimal("3.5"))
    assert second.available == Decimal(90)


def test_a_chunk_past_the_hold_is_left_to_the_database_and_not_counted() -> None:
    session = _session(held=10)
    assert session.charge_from_hold(Decimal(10)) is not None  # exactly the hold
    assert session.charge_from_hold(Decimal("0.01")) is None
    assert (session.tally.total, session.tally.chunks) == (Decimal(10), 1)


def test_a_hold_due_for_renewal_is_left_to_the_database() -> None:
    session = _session(held=10)
    session._renewed = time.monotonic() - TTL.total_seconds() / 2  # half its TTL has passed
    assert session.charge_from_hold(Decimal(1)) is None
    assert session.tally.chunks == 0


def test_tokens_of_a_model_not_priced_yet_are_left_to_the_database() -> None:
    session = _session(held=10)
    tokens = LlmUsage("gpt-4o", TokenCounts(input=Decimal(100), output=Decimal(20)))
    assert session.charge_from_hold(tokens) is None
    assert session.tally.chunks == 0


def test_tokens_of_the_sessions_priced_model_are_answered_in_memory() -> None:
    session = _session(held=10)
    # $2.50 / $10 per million input / output tokens, 1,000 credits per USD (as `charge` reads them).
    session._price = (LlmPrice("gpt-4o", Decimal("2.50"), Decimal(10), Decimal(0), Decimal(0)), Decimal(1000))
    chunk = LlmUsage("gpt-4o", TokenCounts(input=Decimal(1000), output=Decimal(200)))
    answer = session.charge_from_hold(chunk)
    # 1,000 x 2.50 / 1e6 + 200 x 10 / 1e6 = $0.0045 = 4.5 credits
    assert answer is not None and answer.amount == Decimal("4.5") and answer.hold_remaining == Decimal("5.5")
    assert session.tally.model == "gpt-4o"
    other = LlmUsage("claude-sonnet", TokenCounts(input=Decimal(10)))
    assert session.charge_from_hold(other) is None  # another model: `charge` refuses it by name
