"""A batch of plain deductions is written in one statement against the book the last batch of
this process committed, and only while that book is still the organization's: whatever another
writer changed sends the batch down the locked path, and the figures are those the product rules
give. Figures worked out by hand; Free organizations start with 500 monthly credits."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from services.metering.domain.credits import Deduction, DeductOp, DenialReason, ReleaseOp, ReserveOp
from services.metering.service import credit_ledger
from services.metering.service.administration import Administration
from services.metering.service.credit_ledger import CreditLedger
from services.metering.store.alerts import RESOLVE_ALERTS
from services.metering.store.organizations import add_bonus_grant
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


async def test_a_deduction_after_a_committed_batch_is_one_statement(
    statements: Statements, pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    ledger, seen = await warm_ledger(statements, org)
    second = await ledger.deduct(org, DeductOp("k-2", Decimal(5)))
    assert kinds(seen) == ["warm write"]  # the pool's reset query aside
    assert (second.granted, second.from_monthly, second.balance.monthly_remaining) == (True, 5, 488)
    assert await figures(pool, org) == (488, 0, 0, 12)
    assert await pool.fetchval("SELECT count(*) FROM deductions WHERE org_id = $1", org) == 2
    await reproduced(pool, org)


async def test_a_bonus_grant_made_between_two_deductions_is_spent(
    statements: Statements, pool: asyncpg.Pool, make_org
) -> None:
    ledger_pool, seen = statements
    org = await make_org()
    ledger = CreditLedger(ledger_pool)
    await ledger.deduct(org, DeductOp("k-1", Decimal(100)))
    async with pool.acquire() as conn, conn.transaction():
        await add_bonus_grant(conn, org, Decimal(100), "promotion")
    seen.clear()
    spent = await ledger.deduct(org, DeductOp("k-2", Decimal(450)))  # 400 monthly and 100 bonus left
    assert (spent.granted, spent.from_monthly, spent.from_bonus) == (True, 400, 50)
    assert kinds(seen)[:4] == ["warm write", "BEGIN", "lock and read", "write"]
    assert await figures(pool, org) == (0, 50, 0, 550)
    await reproduced(pool, org)


async def test_a_hard_limit_set_between_two_deductions_refuses_the_next(
    statements: Statements, pool: asyncpg.Pool, make_org
) -> None:
    ledger_pool, _ = statements
    org = await make_org()
    ledger = CreditLedger(ledger_pool)
    await ledger.deduct(org, DeductOp("k-1", Decimal(100)))
    await Administration(pool).set_quota(org, "credits", None, Decimal(150), None, True)
    refused = await ledger.deduct(org, DeductOp("k-2", Decimal(60)))  # 100 + 60 > 150
    assert (refused.granted, refused.denial_reason) == (False, DenialReason.HARD_LIMIT)
    assert await figures(pool, org) == (400, 0, 0, 100)


async def test_an_allowance_of_nothing_set_at_once_ends_an_unlimited_period(
    statements: Statements, pool: asyncpg.Pool, make_org
) -> None:
    ledger_pool, _ = statements
    org = await make_org(plan_id="enterprise")  # negotiated, no allowance yet: no credit limit
    ledger = CreditLedger(ledger_pool)
    # A batch that leaves nothing used, so that no alert changes with the allowance.
    assert (await ledger.reserve(org, ReserveOp("h-1", Decimal(250), timedelta(minutes=1)))).granted
    await ledger.release(org, ReleaseOp("h-1"))
    await Administration(pool).set_allowance(org, Decimal(0), {}, at_once=True)
    refused = await ledger.deduct(org, DeductOp("k-2", Decimal(1)))
    assert (refused.granted, refused.denial_reason) == (False, DenialReason.INSUFFICIENT_CREDITS)


async def test_a_deduction_of_tokens_is_priced_then_written_in_one_statement_where_no_quota_counts_them(
    statements: Statements, pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    ledger, seen = await warm_ledger(statements, org)
    spent = await ledger.deduct(org, DeductOp("k-2", TOKENS))
    assert kinds(seen) == ["warm write"]  # the price reads are SELECTs
    assert (spent.granted, spent.amount) == (True, Decimal("3.3"))
    assert spent.balance.monthly_remaining == Decimal("489.7")
    assert await figures(pool, org) == (Decimal("489.7"), 0, 0, Decimal("10.3"))
    tokens = await pool.fetch("SELECT idempotency_key, quantity FROM usage_events WHERE org_id = $1 "
                              "AND meter = 'llm_tokens' ORDER BY idempotency_key", org)
    assert [tuple(r) for r in tokens] == [("k-2 input", 1000), ("k-2 output", 2000)]
    await reproduced(pool, org)


async def test_a_deduction_of_tokens_where_a_quota_counts_them_takes_the_locked_path(
    statements: Statements, pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    async with pool.acquire() as conn:
        await set_quota(conn, org, "llm_tokens", None, Decimal(4_000), None, True)
    ledger, seen = await warm_ledger(statements, org)
    first = await ledger.deduct(org, DeductOp("k-2", TOKENS))  # 3,000 of the 4,000 tokens
    assert kinds(seen)[:2] == ["BEGIN", "lock and read"]
    second = await ledger.deduct(org, DeductOp("k-3", TOKENS))  # 6,000 would pass the limit
    assert (first.granted, second.granted, second.denial_reason) == (True, False, DenialReason.HARD_LIMIT)
    assert await tokens_counted(pool, org) == 3_000
    assert await figures(pool, org) == (Decimal("489.7"), 0, 0, Decimal("10.3"))


async def test_a_key_stored_by_an_earlier_batch_is_replayed_once(
    statements: Statements, pool: asyncpg.Pool, make_org
) -> None:
    ledger_pool, _ = statements
    org = await make_org()
    ledger = CreditLedger(ledger_pool)
    first = await ledger.deduct(org, DeductOp("same", Decimal(7)))
    retry = await ledger.deduct(org, DeductOp("same", Decimal(7)))
    twice = await asyncio.gather(*(ledger.deduct(org, DeductOp("twice", Decimal(3))) for _ in range(2)))
    assert (first.replayed, retry.replayed, retry.balance) == (False, True, first.balance)
    assert sorted(d.replayed for d in twice) == [False, True]
    assert await figures(pool, org) == (490, 0, 0, 10)
    assert await pool.fetchval("SELECT count(*) FROM deductions WHERE org_id = $1", org) == 2
    await reproduced(pool, org)


async def test_another_replicas_deductions_are_counted_by_the_next_batch(
    database_url: str, pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    pools = [await asyncpg.create_pool(database_url, min_size=1, max_size=1) for _ in range(2)]
    try:
        here, there = (CreditLedger(p) for p in pools)
        await here.deduct(org, DeductOp("k-1", Decimal(7)))
        await there.deduct(org, DeductOp("k-2", Decimal(5)))
        third = await here.deduct(org, DeductOp("k-3", Decimal(3)))
    finally:
        await asyncio.gather(*(p.close() for p in pools))
    assert (third.granted, third.balance.monthly_remaining) == (True, 485)
    assert await figures(pool, org) == (485, 0, 0, 15)
    await reproduced(pool, org)


async def test_crossing_eighty_percent_raises_one_warning(
    statements: Statements, pool: asyncpg.Pool, make_org
) -> None:
    ledger_pool, _ = statements
    org = await make_org()
    ledger = CreditLedger(ledger_pool)
    await ledger.deduct(org, DeductOp("k-1", Decimal(395)))  # 79 %
    await ledger.deduct(org, DeductOp("k-2", Decimal(4)))  # 79.8 %
    await ledger.deduct(org, DeductOp("k-3", Decimal(1)))  # 80 %
    await ledger.deduct(org, DeductOp("k-4", Decimal(1)))
    alerts = await pool.fetch("SELECT severity, status FROM alerts WHERE org_id = $1", org)
    assert [(a["severity"], a["status"]) for a in alerts] == [("warning", "active")]


async def test_a_hold_that_expired_since_the_last_batch_gives_its_credits_back(
    statements: Statements, pool: asyncpg.Pool, make_org
) -> None:
    ledger_pool, _ = statements
    org = await make_org()
    ledger = CreditLedger(ledger_pool)
    await ledger.reserve(org, ReserveOp("h-1", Decimal(100), timedelta(seconds=1)))
    await ledger.deduct(org, DeductOp("k-1", Decimal(5)))  # 395 available while the hold is open
    await asyncio.sleep(1.1)
    spent = await ledger.deduct(org, DeductOp("k-2", Decimal(400)))  # 495 once it has expired
    assert (spent.granted, spent.balance.monthly_remaining, spent.balance.reserved) == (True, 95, 0)
    assert await pool.fetchval("SELECT status FROM holds WHERE org_id = $1", org) == "expired"
    await reproduced(pool, org)


async def test_a_credit_alert_resolved_by_another_writer_is_raised_again(
    statements: Statements, pool: asyncpg.Pool, make_org
) -> None:
    ledger_pool, _ = statements
    org = await make_org()
    ledger = CreditLedger(ledger_pool)
    await ledger.deduct(org, DeductOp("k-1", Decimal(400)))  # 80 %: a warning
    async with pool.acquire() as conn, conn.transaction():  # as a reconciliation would
        await conn.execute(RESOLVE_ALERTS, org, "credits", ["warning"], datetime.now(UTC))
    await ledger.deduct(org, DeductOp("k-2", Decimal(1)))  # 80.2 %: still called for
    alerts = await pool.fetch("SELECT status FROM alerts WHERE org_id = $1 ORDER BY triggered_at", org)
    assert [a["status"] for a in alerts] == ["resolved", "active"]


async def test_replicas_racing_on_one_organization_never_overdraw_through_warm_books(
    database_url: str, pool: asyncpg.Pool, make_org, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await make_org(bonus=200)  # 500 monthly + 200 bonus = 700
    written, refused = [], []
    save = credit_ledger.save_warm_book

    async def counted(*args: Any) -> Any:
        result = await save(*args)
        (refused if result is None else written).append(result)
        return result

    monkeypatch.setattr(credit_ledger, "save_warm_book", counted)
    rng = random.Random(11)
    amounts = [Decimal(rng.randint(1, 400)) / 100 for _ in range(600)]  # about 1,200 credits asked
    # The callers move from replica to replica every 5 calls, not all at once: a replica's book
    # stays warm while the others are idle, and goes stale when they catch up.
    replicas = [(k % 20) // 5 % 3 for k in range(600)]
    pools = [await asyncpg.create_pool(database_url, min_size=1, max_size=2) for _ in range(3)]
    try:
        ledgers = [CreditLedger(p, max_batch=5) for p in pools]  # many batches, so many checks

        async def caller(n: int) -> list[Deduction]:
            return [await ledgers[replicas[k]].deduct(org, DeductOp(f"d-{k}", amounts[k]))
                    for k in range(n * 20, n * 20 + 20)]

        answers = [d for ds in await asyncio.gather(*(caller(n) for n in range(30))) for d in ds]
    finally:
        await asyncio.gather(*(p.close() for p in pools))
    granted = sum((d.amount for d in answers if d.granted), Decimal(0))
    assert granted <= 700 and any(not d.granted for d in answers)
    assert all(d.amount > 700 - granted for d in answers if not d.granted)  # refused: more than was left
    monthly, bonus, reserved, used = await figures(pool, org)
    assert (monthly + bonus, reserved, used) == (700 - granted, 0, granted)
    assert written and refused  # both paths were taken, and raced each other
    await reproduced(pool, org)


async def test_a_database_that_refuses_the_warm_write_gets_every_batch_on_the_locked_path(
    statements: Statements, pool: asyncpg.Pool, make_org, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await make_org()
    ledger, seen = await warm_ledger(statements, org)

    async def refused(*args: Any) -> Any:  # what a Citus release refusing a construct answers
        raise asyncpg.FeatureNotSupportedError("cannot push down this subquery")

    monkeypatch.setattr(credit_ledger, "save_warm_book", refused)
    second = await ledger.deduct(org, DeductOp("k-2", Decimal(5)))
    seen.clear()
    third = await ledger.deduct(org, DeductOp("k-3", Decimal(3)))
    assert (second.granted, third.granted, third.balance.monthly_remaining) == (True, True, 485)
    assert kinds(seen)[:4] == ["BEGIN", "lock and read", "write", "COMMIT"]
    assert await figures(pool, org) == (485, 0, 0, 15)


async def test_a_locked_batch_slower_than_a_second_still_leaves_a_warm_book(
    statements: Statements, pool: asyncpg.Pool, make_org, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger_pool, seen = statements
    org = await make_org()
    ledger = CreditLedger(ledger_pool)
    load_prices = credit_ledger._load_prices

    async def slow(conn: asyncpg.Connection, *args: Any) -> Any:
        if conn.is_in_transaction():  # the locked batch, as a first one on a new connection can be on Citus
            await asyncio.sleep(1.2)
        return await load_prices(conn, *args)

    monkeypatch.setattr(credit_ledger, "_load_prices", slow)
    await ledger.deduct(org, DeductOp("k-1", Decimal(7)))
    seen.clear()
    await ledger.deduct(org, DeductOp("k-2", Decimal(5)))
    assert kinds(seen) == ["warm write"]
    assert await figures(pool, org) == (488, 0, 0, 12)
