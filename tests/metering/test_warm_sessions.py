"""A deduction session's steps (its open, the extensions of its hold, its settlement) are written
in one statement each against the book the last batch of this process committed, while that
book is still the organization's; a key used before, or a hold another writer changed, sends the
step down the locked path, which answers what the product rules say. Figures worked out by hand;
Free organizations start with 500 monthly credits."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from services.kit.errors import FieldError
from services.metering.domain.credits import (
    Attribution,
    Deduction,
    DeductOp,
    Extension,
    ReleaseOp,
    Reservation,
)
from services.metering.domain.pricing import LlmUsage
from services.metering.domain.sessions import ExtendOp, OpenSessionOp, Reopened, SettleOp
from services.metering.service import credit_ledger
from services.metering.service.credit_ledger import CreditLedger
from services.metering.store.quota_limits import set_quota
from tests.metering.warm_ledger import (
    TOKENS,
    Statements,
    figures,
    kinds,
    reproduced,
    tokens_counted,
    warm_ledger,
)

TTL = timedelta(minutes=2)
USAGE_ROWS = "SELECT idempotency_key, meter, quantity FROM usage_events WHERE org_id = $1 " \
             "ORDER BY idempotency_key"


def _open(key: str, amount: int) -> OpenSessionOp:
    return OpenSessionOp(key, Decimal(amount), TTL)


def _settle(key: str, amount: Decimal | int, tokens: LlmUsage | None = None) -> SettleOp:
    return SettleOp(key, key, Decimal(amount), tokens, Attribution())


async def test_a_sessions_open_extension_and_settlement_after_a_committed_batch_are_one_statement_each(
    statements: Statements, pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    ledger, seen = await warm_ledger(statements, org)  # 493 left
    steps: list[tuple[Any, list[str]]] = []
    for op in (_open("s-1", 10), DeductOp("k-2", Decimal(3)), ExtendOp("s-1", Decimal(5), Decimal(10), TTL),
               _settle("s-1", 12)):
        seen.clear()
        step = ledger.deduct(org, op) if isinstance(op, DeductOp) else ledger.apply_session_op(org, op)
        steps.append((await step, kinds(seen)))
    (opened, a), (deducted, b), (extended, c), (settled, d) = steps
    assert a == b == c == d == ["warm write"]  # the deduction between them left the hold warm
    assert isinstance(opened, Reservation) and isinstance(extended, Extension)
    assert (opened.granted, opened.balance.available, opened.balance.reserved) == (True, 483, 10)
    assert (deducted.balance.available, deducted.balance.reserved) == (480, 10)
    # At least the 5 needed, up to 10 wanted: 10 more, so 20 held and 470 left.
    assert (extended.added, extended.balance.available, extended.balance.reserved) == (10, 470, 20)
    assert isinstance(settled, Deduction)
    # 12 from the hold, its other 8 back: 500 - 7 - 3 - 12.
    assert (settled.amount, settled.from_hold, settled.balance.monthly_remaining) == (12, 12, 478)
    assert settled.balance.reserved == 0
    assert await figures(pool, org) == (478, 0, 0, 22)
    hold = await pool.fetchrow("SELECT amount, remaining, status FROM holds WHERE org_id = $1", org)
    assert (hold["amount"], hold["remaining"], hold["status"]) == (10, 0, "released")
    await reproduced(pool, org)


async def test_a_settled_sessions_key_opened_again_gets_the_stored_settlement(
    statements: Statements, pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    ledger, seen = await warm_ledger(statements, org)
    await ledger.apply_session_op(org, _open("s-1", 10))
    first = await ledger.apply_session_op(org, _settle("s-1", 3))
    seen.clear()
    again = await ledger.apply_session_op(org, _open("s-1", 10))
    assert kinds(seen)[:3] == ["warm write", "BEGIN", "lock and read"]  # the check refused the key
    assert isinstance(again, Reopened) and again.settlement is not None
    assert (again.settlement.amount, again.settlement.balance) == (3, first.balance)
    assert await figures(pool, org) == (490, 0, 0, 10)
    assert await pool.fetchval("SELECT count(*) FROM holds WHERE org_id = $1", org) == 1
    await reproduced(pool, org)


async def test_a_session_key_used_by_a_deduct_is_refused_on_a_warm_book(
    statements: Statements, pool: asyncpg.Pool, make_org
) -> None:
    ledger_pool, _ = statements
    org = await make_org()
    ledger = CreditLedger(ledger_pool)
    await ledger.deduct(org, DeductOp("shared", Decimal(5)))
    with pytest.raises(FieldError) as refused:
        await ledger.apply_session_op(org, _open("shared", 10))
    assert refused.value.field == "open.idempotency_key"
    assert await figures(pool, org) == (495, 0, 0, 5)
    assert await pool.fetchval("SELECT count(*) FROM holds WHERE org_id = $1", org) == 0


async def test_a_hold_released_by_another_replica_is_settled_from_the_balance(
    database_url: str, pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    pools = [await asyncpg.create_pool(database_url, min_size=1, max_size=1) for _ in range(2)]
    try:
        here, there = (CreditLedger(p) for p in pools)
        await here.deduct(org, DeductOp("k-1", Decimal(7)))
        await here.apply_session_op(org, _open("s-1", 10))  # on the warm book: 483 left, 10 held
        released = await there.release(org, ReleaseOp("s-1"))
        settled = await here.apply_session_op(org, _settle("s-1", 4))
    finally:
        await asyncio.gather(*(p.close() for p in pools))
    assert (released.released, released.balance.available) == (10, 493)
    # The hold is gone: what the session used is taken from the balance, which has it.
    assert isinstance(settled, Deduction)
    assert (settled.amount, settled.from_hold, settled.from_monthly) == (4, 0, 4)
    assert await figures(pool, org) == (489, 0, 0, 11)
    await reproduced(pool, org)


async def test_a_token_sessions_open_and_settlement_are_one_write_each_where_no_quota_counts_tokens(
    statements: Statements, pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    ledger, seen = await warm_ledger(statements, org)
    opened = await ledger.apply_session_op(org, OpenSessionOp("s-1", TOKENS, TTL))
    assert kinds(seen) == ["warm write"]  # the price read before it
    assert isinstance(opened, Reservation) and (opened.hold.amount, opened.balance.available) == (
        Decimal("3.3"), Decimal("489.7"))
    seen.clear()
    settled = await ledger.apply_session_op(org, _settle("s-1", Decimal("3.3"), TOKENS))
    assert kinds(seen) == ["warm write"]
    assert isinstance(settled, Deduction) and (settled.amount, settled.from_hold) == (Decimal("3.3"),) * 2
    assert await figures(pool, org) == (Decimal("489.7"), 0, 0, Decimal("10.3"))
    assert [tuple(r) for r in await pool.fetch(USAGE_ROWS, org)] == [
        ("k-1 credits", "credits", 7), ("s-1 credits", "credits", Decimal("3.3")),
        ("s-1 input", "llm_tokens", 1000), ("s-1 output", "llm_tokens", 2000)]
    await reproduced(pool, org)


async def test_a_token_quota_set_after_the_book_was_kept_counts_the_settlements_tokens(
    statements: Statements, pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    ledger, seen = await warm_ledger(statements, org)
    await ledger.apply_session_op(org, OpenSessionOp("s-1", TOKENS, TTL))
    async with pool.acquire() as conn:  # an operator, meanwhile; the balance row is not touched
        await set_quota(conn, org, "llm_tokens", None, Decimal(100_000), None, True)
    seen.clear()
    settled = await ledger.apply_session_op(org, _settle("s-1", Decimal("3.3"), TOKENS))
    assert kinds(seen)[:3] == ["warm write", "BEGIN", "lock and read"]  # the check saw the quota
    assert isinstance(settled, Deduction) and settled.amount == Decimal("3.3")
    assert await tokens_counted(pool, org) == 3000
    assert await figures(pool, org) == (Decimal("489.7"), 0, 0, Decimal("10.3"))
    await reproduced(pool, org)


async def test_sessions_and_deductions_racing_on_three_replicas_never_overdraw_through_warm_books(
    database_url: str, pool: asyncpg.Pool, make_org, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await make_org(bonus=200)  # 500 monthly + 200 bonus = 700
    written, refused = [], []
    save = credit_ledger.save_warm_book

    async def counted(conn: asyncpg.Connection, org_id: str, book: Any, *args: Any) -> Any:
        result = await save(conn, org_id, book, *args)
        if book.changed_holds:
            (refused if result is None else written).append(result)
        return result

    monkeypatch.setattr(credit_ledger, "save_warm_book", counted)
    rng = random.Random(7)
    pools = [await asyncpg.create_pool(database_url, min_size=1, max_size=2) for _ in range(3)]
    charged: list[Decimal] = []
    denied = 0
    try:
        ledgers = [CreditLedger(p, max_batch=5) for p in pools]

        async def caller(n: int) -> None:
            nonlocal denied
            for k in range(12):
                # The callers move from replica to replica every 4 steps, not all at once: a
                # replica's book stays warm while the others are idle, and goes stale when they
                # catch up.
                ledger = ledgers[k // 4]
                if k % 2:
                    d = await ledger.deduct(org, DeductOp(f"d-{n}-{k}", Decimal(rng.randint(1, 800)) / 100))
                    charged.append(d.amount if d.granted else Decimal(0))
                    denied += not d.granted
                    continue
                key, held = f"s-{n}-{k}", rng.randint(5, 20)
                opened = await ledger.apply_session_op(org, _open(key, held))
                assert isinstance(opened, Reservation)
                denied += not opened.granted
                if opened.granted:  # the chunks fit in the hold: the session uses part of it
                    used = Decimal(rng.randint(0, held * 100)) / 100
                    settled = await ledger.apply_session_op(org, _settle(key, used))
                    assert isinstance(settled, Deduction)
                    charged.append(settled.amount)

        await asyncio.gather(*(caller(n) for n in range(30)))
    finally:
        await asyncio.gather(*(p.close() for p in pools))
    spent = sum(charged, Decimal(0))
    monthly, bonus, reserved, used = await figures(pool, org)
    assert denied and spent <= 700 and (monthly + bonus, reserved, used) == (700 - spent, 0, spent)
    assert await pool.fetchval("SELECT count(*) FROM holds WHERE org_id = $1 AND status = 'open'", org) == 0
    assert written and refused  # steps of sessions took both paths, racing each other
    await reproduced(pool, org)
