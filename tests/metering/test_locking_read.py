"""A ledger batch locks the balance row and reads the book in one statement; what another
transaction commits while the batch waits for that lock still reaches the batch, because every
writer of the book gives the balance row a new version."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal

import asyncpg

from services.metering.domain.credits import DeductOp
from services.metering.service import plan_changes
from services.metering.service.credit_ledger import CreditLedger
from services.metering.store.organizations import add_bonus_grant
from services.metering.store.periods import LOCK_BALANCE
from tests.metering.citus_rules import named_statements


def _batch(seen: list[str]) -> list[str]:
    """The statements of the first batch in `seen`, from its BEGIN to its COMMIT (the pool's reset
    query of a returning connection may come before or after them)."""
    begin = seen.index("BEGIN")
    return seen[begin: seen.index("COMMIT", begin) + 1]


async def _waiting_for_a_lock(pool: asyncpg.Pool, count: int) -> None:
    # On Citus the batch waits on the worker that holds the organization's shard.
    citus = await pool.fetchval("SELECT count(*) FROM pg_extension WHERE extname = 'citus'")
    activity = "citus_stat_activity" if citus else "pg_stat_activity"
    for _ in range(500):
        waiting = await pool.fetchval(f"SELECT count(*) FROM {activity} "
                                      "WHERE datname = current_database() AND wait_event_type = 'Lock'")
        if waiting >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{count} batch(es) never waited for the balance row lock")


async def test_an_uncontended_batch_takes_four_round_trips(
    statements: tuple[asyncpg.Pool, list[str]], make_org
) -> None:
    pool, seen = statements
    org = await make_org()
    ledger = CreditLedger(pool)
    await ledger.deduct(await make_org(), DeductOp("warm", Decimal(1)))  # types introspected
    seen.clear()
    deduction = await ledger.deduct(org, DeductOp("k-1", Decimal(2)))
    assert deduction.granted
    assert _batch(seen) == ["BEGIN", "lock and read", "write", "COMMIT"]


async def test_a_grant_committed_while_the_batch_waits_for_the_lock_is_spent(
    statements: tuple[asyncpg.Pool, list[str]], pool: asyncpg.Pool, make_org
) -> None:
    ledger_pool, seen = statements
    org = await make_org()  # the Free plan's 500 credits
    ledger = CreditLedger(ledger_pool)
    await ledger.deduct(await make_org(), DeductOp("warm", Decimal(1)))  # types introspected
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await add_bonus_grant(conn, org, Decimal(200), "promotion")  # holds the lock until commit
        seen.clear()
        deduction = asyncio.create_task(ledger.deduct(org, DeductOp("k-1", Decimal(600))))
        await _waiting_for_a_lock(pool, 1)
        await tx.commit()
    result = await deduction
    # 500 monthly + the 200 bonus granted meanwhile: 600 is granted, the monthly credits first.
    assert (result.granted, result.from_monthly, result.from_bonus) == (True, Decimal(500), Decimal(100))
    assert (result.balance.monthly_remaining, result.balance.bonus_remaining) == (Decimal(0), Decimal(100))
    assert _batch(seen)[:4] == ["BEGIN", "lock and read", "read", "write"]  # the book read again


async def test_a_key_applied_by_another_replica_during_the_wait_is_replayed_not_applied_again(
    database_url: str, pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    pools = [await asyncpg.create_pool(database_url, min_size=1, max_size=2) for _ in range(2)]
    try:
        ledgers = [CreditLedger(p) for p in pools]  # two replicas, each with its own queue
        async with pool.acquire() as conn, conn.transaction():
            await conn.fetchrow(LOCK_BALANCE, org)
            retries = [asyncio.create_task(ledger.deduct(org, DeductOp("same-key", Decimal(7))))
                       for ledger in ledgers]
            await _waiting_for_a_lock(pool, 2)
        first, second = await asyncio.gather(*retries)
    finally:
        await asyncio.gather(*(p.close() for p in pools))
    assert sorted([first.replayed, second.replayed]) == [False, True]
    assert (first.granted, first.amount, first.balance) == (second.granted, second.amount, second.balance)
    balance = await pool.fetchrow(
        "SELECT monthly_remaining, period_used FROM balances WHERE org_id = $1", org)
    assert (balance["monthly_remaining"], balance["period_used"]) == (Decimal(493), Decimal(7))


# Every named statement that writes the book, and why its transaction gives the balance row a new
# version (which is what tells a batch its locking read saw an older book).
BOOK_WRITE = re.compile(r"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(credit_grants|holds|hold_allocations|"
                        r"deductions|ledger_entries)\b", re.IGNORECASE)
SAME_STATEMENT = "updates balances in the same statement"
BOOK_WRITERS = {
    "services.metering.store.credit_books.WRITE_BOOK": SAME_STATEMENT,
    "services.metering.store.credit_books.WRITE_WARM_BOOK": SAME_STATEMENT,
    "services.metering.store.credit_books.WRITE_WARM_BOOK_WITH_HOLDS": SAME_STATEMENT,
    "services.metering.store.organizations.INSERT_BONUS_GRANT": "add_bonus_grant adds to the balance",
    "services.metering.store.organizations.INSERT_GRANT_ENTRY": "add_bonus_grant adds to the balance",
    "services.metering.store.periods.INSERT_PERIOD_GRANT": "a new organization's row, or a new period",
    "services.metering.store.periods.INSERT_GRANT_ENTRY": "a new organization's row, or a new period",
    "services.metering.store.periods.EXPIRE_ENDED_PERIOD_GRANTS": "roll_period_if_due sets the period",
    "services.metering.store.plan_changes.SET_GRANT": "_resize adds the change to the balance",
    "services.metering.store.plan_changes.INSERT_ADJUST_ENTRY": "_resize adds the change to the balance",
    "services.app.dev.demo_month.REDATE_DEDUCTION": "demo seeding only: dates stored results back",
}


def test_every_statement_writing_the_book_belongs_to_a_writer_that_updates_the_balance_row() -> None:
    writers = {s.where for s in named_statements() if BOOK_WRITE.search(s.sql)}
    assert writers == set(BOOK_WRITERS), (
        "a statement writing grants, holds, deductions or ledger entries must run in a transaction "
        "that also updates the organization's balance row; list it here once it does")


async def test_a_bonus_grant_and_a_plan_upgrade_give_the_balance_row_a_new_version(
    pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()  # Free
    versions = [await _balance_version(pool, org)]
    async with pool.acquire() as conn, conn.transaction():
        await add_bonus_grant(conn, org, Decimal(5), "promotion")
    versions.append(await _balance_version(pool, org))
    async with pool.acquire() as conn, conn.transaction():
        await plan_changes.change_plan(conn, org, "starter")  # an upgrade grows this period's grant
    versions.append(await _balance_version(pool, org))
    assert len(set(versions)) == 3


async def _balance_version(pool: asyncpg.Pool, org_id: str) -> str:
    version: str = await pool.fetchval("SELECT xmin::text FROM balances WHERE org_id = $1", org_id)
    return version
