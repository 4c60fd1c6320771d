"""Deduction sessions: one streamed response charged chunk by chunk against a hold.

A session opens with a hold on its expected maximum. Its chunks are counted against the hold in
memory; only when a chunk does not fit (or the hold is due for renewal) does the session go to
the organization's balance row, to extend the hold under its lock. The settlement is one
deduction under the session key for what the granted chunks cost, drawn from the hold, and the
rest of the hold released, in one transaction.

Pure logic, no I/O: the operations the credit ledger applies on an organization's CreditBook,
and the in-memory tally of a live session.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from services.kit.decimals import ZERO
from services.kit.errors import FieldError, NotFoundError
from services.metering.domain.credits import (
    Attribution,
    Cost,
    CreditBook,
    Deduction,
    DeductOp,
    DenialReason,
    Extension,
    Hold,
    Reservation,
    ReserveOp,
    Unit,
)
from services.metering.domain.pricing import LlmPrice, LlmUsage, TokenCounts, llm_cost_usd, usd_to_credits


@dataclass(frozen=True)
class SessionOpening:
    """What opens a session: its key (also its hold's id), expected maximum and bounds."""

    idempotency_key: str
    expected: Cost
    ttl: timedelta
    idle_timeout: timedelta
    attribution: Attribution


@dataclass(frozen=True)
class OpenSessionOp:
    hold_id: str
    cost: Cost
    ttl: timedelta


@dataclass(frozen=True)
class ExtendOp:
    hold_id: str
    need: Decimal
    want: Decimal
    ttl: timedelta


@dataclass(frozen=True)
class SettleOp:
    idempotency_key: str
    hold_id: str
    amount: Decimal
    llm: LlmUsage | None
    attribution: Attribution


SessionOp = OpenSessionOp | ExtendOp | SettleOp
SESSION_OPS = (OpenSessionOp, ExtendOp, SettleOp)


@dataclass(frozen=True)
class Reopened:
    """An open naming a session key that was used before: its hold, and its settlement if any."""

    hold: Hold
    settlement: Deduction | None


SessionOutcome = Reservation | Reopened | Extension | Deduction


def session_key_of(op: SessionOp) -> str | None:
    """The deduction key whose stored result the operation needs, if any."""
    return op.hold_id if isinstance(op, OpenSessionOp) else (
        op.idempotency_key if isinstance(op, SettleOp) else None)


def tokens_of(op: SessionOp) -> LlmUsage | None:
    """The tokens the operation prices or counts, if any."""
    if isinstance(op, OpenSessionOp):
        return op.cost if isinstance(op.cost, LlmUsage) else None
    return op.llm if isinstance(op, SettleOp) else None


def apply_session_op(book: CreditBook, op: SessionOp, stored: dict[str, Deduction],
                     price: Callable[[Cost], Decimal]) -> SessionOutcome:
    """Applies one session operation on the book, under the organization's balance row lock."""
    if isinstance(op, OpenSessionOp):
        return _open(book, op, stored, price)
    hold = book.holds.get(op.hold_id)
    if isinstance(op, ExtendOp):
        if hold is None:
            raise NotFoundError("hold_id", f"hold {op.hold_id!r} does not exist")
        return book.extend_hold(hold, op.need, op.want, op.ttl)
    if op.idempotency_key in stored:
        return stored[op.idempotency_key]
    deduct = DeductOp(op.idempotency_key, op.llm or op.amount, op.hold_id, op.attribution)
    result = book.settle(deduct, hold, op.amount, op.llm)
    stored[op.idempotency_key] = dataclasses.replace(result, replayed=True)
    return result


def _open(book: CreditBook, op: OpenSessionOp, stored: dict[str, Deduction],
          price: Callable[[Cost], Decimal]) -> Reservation | Reopened:
    settled = stored.get(op.hold_id)
    hold = book.holds.get(op.hold_id)
    if settled is not None and settled.hold_id != op.hold_id:
        raise FieldError("open.idempotency_key", "already used by a Deduct; a session needs a key of its own")
    if hold is not None:
        return Reopened(hold, settled)
    return book.reserve(ReserveOp(op.hold_id, op.cost, op.ttl), price(op.cost))


def token_cost(usage: LlmUsage, unit: Unit, price: LlmPrice, credits_per_usd: Decimal | None) -> Decimal:
    """What `usage` costs in `unit` at `price` (and the credit rate, for credit organizations)."""
    usd = llm_cost_usd(price, usage.tokens)
    if unit is Unit.USD:
        return usd
    if credits_per_usd is None:
        raise NotFoundError("tokens", "no credit rate is in force")
    return usd_to_credits(usd, credits_per_usd)


@dataclass(frozen=True)
class ChunkAnswer:
    index: int
    granted: bool
    denial_reason: DenialReason | None
    amount: Decimal
    total: Decimal
    hold_remaining: Decimal
    available: Decimal
    unit: Unit


@dataclass
class Tally:
    """What a live session has held and granted, kept in memory between database visits."""

    unit: Unit
    held: Decimal
    available: Decimal  # beyond the hold, as of the hold's last change
    total: Decimal = ZERO
    chunks: int = 0
    model: str | None = None
    tokens: TokenCounts = field(default_factory=TokenCounts)

    def shortfall(self, amount: Decimal) -> Decimal:
        """How much the hold must grow for a chunk of `amount` to fit."""
        return max(ZERO, self.total + amount - self.held)

    def extended(self, extension: Extension) -> None:
        self.held += extension.added
        self.available = extension.balance.available

    def grant(self, amount: Decimal, llm: LlmUsage | None) -> ChunkAnswer:
        self.total += amount
        if llm is not None:
            self.model = llm.model
            self.tokens = add_tokens(self.tokens, llm.tokens)
        return self._answer(True, None, amount)

    def refuse(self, amount: Decimal, reason: DenialReason) -> ChunkAnswer:
        return self._answer(False, reason, amount)

    def usage(self) -> LlmUsage | None:
        """The session's tokens as one LLM usage (None when no chunk counted tokens)."""
        return None if self.model is None else LlmUsage(self.model, self.tokens)

    def _answer(self, granted: bool, reason: DenialReason | None, amount: Decimal) -> ChunkAnswer:
        index, self.chunks = self.chunks, self.chunks + 1
        return ChunkAnswer(index, granted, reason, amount, self.total, self.held - self.total,
                           self.available, self.unit)


def add_tokens(a: TokenCounts, b: TokenCounts) -> TokenCounts:
    return TokenCounts(a.input + b.input, a.output + b.output, a.cache_read + b.cache_read,
                       a.cache_write + b.cache_write)
