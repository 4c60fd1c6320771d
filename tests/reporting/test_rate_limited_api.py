"""The HTTP API behind a real rate-limiter sidecar (built-in limits: API 100/min per client IP) and
real Redis: past 100 requests in a minute from one IP the answer is 429 with the sidecar's
headers, another IP is unaffected, the rate-limit bars show it, and with the sidecar down the API
keeps answering."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import aiohttp
import asyncpg
import pytest

from services.kit.caller import Role
from tests.ratelimiter.harness import Sidecar, delete_prefix, unique_prefix
from tests.reporting.conftest import start_http_server
from tests.reporting.seed import Seeded, Seeder
from tests.stores import redis_url

pytestmark = pytest.mark.timeout(180)
CLIENT_IP_HEADER = "x-client-ip"
BUSY, OTHER = "198.51.100.7", "198.51.100.8"


@pytest.fixture(scope="module")
def own_sidecar() -> Iterator[Sidecar]:
    """A sidecar of this module's own, so that no other test's hits share its buckets."""
    prefix = unique_prefix("limited-api")
    started = Sidecar(prefix=prefix)
    try:
        started.start(Path(tempfile.mkdtemp(prefix="limited-api-sidecar-")), timeout=60.0)
        yield started
    finally:
        started.stop()
        delete_prefix(redis_url(), prefix)


@pytest.fixture(scope="module")
def limited_base(database_url: str, own_sidecar: Sidecar) -> Iterator[str]:
    """A server whose /api is limited by the sidecar; the bars show BUSY besides the caller."""
    _, base, proc = start_http_server(
        database_url, own_sidecar.http_base,
        METERING_RATELIMITER_ADDR=own_sidecar.http_addr,
        METERING_CLIENT_IP_HEADER=CLIENT_IP_HEADER, METERING_RATE_LIMIT_IPS=BUSY)
    yield base
    proc.terminate()
    proc.wait(timeout=15)


@pytest.fixture(scope="module")
async def org(http_server: tuple[str, str], platform_key: str, pool: asyncpg.Pool) -> Seeded:
    return await Seeder(http_server[0], platform_key, pool).organization("starter")


async def call(session: aiohttp.ClientSession, base: str, path: str, key: str,
               ip: str) -> tuple[int, dict[str, str], Any]:
    headers = {"Authorization": f"Bearer {key}", CLIENT_IP_HEADER: ip}
    async with session.get(f"{base}{path}", headers=headers) as response:
        return response.status, dict(response.headers), await response.json()


async def test_past_100_requests_a_minute_from_one_ip_the_api_answers_429_and_another_ip_is_unaffected(
        limited_base: str, org: Seeded) -> None:
    key = org.keys[Role.TENANT_ADMIN]
    async with aiohttp.ClientSession() as session:
        # The bucket holds 100 and refills 100 a minute (one every 0.6 s): requests pass until it
        # is empty, which takes 100 plus what refilled meanwhile.
        started = time.monotonic()
        answers = []
        while not answers or answers[-1][0] == 200:
            answers.append(await call(session, limited_base, "/api/v1/usage", key, BUSY))
            assert len(answers) <= 200
        refilled = (time.monotonic() - started) / 0.6
        passed = len(answers) - 1
        assert 100 <= passed <= 100 + refilled + 1
        first, last = answers[0][1], answers[-2][1]
        assert first["RateLimit-Policy"] == '"api_per_ip";q=100;w=60'
        assert first["X-RateLimit-Limit"] == "100" and first["X-RateLimit-Remaining"] == "99"
        assert last["X-RateLimit-Remaining"] == "0" and "Retry-After" not in last

        status, headers, body = answers[-1]
        assert status == 429
        assert body["code"] == "RESOURCE_EXHAUSTED" and BUSY in body["error"]
        assert 1 <= int(headers["Retry-After"]) <= 60
        assert headers["RateLimit-Policy"] == '"api_per_ip";q=100;w=60'
        assert headers["RateLimit"].startswith('"api_per_ip";r=0;t=')
        assert headers["X-RateLimit-Remaining"] == "0"
        # The doc's own path and an unauthenticated call are limited the same way.
        assert (await call(session, limited_base, "/api/metrics", key, BUSY))[0] == 429
        assert (await call(session, limited_base, "/api/v1/usage", "mk_nobody", BUSY))[0] == 429

        # Another IP: its own bucket, full.
        status, headers, _ = await call(session, limited_base, "/api/v1/usage", key, OTHER)
        assert status == 200 and int(headers["X-RateLimit-Remaining"]) == 99
        # The page is not limited.
        async with session.get(f"{limited_base}/dashboard/admin/billing",
                               headers={CLIENT_IP_HEADER: BUSY}) as page:
            assert page.status == 200

        # The bars, read from the other IP: the busy IP's API bar is full and "limited".
        status, _, bars = await call(session, limited_base, "/api/v1/rate-limits", key, OTHER)
        assert status == 200
        by_ip = {a["ip"]: {b["domain"]: b for b in a["bars"]} for a in bars["addresses"]}
        busy, other = by_ip[BUSY]["api"], by_ip[OTHER]["api"]
        assert busy["available"] and busy["state"] in ("limited", "warning") and busy["used"] >= 95
        assert other["available"] and other["used"] == 2 and other["state"] == "ok"
        assert by_ip[BUSY]["webhook"]["used"] == 0


async def test_with_the_sidecar_down_the_api_answers_logs_once_and_limits_again_when_it_is_back(
        database_url: str, org: Seeded, tmp_path: Path) -> None:
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        await _answers_while_the_sidecar_is_down_then_back(database_url, org, log, tmp_path)
    text = await asyncio.to_thread(log_path.read_text)
    assert text.count("rate-limiter sidecar gave no verdict") == 1
    assert text.count("rate-limiter sidecar answers again") == 1


async def _answers_while_the_sidecar_is_down_then_back(database_url: str, org: Seeded,
                                                       log: IO[bytes], tmp_path: Path) -> None:
    sidecar = Sidecar(prefix=unique_prefix("limited-api-back"))
    dead = sidecar.http_addr  # nobody listens there until the sidecar starts
    _, base, proc = start_http_server(database_url, f"http://{dead}", METERING_RATELIMITER_ADDR=dead,
                                      METERING_LOG_FORMAT="text", output=log)
    try:
        key = org.keys[Role.TENANT_ADMIN]
        async with aiohttp.ClientSession() as session:
            for _ in range(120):
                status, headers, _ = await call(session, base, "/api/v1/usage", key, BUSY)
                assert status == 200 and "X-RateLimit-Limit" not in headers
            status, _, bars = await call(session, base, "/api/v1/rate-limits", key, BUSY)
            assert status == 200
            assert all(not b["available"] for b in bars["addresses"][0]["bars"])

            # The sidecar comes up where the server expects it: within about a second the API is
            # limited again (it asks at most once a second while the sidecar is away).
            await asyncio.to_thread(sidecar.start, tmp_path, 60.0)
            deadline = time.monotonic() + 10
            headers = {}
            while "X-RateLimit-Limit" not in headers and time.monotonic() < deadline:
                status, headers, _ = await call(session, base, "/api/v1/usage", key, BUSY)
                assert status == 200
                await asyncio.sleep(0.1)
            assert headers["X-RateLimit-Limit"] == "100"
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        sidecar.stop()
        delete_prefix(redis_url(), sidecar.prefix)
