"""A batch of one plain deduction, the most frequent batch, is written by a statement of its own
shape, each value a parameter; the figures are those the product rules give, as for any other
batch. Figures worked out by hand; Free organizations start with 500 monthly credits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import asyncpg
import pytest

from services.metering.domain.credits import DeductOp, DenialReason
from services.metering.service.credit_ledger import CreditLedger
from services.metering.store.organizations import add_bonus_grant
from services.metering.store.quota_limits import set_quota
from tests.metering.warm_ledger import TOKENS, figures, reproduced, tokens_counted

Written = tuple[asyncpg.Pool, list[str]]


@pytest.fixture
async def written(database_url: str) -> AsyncIterator[Written]:
    """A pool of one connection, and the text of every warm write it ran."""
    seen: list[str] = []

    def note(record: asyncpg.connection.LoggedQuery) -> None:
        if "EXISTS (SELECT FROM warm)" in record.query:
            seen.append(record.query)

    async def log(conn: asyncpg.Connection) -> None:
        conn.add_query_logger(note)

    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1, init=log)
    yield pool, seen
    await pool.close()


async def _warm(written: Written, org: str) -> CreditLedger:
    """A ledger whose book of `org` is warm after a committed deduction of 7 credits (`k-1`)."""
    ledger_pool, seen = written
    ledger = CreditLedger(ledger_pool)
    await ledger.deduct(org, DeductOp("k-1", Decimal(7)))
    seen.clear()
    return ledger


def _lone(query: str) -> bool:
    return "VALUES" in query and "jsonb_array_elements" not in query


async def test_a_lone_deduction_sends_each_value_as_a_parameter(
    written: Written, pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    ledger = await _warm(written, org)
    spent = await ledger.deduct(org, DeductOp("k-2", Decimal("5.25")))
    assert [_lone(q) for q in written[1]] == [True]
    assert (spent.granted, spent.from_monthly, spent.balance.monthly_remaining) == (True, Decimal("5.25"),
                                                                                    Decimal("487.75"))
    assert await figures(pool, org) == (Decimal("487.75"), 0, 0, Decimal("12.25"))
    entries = await pool.fetch("SELECT kind, amount FROM ledger_entries WHERE org_id = $1 "
                               "AND reference = 'k-2'", org)
    assert [tuple(e) for e in entries] == [("deduct", Decimal("-5.25"))]
    usage = await pool.fetch("SELECT idempotency_key, meter, quantity FROM usage_events WHERE org_id = $1 "
                             "AND deduction_key = 'k-2'", org)
    assert [tuple(u) for u in usage] == [("k-2 credits", "credits", Decimal("5.25"))]
    await reproduced(pool, org)


async def test_a_lone_deduction_spread_over_two_grants_writes_both(
    written: Written, pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org(bonus=100)
    async with pool.acquire() as conn:
        await add_bonus_grant(conn, org, Decimal(10_000), "second")
    ledger_pool, seen = written
    ledger = CreditLedger(ledger_pool)
    # The monthly 500 and 50 of the first bonus, far from any credit alert's threshold.
    await ledger.deduct(org, DeductOp("k-1", Decimal(550)))
    seen.clear()
    spent = await ledger.deduct(org, DeductOp("k-2", Decimal(80)))  # 50 of the first bonus, 30 of the second
    assert [_lone(q) for q in seen] == [True]
    assert (spent.granted, spent.from_monthly, spent.from_bonus) == (True, 0, 80)
    assert await figures(pool, org) == (0, 9_970, 0, 630)
    entries = await pool.fetch("SELECT amount FROM ledger_entries WHERE org_id = $1 AND reference = 'k-2' "
                               "ORDER BY grant_id", org)
    assert [e["amount"] for e in entries] == [-50, -30]
    grants = await pool.fetch("SELECT kind, remaining FROM credit_grants WHERE org_id = $1 "
                              "ORDER BY grant_id", org)
    assert [tuple(g) for g in grants] == [("monthly", 0), ("bonus", 0), ("bonus", 9_970)]
    await reproduced(pool, org)


async def test_a_lone_deduction_of_tokens_sends_each_value_as_a_parameter(
    written: Written, pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    ledger = await _warm(written, org)
    spent = await ledger.deduct(org, DeductOp("k-2", TOKENS))
    assert [_lone(q) for q in written[1]] == [True]
    assert (spent.granted, spent.amount) == (True, Decimal("3.3"))
    assert await figures(pool, org) == (Decimal("489.7"), 0, 0, Decimal("10.3"))
    usage = await pool.fetch("SELECT idempotency_key, meter, quantity FROM usage_events WHERE org_id = $1 "
                             "AND deduction_key = 'k-2' ORDER BY idempotency_key", org)
    assert [tuple(u) for u in usage] == [
        ("k-2 credits", "credits", Decimal("3.3")), ("k-2 input", "llm_tokens", 1000),
        ("k-2 output", "llm_tokens", 2000)]
    await reproduced(pool, org)


async def test_a_lone_deduction_of_tokens_where_a_quota_counts_them_is_not_written_warm(
    written: Written, pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    ledger = await _warm(written, org)
    async with pool.acquire() as conn:  # after the book was made: the warm write's check finds it
        await set_quota(conn, org, "llm_tokens", None, Decimal(4_000), None, True)
    spent = await ledger.deduct(org, DeductOp("k-2", TOKENS))
    assert [_lone(q) for q in written[1]] == [True]  # tried, and written by the locked path instead
    assert spent.granted
    assert await tokens_counted(pool, org) == 3_000
    assert await figures(pool, org) == (Decimal("489.7"), 0, 0, Decimal("10.3"))
    await reproduced(pool, org)


async def test_a_refused_lone_deduction_stores_only_its_refusal(
    written: Written, pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    ledger = await _warm(written, org)
    refused = await ledger.deduct(org, DeductOp("k-2", Decimal(494)))  # 493 left
    assert [_lone(q) for q in written[1]] == [True]
    assert (refused.granted, refused.denial_reason) == (False, DenialReason.INSUFFICIENT_CREDITS)
    assert await figures(pool, org) == (493, 0, 0, 7)
    stored = await pool.fetchrow("SELECT granted, amount FROM deductions WHERE org_id = $1 "
                                 "AND idempotency_key = 'k-2'", org)
    assert tuple(stored) == (False, 494)
    assert await pool.fetchval("SELECT count(*) FROM ledger_entries WHERE org_id = $1 AND reference = 'k-2'",
                               org) == 0
    assert await pool.fetchval("SELECT count(*) FROM usage_events WHERE org_id = $1 "
                               "AND deduction_key = 'k-2'", org) == 0
    again = await ledger.deduct(org, DeductOp("k-2", Decimal(494)))
    assert (again.granted, again.replayed) == (False, True)
    await reproduced(pool, org)


async def test_a_lone_deduction_spread_over_more_grants_than_its_statements_take_shares_the_json_form(
    written: Written, pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    async with pool.acquire() as conn:
        for n in range(6):
            await add_bonus_grant(conn, org, Decimal(10), f"small {n}")
        await add_bonus_grant(conn, org, Decimal(10_000), "large")
    ledger_pool, seen = written
    ledger = CreditLedger(ledger_pool)
    await ledger.deduct(org, DeductOp("k-1", Decimal(500)))  # the monthly credits
    seen.clear()
    # Six grants of 10, then 5 of the large one: seven ledger entries and grants.
    spent = await ledger.deduct(org, DeductOp("k-2", Decimal(65)))
    assert [_lone(q) for q in seen] == [False]
    assert (spent.granted, spent.from_bonus) == (True, 65)
    assert await pool.fetchval("SELECT count(*) FROM ledger_entries WHERE org_id = $1 AND reference = 'k-2'",
                               org) == 7
    assert await figures(pool, org) == (0, 9_995, 0, 565)
    await reproduced(pool, org)


async def test_a_batch_of_two_deductions_shares_the_json_form(
    written: Written, pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    ledger = await _warm(written, org)
    both = await asyncio.gather(ledger.deduct(org, DeductOp("k-2", Decimal(3))),
                                ledger.deduct(org, DeductOp("k-3", Decimal(4))))
    assert [d.granted for d in both] == [True, True]
    assert [_lone(q) for q in written[1]] == [False]
    assert await figures(pool, org) == (486, 0, 0, 14)
    await reproduced(pool, org)
