"""Each (organization, meter, day) reaches Stripe exactly once: through 429s, 5xx, timeouts after
the request was applied, dropped connections, and worker processes killed with SIGKILL."""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest

from devstack.stripe_test_server.faults import KINDS
from tests.billing.helpers import insert_events, new_org
from tests.billing.stripe_harness import (
    DAY,
    TODAY,
    Month,
    control,
    delivered,
    names,
    new_key,
    our_periods,
    run_once,
    seed_month,
    start_worker,
    state,
    stripe_totals,
)

HOUR = timedelta(hours=1)
FAULTS = {"429": 0.06, "500": 0.05, "503": 0.05, "timeout": 0.05, "drop_before": 0.04, "drop_after": 0.05}


@pytest.fixture(scope="module")
async def month(module_pool: asyncpg.Pool) -> AsyncIterator[Month]:
    async with module_pool.acquire() as conn:
        yield await seed_month(conn, orgs=4, days=29, seed=7)


async def _wait_all_delivered(pool: asyncpg.Pool, expected: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        async with pool.acquire() as conn:
            done, open_ = await delivered(conn)
        if done >= expected and open_ == 0:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not all pushes delivered in time: {done} delivered, {open_} open of {expected}")


async def test_a_month_reaches_stripe_exactly_once_through_faults_and_sigkills(
    module_database: str, module_pool: asyncpg.Pool, month: Month, stripe_base: str, stripe_key: str,
    tmp_path: Path,
) -> None:
    control(stripe_base, "/_test/faults", {"rates": FAULTS, "retry_after": 1, "hang_seconds": 2, "seed": 3})
    log = tmp_path / "workers.log"
    rand = random.Random(11)
    kills = 0
    with log.open("a") as sink:
        for _ in range(5):  # killed at random points: mid roll-up, mid planning, mid push
            worker = start_worker(module_database, stripe_base, stripe_key, sink)
            await asyncio.sleep(rand.uniform(0.3, 1.6))
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            kills += 1
        worker = start_worker(module_database, stripe_base, stripe_key, sink)
        try:
            await _wait_all_delivered(module_pool, len(month.expected), time.monotonic() + 150)
        finally:
            worker.terminate()
            assert worker.wait(timeout=20) == 0
    stripe = state(stripe_base)
    control(stripe_base, "/_test/faults", {"rates": {}})
    async with module_pool.acquire() as conn:
        customers, meters = await names(conn)
    by_day, by_period = stripe_totals(stripe, customers, meters, month)
    assert kills == 5
    assert all(stripe["faults_injected"].get(kind, 0) > 0 for kind in KINDS), stripe["faults_injected"]
    assert stripe["violations"] == []  # never two calls at once for one customer and meter
    assert {key: len(values) for key, values in by_day.items()} == dict.fromkeys(month.expected, 1)
    assert {key: values[0] for key, values in by_day.items()} == month.expected
    assert dict(by_period) == our_periods(month)
    retried = sum(1 for n in stripe["attempts"].values() if n > 1)
    assert retried > 0  # the faults made the worker retry, and the retries did not count twice


async def test_a_late_event_after_the_push_goes_out_as_a_correction_never_doubled(
    module_database: str, module_pool: asyncpg.Pool, stripe_base: str, stripe_key: str, tmp_path: Path,
) -> None:
    day = TODAY - 3 * DAY
    async with module_pool.acquire() as conn:
        org = await new_org(conn, anchor=TODAY - 20 * DAY)
        await insert_events(conn, [(org, f"e{i}", "api_requests", Decimal(100), day + i * HOUR, None)
                                   for i in range(3)])
    log = tmp_path / "worker.log"
    run_once(module_database, stripe_base, stripe_key, log)
    run_once(module_database, stripe_base, stripe_key, log)  # nothing new: nothing sent again
    async with module_pool.acquire() as conn:
        await insert_events(conn, [(org, "late", "api_requests", Decimal(42), day + 20 * HOUR, None)])
    run_once(module_database, stripe_base, stripe_key, log)
    async with module_pool.acquire() as conn:
        pushes = await conn.fetch("SELECT revision, value, status FROM stripe_pushes WHERE org_id = $1 "
                                  "ORDER BY revision", org)
        customers, meters = await names(conn)
    sent = [e for e in state(stripe_base)["meter_events"]
            if customers.get(e["payload"]["stripe_customer_id"]) == org]
    assert [(p["revision"], p["value"], p["status"]) for p in pushes] == [(1, 300, "delivered"),
                                                                         (2, 42, "delivered")]
    assert sorted(int(e["payload"]["value"]) for e in sent) == [42, 300]
    assert {e["timestamp"] for e in sent} == {int(day.timestamp())}  # both count for their own day
    assert {meters[e["event_name"]] for e in sent} == {"api_requests"}


async def test_the_stripe_api_key_never_appears_in_the_logs(
    module_database: str, module_pool: asyncpg.Pool, stripe_base: str, stripe_key: str, tmp_path: Path,
) -> None:
    async with module_pool.acquire() as conn:
        org = await new_org(conn)
        await insert_events(conn, [(org, "k", "queries", Decimal(5), TODAY - 2 * DAY, "u")])
    control(stripe_base, "/_test/faults", {"rates": FAULTS, "retry_after": 0, "hang_seconds": 1, "seed": 5})
    log = tmp_path / "worker.log"
    try:
        run_once(module_database, stripe_base, stripe_key, log)
        wrong = new_key()
        refused = run_once(module_database, stripe_base, wrong, log)  # Stripe answers 401
    finally:
        control(stripe_base, "/_test/faults", {"rates": {}})
    text = log.read_text()
    assert "billing worker run" in text and "Invalid API Key" in refused
    for secret in (stripe_key, wrong, stripe_key[8:], wrong[8:]):
        assert secret not in text
