"""Background runners back off while their claim fails and log once per failure streak.

The export runner talks to PostgreSQL through a TCP relay of the test's own: while the relay is
"down" it accepts each connection and closes it at once (counting it: one claim attempt each), and
once it is "up" it relays to the real PostgreSQL, so the same runner recovers."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from services.metering.store.organizations import NewOrganization, create_organization
from services.reporting.service.exports import ExportRequest, Exports
from tests.metering.conftest import _session_database


class Relay:
    """A TCP relay to PostgreSQL that can refuse every connection (counting them)."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.down = True
        self.refused = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            self.refused += 1
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer), return_exceptions=True)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


def _through(dsn: str, port: int) -> str:
    parts = urlsplit(dsn)
    netloc = f"{parts.username}@127.0.0.1:{port}" if parts.username else f"127.0.0.1:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "sslmode=disable", ""))


async def _status(pool: asyncpg.Pool, org_id: str, export_id: str) -> str:
    status: str = await pool.fetchval(
        "SELECT status FROM usage_exports WHERE org_id = $1 AND export_id = $2", org_id, export_id)
    return status


async def _until_done(pool: asyncpg.Pool, org_id: str, export_id: str, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await _status(pool, org_id, export_id) != "processing":
            return
        await asyncio.sleep(0.2)


@pytest.fixture(scope="module")
def own_database() -> Iterator[str]:
    """A database no server process of the session works on, so only the runner under test can
    complete its export."""
    yield from _session_database()


async def test_an_export_runner_whose_claim_fails_backs_off_logs_once_and_recovers(
        own_database: str, caplog: pytest.LogCaptureFixture) -> None:
    database_url = own_database
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        await _back_off_and_recover(database_url, pool, caplog)
    finally:
        await pool.close()


async def _back_off_and_recover(database_url: str, pool: asyncpg.Pool,
                                caplog: pytest.LogCaptureFixture) -> None:
    org = f"org-{uuid.uuid4().hex[:12]}"
    async with pool.acquire() as conn:
        await create_organization(conn, NewOrganization(org, f"Test {org}"))
    day = datetime(2024, 1, 1, tzinfo=UTC)
    export = await Exports(pool).create(
        org, ExportRequest("usage_events", "csv", (), day, day + timedelta(days=1)), "tests")
    target = urlsplit(database_url)
    relay = Relay(target.hostname or "127.0.0.1", target.port or 5432)
    port = await relay.start()
    runner_pool = await asyncpg.create_pool(_through(database_url, port), min_size=0, max_size=2)
    stop = asyncio.Event()
    caplog.set_level(logging.INFO, logger="services.kit.periodic")
    runner = asyncio.create_task(Exports(runner_pool).run(stop, poll_seconds=0.1))
    try:
        await asyncio.sleep(3.0)
        attempts_while_down = relay.refused
        relay.down = False
        await _until_done(pool, org, export.export_id, within=10.0)
    finally:
        stop.set()
        await asyncio.wait_for(runner, 10)
        await runner_pool.close()
        await relay.stop()

    # Polling every 0.1 s, failure n waits max(0.1, 0.5) * 2^(n-1) s less up to half as jitter:
    # [0.25, 0.5], [0.5, 1], [1, 2], [2, 4] s. Attempts start at 0, [0.25, 0.5], [0.75, 1.5],
    # [1.75, 3.5] and the fifth not before 3.75 s: 3 or 4 attempts in the first 3 s (not 30).
    assert 3 <= attempts_while_down <= 4
    assert await _status(pool, org, export.export_id) == "completed"
    records = [r for r in caplog.records if r.name == "services.kit.periodic"]
    assert [r.levelname for r in records if r.levelno >= logging.ERROR] == ["ERROR"]
    assert len([r for r in records if "succeeded again" in r.getMessage()]) == 1
    assert all("usage export runner" in r.getMessage() for r in records if r.levelno >= logging.ERROR)
