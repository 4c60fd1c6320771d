"""Deduct, Reserve and Release with group commit.

Concurrent operations for the same organization queue up inside this process; one transaction at
a time per organization takes the balance row FOR UPDATE, replays idempotency keys already stored,
applies the new operations in arrival order on the organization's CreditBook, writes every ledger
row in one statement and commits once. Across replicas the row lock serializes batches, so
PostgreSQL still decides: no organization is overdrawn however many processes race. A batch of
plain deductions or session steps after a committed batch is applied to the book that batch left,
in one statement that writes only while that book is still the organization's (see warm_books).
While the process is CPU-bound, a batch first waits, for a bounded time, for as many calls as the
last one took (see batch_gathering).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg

from services.kit.errors import FieldError, NotFoundError
from services.kit.thread_load import ThreadLoad
from services.metering.domain.alerts import QuotaLimits, Severity, alerts_called_for
from services.metering.domain.credits import (
    CreditBook,
    Deduction,
    DeductOp,
    Operation,
    Release,
    ReleaseOp,
    Reservation,
    ReserveOp,
    Unit,
    period_allowance,
)
from services.metering.domain.pricing import LlmPrice, LlmUsage, llm_cost_usd, usd_to_credits
from services.metering.domain.replays import replayed_deduction, replayed_reservation
from services.metering.domain.sessions import (
    SESSION_OPS,
    SessionOp,
    SessionOutcome,
    SettleOp,
    apply_session_op,
    session_key_of,
    tokens_of,
)
from services.metering.domain.usage_limits import MeterCounter
from services.metering.service.batch_gathering import DEFAULT_WAIT_SECONDS, BatchGathering, answer
from services.metering.service.organizations import unknown_organization
from services.metering.service.warm_books import WarmBook, WarmBooks, warm_book
from services.metering.store import alerts, quota_limits
from services.metering.store import credit_ledger as ledger_store
from services.metering.store.credit_books import load_book, lock_book, save_book, save_warm_book
from services.metering.store.deduction_usage import LLM_TOKENS
from services.metering.store.periods import LockedBalance, roll_period_if_due
from services.metering.store.quota_limits import CREDITS

Outcome = Deduction | Reservation | Release | SessionOutcome

log = logging.getLogger(__name__)

# A warm batch's time is at least this much after the last one's, so the ledger keeps its order.
_TICK = timedelta(microseconds=1)


@dataclass
class _Pending:
    op: Operation | SessionOp | None  # None: a sweep that only expires lapsed holds
    future: asyncio.Future[Any]


class CreditLedger:
    """Per-process front of the credit ledger; one instance per server process."""

    def __init__(self, pool: asyncpg.Pool, max_batch: int = 512, batches_in_flight: int = 1,
                 batch_wait: float = DEFAULT_WAIT_SECONDS, load: Callable[[], float] | None = None) -> None:
        """`batch_wait`: how long a batch may wait for more calls while the process is CPU-bound
        (0: never); `load`: the event loop thread's load (kit.thread_load), measured unless given."""
        self._pool = pool
        self._max_batch = max_batch
        # One batch per organization at a time: the server is CPU-bound long before PostgreSQL
        # is, and whatever queues behind a batch joins the next one, so batches grow with the
        # load (a second batch in flight measured 10-15 % slower: smaller batches, a lock wait).
        self._batches_in_flight = batches_in_flight
        self._queues: dict[str, list[_Pending]] = defaultdict(list)
        self._draining: dict[str, int] = defaultdict(int)
        self._warm_books = WarmBooks()
        self._gathering = BatchGathering(batch_wait, load or ThreadLoad().share)

    async def deduct(self, org_id: str, op: DeductOp) -> Deduction:
        result: Deduction = await self._submit(org_id, op)
        return result

    async def reserve(self, org_id: str, op: ReserveOp) -> Reservation:
        result: Reservation = await self._submit(org_id, op)
        return result

    async def release(self, org_id: str, op: ReleaseOp) -> Release:
        result: Release = await self._submit(org_id, op)
        return result

    async def apply_session_op(self, org_id: str, op: SessionOp) -> SessionOutcome:
        """Opens, extends or settles a deduction session's hold (see domain.sessions)."""
        result: SessionOutcome = await self._submit(org_id, op)
        return result

    async def expire_lapsed_holds(self, limit: int = 100) -> int:
        """Releases holds past their expiry (each exactly once); returns the organizations swept."""
        async with self._pool.acquire() as conn:
            org_ids = await ledger_store.organizations_with_expired_holds(conn, limit)
        await asyncio.gather(*(self._submit(org_id, None) for org_id in org_ids))
        return len(org_ids)

    async def _submit(self, org_id: str, op: Operation | SessionOp | None) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        queue = self._queues[org_id]
        queue.append(_Pending(op, future))
        self._gathering.queued(org_id, len(queue))
        if self._draining[org_id] < self._batches_in_flight:
            self._draining[org_id] += 1
            asyncio.get_running_loop().create_task(self._drain(org_id))
        return await future

    async def _drain(self, org_id: str) -> None:
        try:
            while self._queues.get(org_id):
                await self._gathering.wait(org_id, len(self._queues[org_id]))
                if not (queue := self._queues.get(org_id)):
                    continue  # another batch in flight took them
                batch, self._queues[org_id] = queue[: self._max_batch], queue[self._max_batch :]
                self._gathering.took(org_id, len(batch))
                try:
                    await self._apply(org_id, batch)
                except Exception as error:
                    # The transaction rolled back, nothing was applied; or the connection's return
                    # failed after the answers went out (those calls are answered already).
                    _answer(batch, [error] * len(batch))
        finally:
            self._draining[org_id] -= 1
            if not self._draining[org_id]:
                del self._draining[org_id]
                if not self._queues.get(org_id):
                    self._queues.pop(org_id, None)

    async def _apply(self, org_id: str, batch: list[_Pending]) -> None:
        """Applies the batch in one transaction and answers its callers once it has committed;
        this process's own bookkeeping (the warm book, the connection's return to the pool) waits
        until the callers have run."""
        ops = [p.op for p in batch]
        async with self._pool.acquire() as conn:
            warm = self._warm_books.get(org_id)
            if warm is not None:
                written = await self._apply_warm(conn, org_id, warm, ops)
                if written is not None:
                    outcomes, renewed = written
                    await _answer_first(batch, outcomes)
                    self._warm_books.keep(org_id, renewed())
                    return
            # The unit of work: the whole batch commits, or none of it does.
            async with conn.transaction():
                outcomes, committed = await _apply_in(conn, org_id, ops)
            await _answer_first(batch, outcomes)
            if committed is not None:
                self._warm_books.keep(org_id, committed)

    async def _apply_warm(self, conn: asyncpg.Connection, org_id: str, warm: WarmBook,
                          ops: list[Operation | SessionOp | None]
                          ) -> tuple[list[Outcome | Exception | None], Callable[[], WarmBook]] | None:
        """The batch applied to the warm book and written in one statement, with how to renew
        the warm book from it; or None when the locked path must apply it (what the book cannot
        take, an alert to raise or resolve, a changed book, a key stored before)."""
        now = max(warm.clock(), warm.org.now + _TICK)
        if not warm.takes(ops, now):
            return None
        # Prices and the credit rate are reference data: read before the write, outside the lock
        # (the locked path reads them under it).
        prices, rate = await _load_prices(conn, ops, now)
        book, stored = warm.book(now, _hold_ids(ops)), dict[str, Deduction]()  # a key sent twice
        outcomes = [_apply_one(book, op, stored, prices, rate) for op in ops]
        if _credit_alerts(warm.org, book, Decimal(0)) != warm.write.active_alerts:
            return None
        opened = [h for h in sorted(book.changed_holds) if h not in warm.holds]
        counts_tokens = any(_tokens(op) for op in ops)
        try:
            written = await save_warm_book(conn, org_id, book, warm.write, opened, counts_tokens)
        except asyncpg.UniqueViolationError:
            written = None
        except asyncpg.FeatureNotSupportedError as error:
            # A distributed database that cannot run the checked write (a Citus release that
            # refuses one of its constructs): every batch takes the locked path from now on.
            log.warning("warm books off in this process, the database refused their write: %s", error)
            self._warm_books.turn_off()
            return None
        if written is None:
            self._warm_books.forget(org_id, cool_down=True)
            return None
        version, committed_at = written
        seen_at = time.monotonic()

        def renewed() -> WarmBook:
            versions = dataclasses.replace(warm.write.versions, balance=version)
            return warm_book(warm.org, book, versions, warm.write.active_alerts, warm.write.tokens_quota,
                             warm.next_hold_expiry, committed_at, seen_at, warm.holds)

        return outcomes, renewed


async def _apply_in(conn: asyncpg.Connection, org_id: str, ops: list[Operation | SessionOp | None]
                    ) -> tuple[list[Outcome | Exception | None], WarmBook | None]:
    """The batch's outcomes, and the book as it will be once the transaction commits."""
    keys = [k for op in ops if (k := _deduction_key(op))]
    hold_ids = _hold_ids(ops)
    locked = await lock_book(conn, org_id, keys, hold_ids, alerts_of=CREDITS)
    # The database's time (`now`) is that statement's: the clock of a warm book starts here, not
    # after the rest of the batch, however long that takes.
    locked_at = time.monotonic()
    if locked is None:
        return [unknown_organization(org_id)] * len(ops), None
    org = await roll_period_if_due(conn, org_id, locked.balance)
    loaded = locked.book
    if loaded is None or org is not locked.balance:  # read before another's commit, or a new period
        loaded = await load_book(conn, org_id, org, keys, hold_ids, alerts_of=CREDITS)
    book = loaded.book
    book.tokens = await _lock_token_counter(conn, org_id, ops)
    prices, rate = await _load_prices(conn, ops, book.now)
    outcomes = [_apply_one(book, op, loaded.stored, prices, rate) for op in ops]
    version = await save_book(conn, org_id, book)
    if book.tokens is not None:
        await quota_limits.save_counters(conn, {(org_id, LLM_TOKENS): book.tokens}, book.now)
    active = await _raise_alerts(conn, org_id, org, book, loaded.active_alerts)
    versions = dataclasses.replace(locked.versions, balance=version)
    return outcomes, warm_book(org, book, versions, active, loaded.tokens_quota, loaded.next_hold_expiry,
                               book.now, locked_at)


async def _answer_first(batch: list[_Pending], outcomes: list[Outcome | Exception | None]) -> None:
    """Answers the batch's callers and lets them run before the batch's task goes on: their
    answers go out before the warm book's renewal and the connection's return, which no caller
    waits for."""
    _answer(batch, outcomes)
    await asyncio.sleep(0)


def _answer(batch: list[_Pending], outcomes: list[Outcome | Exception | None]) -> None:
    for pending, outcome in zip(batch, outcomes, strict=True):
        answer(pending.future, outcome)


def _hold_ids(ops: list[Operation | SessionOp | None]) -> list[str]:
    """The holds the batch names (a session's key names its hold)."""
    return sorted({op.hold_id for op in ops if op is not None and op.hold_id})


def _deduction_key(op: Operation | SessionOp | None) -> str | None:
    if isinstance(op, DeductOp):
        return op.idempotency_key
    return session_key_of(op) if isinstance(op, SESSION_OPS) else None


def _tokens(op: Operation | SessionOp | None) -> LlmUsage | None:
    """The tokens an operation prices or counts, if any."""
    if isinstance(op, SESSION_OPS):
        return tokens_of(op)
    if isinstance(op, DeductOp | ReserveOp) and isinstance(op.cost, LlmUsage):
        return op.cost
    return None


def _apply_one(book: CreditBook, op: Operation | SessionOp | None, stored: dict[str, Deduction],
               prices: dict[str, LlmPrice], rate: Decimal | None) -> Outcome | Exception | None:
    try:
        if op is None:
            return None
        if isinstance(op, SESSION_OPS):
            return apply_session_op(book, op, stored, lambda cost: _price(cost, book.unit, prices, rate))
        if isinstance(op, ReleaseOp):
            hold = book.holds.get(op.hold_id)
            if hold is None or hold.status == "denied":
                raise NotFoundError("hold_id", f"hold {op.hold_id!r} does not exist")
            return book.release(hold)
        if isinstance(op, ReserveOp):
            existing = book.holds.get(op.hold_id)
            if existing is not None:
                return replayed_reservation(existing, op, book.unit, book.balance())
            return book.reserve(op, _price(op.cost, book.unit, prices, rate))
        if op.idempotency_key in stored:
            return replayed_deduction(stored[op.idempotency_key], op)
        if op.hold_id and op.hold_id not in book.holds:
            raise NotFoundError("hold_id", f"hold {op.hold_id!r} does not exist")
        amount = _price(op.cost, book.unit, prices, rate)
        result = book.deduct(op, amount, op.cost if isinstance(op.cost, LlmUsage) else None)
        stored[op.idempotency_key] = dataclasses.replace(result, replayed=True)
        return result
    except FieldError as error:  # NotFoundError included
        return error



def _price(cost: Decimal | LlmUsage, unit: Unit, prices: dict[str, LlmPrice],
           rate: Decimal | None) -> Decimal:
    if isinstance(cost, Decimal):
        return cost
    price = prices.get(cost.model)
    if price is None:
        raise NotFoundError("tokens.model", f"no price for model {cost.model!r}")
    usd = llm_cost_usd(price, cost.tokens)
    if unit is Unit.USD:
        return usd
    if rate is None:
        raise NotFoundError("tokens", "no credit rate is in force")
    return usd_to_credits(usd, rate)


async def _lock_token_counter(conn: asyncpg.Connection, org_id: str,
                              ops: list[Operation | SessionOp | None]) -> MeterCounter | None:
    """Locks the `llm_tokens` quota row (after the balance row, as every writer does) when the
    batch prices tokens and a quota tracks them; RecordUsage takes the same lock."""
    if not any(_tokens(op) for op in ops):
        return None
    return (await quota_limits.lock_counters(conn, [(org_id, LLM_TOKENS)])).get((org_id, LLM_TOKENS))


async def _load_prices(conn: asyncpg.Connection, ops: list[Operation | SessionOp | None],
                       now: datetime) -> tuple[dict[str, LlmPrice], Decimal | None]:
    # A settlement counts tokens priced chunk by chunk already.
    models = sorted({usage.model for op in ops if (usage := _tokens(op)) and not isinstance(op, SettleOp)})
    if not models:
        return {}, None
    return await ledger_store.prices_and_rate_at(conn, models, now)


async def _raise_alerts(conn: asyncpg.Connection, org_id: str, org: LockedBalance,
                        book: CreditBook, active: frozenset[Severity]) -> frozenset[Severity]:
    """Reconciles the credit alerts with the batch's usage; returns the ones active after."""
    # A separate read: folded into the locking statement it would miss a cap lowered meanwhile.
    overspent = await ledger_store.overspent(conn, org_id) if book.unit is Unit.USD else Decimal(0)
    return await alerts.reconcile(conn, org_id, CREDITS, _credit_limits(org, book, overspent),
                                  book.period_used, book.now, active)


def _credit_limits(org: LockedBalance, book: CreditBook, overspent: Decimal) -> QuotaLimits:
    balance = book.balance()
    return QuotaLimits(
        org.soft_limit, org.hard_limit,
        None if book.unlimited else period_allowance(book.period_used, balance.reserved,
                                                     balance.available, overspent),
        org.alert_at_percent, org.alert_enabled,
    )


def _credit_alerts(org: LockedBalance, book: CreditBook, overspent: Decimal) -> frozenset[Severity]:
    """The credit alerts the book's usage calls for (reconciling makes them the active ones)."""
    return frozenset(alerts_called_for(book.period_used, _credit_limits(org, book, overspent)))
