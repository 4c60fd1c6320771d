"""Warm books: a batch of deductions, or of a session's steps, in one statement that commits on
its own.

After every batch it commits, a process keeps the organization's book as committed (its grants
and balance figures, its terms, its active credit alerts, the open holds the batch saw whole)
with the versions of the rows they were read from. A later batch is applied to a copy of that
book and written by one statement that checks, under the balance row lock, that those rows are
still the versions the book came from (credit_books.save_warm_book), when the batch holds only
what the book can take without reading it again: deductions from no hold, the open of a session
under a new key, and the extensions and settlement of a session whose hold the book holds; what
is priced in tokens only where no quota counts tokens (the prices are read before the write).
Every
writer of the book updates the balance row, so the check fails, writes nothing, and the batch
takes the locked path when another replica, an operator or a new period changed anything; a
session key used before fails it too. PostgreSQL still decides; the warm book only saves the
locking read and the transaction's separate BEGIN and COMMIT.

Routing each organization's deductions to one owner keeps its book warm in that owner only.
"""

from __future__ import annotations

import dataclasses
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from services.metering.domain.alerts import Severity
from services.metering.domain.credits import (
    ON_ACCOUNT,
    Cost,
    CreditBook,
    DeductOp,
    Grant,
    Hold,
    Operation,
    Unit,
)
from services.metering.domain.sessions import ExtendOp, OpenSessionOp, SessionOp, SettleOp
from services.metering.store.credit_books import BookVersions, WarmWrite
from services.metering.store.periods import LockedBalance, credits_unlimited

# A warm book older than this is read again: the process's clock stands in for the database's
# in between, and the write refuses a time more than a second off.
MAX_AGE = timedelta(seconds=30)
# After a warm write found the book changed, this many batches take the locked path before the
# next try: an organization written by several replicas at once would fail every check.
COOL_DOWN = 8


@dataclass(frozen=True)
class WarmBook:
    """An organization's book as of the last batch this process committed for it."""

    org: LockedBalance  # figures and terms as committed
    grants: tuple[Grant, ...]
    holds: dict[str, Hold]  # open holds known whole (allocations included), by id
    write: WarmWrite  # what the next write checks
    next_hold_expiry: datetime | None  # the earliest expiry of an open hold, if any
    committed_at: datetime  # the database's time at a statement of the batch ...
    seen_at: float  # ... and this process's monotonic clock when that statement answered

    def clock(self) -> datetime:
        """The database's time now, as this process's clock carries it forward."""
        return self.committed_at + timedelta(seconds=time.monotonic() - self.seen_at)

    def book(self, now: datetime, hold_ids: Iterable[str]) -> CreditBook:
        """A fresh copy of the book at `now` with the holds a batch names, for that batch."""
        holds = [dataclasses.replace(h, allocations=dict(h.allocations))
                 for h in map(self.holds.get, hold_ids) if h is not None]
        return CreditBook(Unit.CREDITS, [g.copy() for g in self.grants], holds,
                          self.org.reserved, self.org.period_used, now, hard_limit=self.org.hard_limit,
                          unlimited=credits_unlimited(self.org))

    def takes(self, ops: list[Operation | SessionOp | None], now: datetime) -> bool:
        """Whether the batch can be applied to this book at `now`: in credits, no expiry of a
        period or a hold passed, the book recent enough, and each operation one it can take."""
        return (Unit.of_billing_model(self.org.billing_model) is Unit.CREDITS and now < self.org.period_end
                and (self.next_hold_expiry is None or now < self.next_hold_expiry)
                and now - self.committed_at < MAX_AGE
                and all(self._takes(op) for op in ops))

    def _takes(self, op: Operation | SessionOp | None) -> bool:
        """A deduction from no hold; a session opening under a key this book knows nothing of (a
        known one is answered from what was stored); or a step of a session whose hold the book
        has. Tokens only where no quota counts them: a quota's counter is locked and added to
        under the balance row lock."""
        if isinstance(op, DeductOp):
            return not op.hold_id and self._prices(op.cost)
        if isinstance(op, OpenSessionOp):
            return op.hold_id not in self.holds and self._prices(op.cost)
        if isinstance(op, SettleOp):  # its tokens priced already, chunk by chunk
            return op.hold_id in self.holds and (op.llm is None or not self.write.tokens_quota)
        return isinstance(op, ExtendOp) and op.hold_id in self.holds

    def _prices(self, cost: Cost) -> bool:
        return isinstance(cost, Decimal) or not self.write.tokens_quota


def warm_book(org: LockedBalance, book: CreditBook, versions: BookVersions,
              active_alerts: frozenset[Severity], tokens_quota: bool, next_hold_expiry: datetime | None,
              committed_at: datetime, seen_at: float, held: Mapping[str, Hold] | None = None) -> WarmBook:
    """The book as a batch committed it; `held`: the open holds of the warm book the batch was
    applied to, of which the batch's book has only those it named."""
    balance = book.balance()
    open_expiries = [h.expires_at for h in book.holds.values() if h.status == "open"]
    if next_hold_expiry is not None:
        open_expiries.append(next_hold_expiry)
    return WarmBook(
        org=dataclasses.replace(org, reserved=book.reserved, period_used=book.period_used,
                                monthly_remaining=balance.monthly_remaining,
                                bonus_remaining=balance.bonus_remaining, now=book.now),
        grants=tuple(g for g in book.grants.values() if g.grant_id != ON_ACCOUNT),
        holds={i: h for i, h in {**(held or {}), **book.holds}.items() if h.status == "open"},
        write=WarmWrite(versions, org.monthly_credits, active_alerts, tokens_quota),
        next_hold_expiry=min(open_expiries, default=None),
        committed_at=committed_at, seen_at=seen_at,
    )


class WarmBooks:
    """The warm books of one process, the most recently used `capacity` organizations'."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._books: OrderedDict[str, WarmBook] = OrderedDict()
        self._cooling: dict[str, int] = {}
        self._off = False

    def get(self, org_id: str) -> WarmBook | None:
        """The organization's warm book, unless it is cooling down after a failed check."""
        if self._off:
            return None
        if org_id in self._cooling:
            self._cooling[org_id] -= 1
            if self._cooling[org_id] <= 0:
                del self._cooling[org_id]
            return None
        return self._books.get(org_id)

    def keep(self, org_id: str, book: WarmBook) -> None:
        if self._off:
            return
        self._books[org_id] = book
        self._books.move_to_end(org_id)
        if len(self._books) > self._capacity:
            self._books.popitem(last=False)

    def forget(self, org_id: str, cool_down: bool = False) -> None:
        self._books.pop(org_id, None)
        if cool_down:
            if len(self._cooling) >= self._capacity:
                self._cooling.clear()
            self._cooling[org_id] = COOL_DOWN

    def turn_off(self) -> None:
        """Keeps no book from now on: every batch takes the locked path."""
        self._off = True
        self._books.clear()
        self._cooling.clear()
