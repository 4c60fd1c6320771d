"""Billing tests reuse the metering fixtures (a database, server processes, a platform key) and add
databases of their own where a test needs the worker's global state (roll-up progress) alone."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from devstack.stripe_test_server import StripeTestServer
from tests.billing.helpers import own_database
from tests.billing.stripe_harness import new_key
from tests.metering.conftest import (  # noqa: F401  (fixtures)
    database_url,
    make_org,
    platform_key,
    pool,
    server_addrs,
)


@pytest.fixture(scope="module")
def module_database() -> Iterator[str]:
    yield from own_database()


@pytest.fixture(scope="module")
async def module_pool(module_database: str) -> AsyncIterator[asyncpg.Pool]:
    p = await asyncpg.create_pool(module_database, min_size=1, max_size=6)
    yield p
    await p.close()


@pytest.fixture(scope="module")
def stripe_key() -> str:
    """A test-mode secret key of this module's Stripe test server."""
    return new_key()


@pytest.fixture(scope="module")
def stripe_base(stripe_key: str) -> Iterator[str]:
    """The Stripe-compatible test server of this module, on a free loopback port."""
    server = StripeTestServer(stripe_key)
    yield server.start_in_thread()
    server.stop_thread()
