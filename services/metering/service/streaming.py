"""Deduction sessions: what the DeductSession stream calls (see domain.sessions).

A live session lives in the process that serves its stream. Its chunks cost no database round
trip while they fit in the hold; the hold is extended (and its expiry renewed) under the
organization's balance row lock when a chunk does not fit or half the hold's TTL has passed.

Each settlement runs as a task of its own, so a stream cancelled by its client still settles,
and the server waits for settlements in flight before it closes its database pool. A process
killed outright settles nothing: the hold expires at its TTL and is released whole, so the
session charges nothing and strands nothing for longer than the TTL.
"""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal

import asyncpg

from services.kit.database import DATABASE_UNREACHABLE
from services.kit.errors import FieldError, NotFoundError
from services.metering.domain.credits import Cost, Deduction, Extension, Reservation, running_out
from services.metering.domain.pricing import LlmPrice, LlmUsage
from services.metering.domain.sessions import (
    ChunkAnswer,
    ExtendOp,
    OpenSessionOp,
    Reopened,
    SessionOpening,
    SettleOp,
    Tally,
    token_cost,
)
from services.metering.service.credit_ledger import CreditLedger
from services.metering.service.instruments import DEDUCTIONS
from services.metering.store import credit_ledger as ledger_store

log = logging.getLogger(__name__)
# Retries of a settlement while the database is unreachable, until the hold would expire.
SETTLE_RETRY_SECONDS = (0.1, 0.2, 0.5, 1.0, 2.0)


class SessionBusyError(Exception):
    """The key names a session that is still open (its stream not yet settled)."""


class SessionEndedError(Exception):
    """The key names a session whose hold closed without a settlement, or the hold closed under
    a live session (released by a Release naming it, or lapsed while the database was away)."""


class DeductionSessions:
    """The live sessions' front: opens them and keeps their settlements running to the end."""

    def __init__(self, ledger: CreditLedger, pool: asyncpg.Pool) -> None:
        self.ledger = ledger
        self.pool = pool
        self._settling: set[asyncio.Task[Deduction]] = set()

    async def open(self, org_id: str, opening: SessionOpening) -> Session | Reservation | Deduction:
        """A live session; or the refused hold; or the stored settlement of a key used before."""
        op = OpenSessionOp(opening.idempotency_key, opening.expected, opening.ttl)
        outcome = await self.ledger.apply_session_op(org_id, op)
        if isinstance(outcome, Reopened):
            return _reopened(outcome)
        if not isinstance(outcome, Reservation):
            raise TypeError(f"unexpected answer to an open: {outcome!r}")
        if not outcome.granted:
            return outcome
        return Session(self, org_id, opening, outcome)

    def track(self, task: asyncio.Task[Deduction]) -> None:
        self._settling.add(task)
        task.add_done_callback(self._settled)

    def _settled(self, task: asyncio.Task[Deduction]) -> None:
        self._settling.discard(task)
        if task.cancelled():
            return
        if (error := task.exception()) is not None:
            # Often nobody awaits it (the client is gone): the hold then expires at its TTL.
            log.error("a session's settlement failed: %r", error)
        elif not (settlement := task.result()).replayed:
            DEDUCTIONS.add(1, {"kind": "session", "outcome": "granted", "reason": "",
                               "unit": settlement.unit.value})

    async def wait_settled(self) -> None:
        """Waits for the settlements in flight (at shutdown, before the pool closes)."""
        while self._settling:
            await asyncio.gather(*self._settling, return_exceptions=True)


def _reopened(outcome: Reopened) -> Reservation | Deduction:
    hold = outcome.hold
    if outcome.settlement is not None:
        return outcome.settlement
    if hold.status == "open":
        raise SessionBusyError(f"session {hold.hold_id!r} is open on another stream; it settles at the "
                               "latest idle_timeout_seconds after its last message")
    if hold.status == "denied" and hold.balance_after is not None and hold.denial_reason is not None:
        return Reservation(hold, False, hold.denial_reason, hold.balance_after.unit, hold.balance_after,
                           replayed=True)
    raise SessionEndedError(f"session {hold.hold_id!r} ended without a settlement (its hold "
                            f"{hold.status}): nothing was charged; open a new session with a new key")


class Session:
    """One streamed response: its hold, its tally, and its one settlement."""

    def __init__(self, sessions: DeductionSessions, org_id: str, opening: SessionOpening,
                 reservation: Reservation) -> None:
        self._sessions = sessions
        self.org_id = org_id
        self.opening = opening
        self.reservation = reservation
        self.hold_id = reservation.hold.hold_id
        self.tally = Tally(reservation.unit, reservation.hold.amount, reservation.balance.available)
        self._renewed = time.monotonic()
        self._price: tuple[LlmPrice, Decimal | None] | None = None
        self._settlement: asyncio.Task[Deduction] | None = None

    def charge_from_hold(self, cost: Cost) -> ChunkAnswer | None:
        """The chunk granted from the hold as it stands, in memory; None when charging it takes
        the database (see `charge`): the hold must grow or be renewed, or the chunk names a
        model the session has not priced yet."""
        priced = (cost, None) if isinstance(cost, Decimal) else self._priced_already(cost)
        if priced is None or self.tally.shortfall(priced[0]) > 0 or self._renewal_due():
            return None
        return self.tally.grant(*priced)

    async def charge(self, cost: Cost) -> ChunkAnswer:
        """Grants the chunk against the hold (extending it when it does not fit) or refuses it.
        A FieldError names the field within the chunk (`tokens.model`)."""
        amount, usage = (cost, None) if isinstance(cost, Decimal) else await self._priced(cost)
        shortfall = self.tally.shortfall(amount)
        if shortfall > 0 or self._renewal_due():
            extension = await self._extend(shortfall)
            if shortfall > 0 and not extension.granted:
                return self.tally.refuse(amount, extension.denial_reason or running_out(self.tally.unit))
        return self.tally.grant(amount, usage)

    def settle(self) -> asyncio.Task[Deduction]:
        """The session's one settlement, started on the first call; later calls get the same."""
        if self._settlement is None:
            self._settlement = asyncio.get_running_loop().create_task(self._settle())
            self._sessions.track(self._settlement)
        return self._settlement

    async def _settle(self) -> Deduction:
        op = SettleOp(self.opening.idempotency_key, self.hold_id, self.tally.total, self.tally.usage(),
                      self.opening.attribution)
        give_up = self._renewed + self.opening.ttl.total_seconds()
        for pause in (*SETTLE_RETRY_SECONDS, None):
            try:
                result = await self._sessions.ledger.apply_session_op(self.org_id, op)
                if not isinstance(result, Deduction):
                    raise TypeError(f"unexpected answer to a settlement: {result!r}")
                return result
            except DATABASE_UNREACHABLE:
                if time.monotonic() >= give_up:
                    raise
                log.warning("database unreachable settling a session; retrying")
                await asyncio.sleep(pause if pause is not None else SETTLE_RETRY_SECONDS[-1])
        raise AssertionError("unreachable")

    def _renewal_due(self) -> bool:
        return time.monotonic() - self._renewed >= self.opening.ttl.total_seconds() / 2

    async def _extend(self, shortfall: Decimal) -> Extension:
        want = max(shortfall, self.reservation.hold.amount) if shortfall > 0 else Decimal(0)
        op = ExtendOp(self.hold_id, shortfall, want, self.opening.ttl)
        started = time.monotonic()
        extension = await self._sessions.ledger.apply_session_op(self.org_id, op)
        if not isinstance(extension, Extension):
            raise TypeError(f"unexpected answer to an extension: {extension!r}")
        if extension.closed:
            raise SessionEndedError(f"hold_id: the session's hold {self.hold_id!r} was "
                                    f"{extension.hold.status} before the session settled")
        self._renewed = started
        self.tally.extended(extension)
        return extension

    def _priced_already(self, cost: LlmUsage) -> tuple[Decimal, LlmUsage] | None:
        """The chunk's cost when its model is the session's and already priced."""
        price = self._price
        if price is None or price[0].model != cost.model or self.tally.model not in (None, cost.model):
            return None
        return token_cost(cost, self.tally.unit, *price), cost

    async def _priced(self, cost: LlmUsage) -> tuple[Decimal, LlmUsage]:
        if (priced := self._priced_already(cost)) is not None:
            return priced
        if self.tally.model is not None and cost.model != self.tally.model:
            raise FieldError("tokens.model", f"differs from the session's model {self.tally.model!r}")
        # Not priced yet: the price and credit rate in force when the session opened, read once.
        opened = self.reservation.hold.created_at
        async with self._sessions.pool.acquire() as conn:
            prices, rate = await ledger_store.prices_and_rate_at(conn, [cost.model], opened)
        price = prices.get(cost.model)
        if price is None:
            raise NotFoundError("tokens.model", f"no price for model {cost.model!r}")
        self._price = (price, rate)
        return token_cost(cost, self.tally.unit, price, rate), cost
