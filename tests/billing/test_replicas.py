"""Two worker replicas at once: every push is sent by one of them, once."""

from __future__ import annotations

import asyncio
import inspect
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg

from tests.billing.stripe_harness import (
    delivered,
    names,
    seed_month,
    start_worker,
    state,
    stripe_totals,
)

DELIVERED = re.compile(r"Stripe pushes: \{[^}]*'delivered': (\d+)")


async def test_two_replicas_never_push_the_same_row_twice(
    module_database: str, module_pool: asyncpg.Pool, stripe_base: str, stripe_key: str, tmp_path: Path,
) -> None:
    logs = [tmp_path / f"replica-{n}.log" for n in range(2)]
    with logs[0].open("a") as first, logs[1].open("a") as second:
        replicas = [start_worker(module_database, stripe_base, stripe_key, sink) for sink in (first, second)]
        try:
            # Both replicas are up before there is work, so a slow start cannot leave one idle.
            await _until(lambda: all("billing worker started" in log.read_text() for log in logs))
            # One transaction: a replica that ticks mid-seed would otherwise roll hours whose
            # events are not in yet, and bill them later as late corrections on other days.
            async with module_pool.acquire() as conn, conn.transaction():
                month = await seed_month(conn, orgs=3, days=20, seed=21)
            await _until(lambda: _all_delivered(module_pool, len(month.expected)))
            # Each replica logs a round's pushes when the round ends: let the last rounds finish.
            await _until(lambda: sum(_shares(logs)) >= len(month.expected), seconds=30)
        finally:
            for replica in replicas:
                replica.terminate()
            codes = [replica.wait(timeout=20) for replica in replicas]
    stripe = state(stripe_base)
    async with module_pool.acquire() as conn:
        customers, meters = await names(conn)
        workers = await conn.fetchval("SELECT count(DISTINCT stripe_request_id) FROM stripe_pushes")
    by_day, _ = stripe_totals(stripe, customers, meters, month)
    shares = _shares(logs)
    assert codes == [0, 0] and workers == len(month.expected)
    assert sum(shares) == len(month.expected) and min(shares) > 0, shares  # both pushed, together all
    assert stripe["violations"] == []
    assert set(stripe["attempts"].values()) == {1}  # no identifier was ever sent twice
    assert len(stripe["attempts"]) == len(month.expected)
    assert {key: values for key, values in by_day.items()} == {k: [v] for k, v in month.expected.items()}


def _shares(logs: list[Path]) -> list[int]:
    return [sum(int(n) for n in DELIVERED.findall(log.read_text())) for log in logs]


async def _all_delivered(pool: asyncpg.Pool, expected: int) -> bool:
    async with pool.acquire() as conn:
        done, open_ = await delivered(conn)
    return done >= expected and open_ == 0


async def _until(condition: Callable[[], bool | Awaitable[bool]], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if await result if inspect.isawaitable(result) else result:
            return
        await asyncio.sleep(0.2)
