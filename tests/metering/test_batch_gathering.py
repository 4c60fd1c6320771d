"""While the server process is CPU-bound, an organization's next batch waits, for a bounded
time, for as many calls as its last batch took, so that one transaction takes them; with CPU to
spare, after a batch of one call, or a second after the last batch, it never waits. Each test
gives the ledger the load it is about. Free organizations start with 500 monthly credits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal

import asyncpg

from services.metering.domain.credits import Deduction, DeductOp
from services.metering.service.credit_ledger import CreditLedger
from tests.metering.ledger_checks import assert_ledger_reproduces_balances


def saturated() -> float:
    return 1.0


def spare() -> float:
    return 0.1


def _ledger(pool: asyncpg.Pool, load: Callable[[], float], batch_wait: float = 5.0) -> CreditLedger:
    return CreditLedger(pool, batch_wait=batch_wait, load=load)


async def _batches(pool: asyncpg.Pool, org: str) -> list[int]:
    """Deductions per transaction, in commit order (the deductions of one share its time)."""
    rows = await pool.fetch("SELECT count(*) AS n FROM deductions WHERE org_id = $1 "
                            "GROUP BY created_at ORDER BY created_at", org)
    return [row["n"] for row in rows]


async def _together(ledger: CreditLedger, org: str, keys: list[str]) -> list[Deduction]:
    return await asyncio.gather(*(ledger.deduct(org, DeductOp(key, Decimal(1))) for key in keys))


async def _in_turn(ledger: CreditLedger, org: str, keys: list[str], gap: float) -> list[Deduction]:
    """One deduction per key, each sent `gap` seconds after the one before, without waiting for
    the answers in between."""

    async def send(i: int, key: str) -> Deduction:
        await asyncio.sleep(i * gap)
        return await ledger.deduct(org, DeductOp(key, Decimal(1)))

    return await asyncio.gather(*(send(i, key) for i, key in enumerate(keys)))


async def test_a_cpu_bound_process_gathers_as_many_calls_as_the_last_batch_took(
    pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    ledger = _ledger(pool, saturated)
    await _together(ledger, org, [f"first-{i}" for i in range(4)])
    began = time.monotonic()
    answers = await _in_turn(ledger, org, [f"next-{i}" for i in range(4)], gap=0.05)
    assert time.monotonic() - began < 2.5  # went once the fourth came, not after the 5 s bound
    assert await _batches(pool, org) == [4, 4]
    assert all(a.granted for a in answers)
    assert sorted(a.balance.monthly_remaining for a in answers)[0] == 492  # 500 - 8
    async with pool.acquire() as conn:
        await assert_ledger_reproduces_balances(conn, org)


async def test_with_cpu_to_spare_a_batch_never_waits(pool: asyncpg.Pool, make_org) -> None:
    org = await make_org()
    ledger = _ledger(pool, spare)
    await _together(ledger, org, [f"first-{i}" for i in range(4)])
    await _in_turn(ledger, org, [f"next-{i}" for i in range(4)], gap=0.2)
    assert await _batches(pool, org) == [4, 1, 1, 1, 1]


async def test_a_batch_waits_no_longer_than_the_bound(pool: asyncpg.Pool, make_org) -> None:
    org = await make_org()
    ledger = _ledger(pool, saturated, batch_wait=0.3)
    await _together(ledger, org, [f"first-{i}" for i in range(4)])
    began = time.monotonic()
    answers = await _together(ledger, org, ["next-0", "next-1"])
    assert time.monotonic() - began >= 0.25
    assert await _batches(pool, org) == [4, 2]
    assert all(a.granted for a in answers)


async def test_one_caller_at_a_time_never_waits(pool: asyncpg.Pool, make_org) -> None:
    org = await make_org()
    ledger = _ledger(pool, saturated)
    began = time.monotonic()
    for i in range(5):
        await ledger.deduct(org, DeductOp(f"one-{i}", Decimal(1)))
    assert time.monotonic() - began < 2.5
    assert await _batches(pool, org) == [1, 1, 1, 1, 1]


async def test_a_batch_size_older_than_a_second_is_not_waited_for(pool: asyncpg.Pool, make_org) -> None:
    org = await make_org()
    ledger = _ledger(pool, saturated)
    await _together(ledger, org, [f"first-{i}" for i in range(4)])
    await asyncio.sleep(1.1)
    began = time.monotonic()
    await ledger.deduct(org, DeductOp("later", Decimal(1)))
    assert time.monotonic() - began < 2.5
    assert await _batches(pool, org) == [4, 1]
