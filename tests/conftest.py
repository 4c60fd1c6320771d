"""Runs before every other conftest: the stores of the session.

When no PostgreSQL answers at METERING_TEST_ADMIN_DSN, or no Redis at RATELIMITER_TEST_REDIS_URL
(by default the machine's, on 127.0.0.1:5432 and :6379), a private one is started from the wheels
of the `local` extra (devstack), once for the whole session, and the setting points at it; the
tests and the processes they start read only these settings (tests/stores.py). CI keeps its own
stores: they answer, so nothing is started.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devstack.errors import DevError
from devstack.private_stores import PrivatePostgres, PrivateRedis
from tests import stores
from tests.chromium import find_or_install

STARTED = pytest.StashKey[list[PrivatePostgres | PrivateRedis]]()


def pytest_sessionstart(session: pytest.Session) -> None:
    started: list[PrivatePostgres | PrivateRedis] = []
    session.config.stash[STARTED] = started
    try:
        if not stores.postgres_answers(stores.admin_dsn()):
            postgres = PrivatePostgres()
            started.append(postgres)
            postgres.init().start()
            os.environ[stores.ADMIN_DSN] = postgres.dsn()
            _say(session, f"no PostgreSQL answered; started one from the wheel at {postgres.dsn()}")
        if not stores.redis_answers(stores.redis_url()):
            redis = PrivateRedis(Path(tempfile.mkdtemp(prefix="session-redis-")))
            started.append(redis)
            redis.start()
            os.environ[stores.REDIS_URL] = redis.url
            _say(session, f"no Redis answered; started one from the wheel at {redis.url}")
    except DevError as error:
        raise pytest.UsageError(f"no PostgreSQL or Redis answers and none can be started: {error}") from None


def pytest_sessionfinish(session: pytest.Session) -> None:
    for store in reversed(session.config.stash.get(STARTED, [])):
        if isinstance(store, PrivatePostgres):
            store.destroy()
        else:
            store.kill()
            shutil.rmtree(store.workdir, ignore_errors=True)


def _say(session: pytest.Session, line: str) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"tests/conftest.py: {line}")


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of Debian's chromium, installed first when missing and we may (see tests/chromium.py)."""
    return find_or_install()


# Headless Chromium as the pages' tests drive it: no sandbox (root in CI), no network of its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
async def browser(chromium: str) -> AsyncIterator[object]:
    """One headless Chromium per test module (Debian's package, see tests/chromium.py), for the
    pages' tests."""
    from playwright import async_api

    async with async_api.async_playwright() as p:
        launched = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        yield launched
        await launched.close()
