"""The golden month's world: a database of its own (the billing worker's roll-ups are global to a
database), one `metering serve` with its HTTP API, the Stripe test server, and one `metering worker
--once` run after the script, as of 02:30 UTC tomorrow so today's hours are rolled up and today
is pushed to Stripe with the other days of the period."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from devstack.stripe_test_server import StripeTestServer
from services.kit.caller import Role
from services.metering.store.api_keys import create_api_key
from tests.billing.helpers import own_database
from tests.billing.stripe_harness import new_key, run_once, state
from tests.golden.script import DAY, Month, play
from tests.reporting.conftest import start_http_server

UNREACHABLE_SIDECAR = "http://127.0.0.1:9"  # the rate-limit bars say "unavailable"; no figure of ours


@dataclass
class World:
    grpc_addr: str
    http_base: str
    database_url: str
    platform_key: str
    month: Month
    stripe: dict[str, Any]  # the Stripe test server's state after the worker ran
    worker_log: str


@pytest.fixture(scope="module")
def golden_database() -> Iterator[str]:
    yield from own_database()


@pytest.fixture(scope="module")
async def golden_pool(golden_database: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(golden_database, min_size=1, max_size=4)
    yield pool
    await pool.close()


@pytest.fixture(scope="module")
def golden_server(golden_database: str) -> Iterator[tuple[str, str]]:
    addr, base, proc = start_http_server(golden_database, UNREACHABLE_SIDECAR)
    yield addr, base
    proc.terminate()
    proc.wait(timeout=15)


@pytest.fixture(scope="module")
def stripe_server() -> Iterator[tuple[str, str]]:
    key = new_key()
    server = StripeTestServer(key)
    yield server.start_in_thread(), key
    server.stop_thread()


@pytest.fixture(scope="module")
async def world(golden_database: str, golden_pool: asyncpg.Pool, golden_server: tuple[str, str],
                stripe_server: tuple[str, str]) -> World:
    async with golden_pool.acquire() as conn:
        platform_key = (await create_api_key(conn, None, Role.PLATFORM_ADMIN, "golden"))[1]
    month = await play(golden_server[0], platform_key, golden_pool)
    base, key = stripe_server
    tomorrow = month.anchor + 11 * DAY
    log = Path(tempfile.mkdtemp(prefix="golden-worker-")) / "worker.log"
    text = run_once(golden_database, base, key, log, tomorrow + timedelta(hours=2, minutes=30))
    return World(golden_server[0], golden_server[1], golden_database, platform_key, month, state(base), text)

