"""The admin billing page at /dashboard/admin/billing and its GET /api/metrics: the HTTP API's own
requests and latency from one source, agents (registered and ephemeral) and tasks, and rate-limit
bars that move with real API traffic through a real sidecar, seen as a platform admin in Chromium."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc
from services.kit.caller import Role
from tests.metering.clients import aio_channel
from tests.ratelimiter.harness import Sidecar, delete_prefix, unique_prefix
from tests.reporting.conftest import ARTIFACTS, start_http_server
from tests.reporting.seed import Event, Seeded, Seeder, now
from tests.stores import redis_url

pytestmark = pytest.mark.timeout(240)
CLIENT_IP_HEADER = "x-client-ip"
VIEWER, OTHER = "203.0.113.50", "203.0.113.51"
SHOTS = ARTIFACTS / "dashboard"

# LLM work: (workspace, user, input tokens, output tokens). ws1, ws2, ana and bo are registered.
LLM_CALLS = [("ws1", "ana", 1000, 200), ("ws1", "ana", 500, 100), ("ws2", "ana", 300, 30),
             ("ws1", "bo", 100, 10), ("ws-scratch", "ana", 50, 5), ("", "", 10, 1)]


async def seeded_org(addr: str, platform_key: str, pool: asyncpg.Pool) -> Seeded:
    """Two registered workspaces and users; six LLM responses (Deducts priced from tokens), one
    more LLM token event for (ws2, bo), and 7 recorded webhooks. Agents by hand: registered
    (ws1, ana), (ws2, ana), (ws1, bo), (ws2, bo) = 4; ephemeral (ws-scratch, ana) and the
    anonymous run = 2; tasks 6; tokens 1000+200+500+100+300+30+100+10+50+5+10+1 = 2306."""
    seeder = Seeder(addr, platform_key, pool)
    org = await seeder.organization("professional")
    await seeder.tenancy(org, {"team": ["ws1", "ws2"]}, ["ana", "bo"])
    async with aio_channel(addr, org.keys[Role.SERVICE]) as channel:
        stub = metering_pb2_grpc.MeteringServiceStub(channel)
        for workspace, user, given, taken in LLM_CALLS:
            reply = await stub.Deduct(pb.DeductRequest(
                org_id=org.org_id, idempotency_key=uuid.uuid4().hex, workspace_id=workspace, user_id=user,
                tokens=pb.LlmTokens(model="claude-haiku-4", input_tokens=str(given),
                                    output_tokens=str(taken)), source=pb.SOURCE_CLI))
            assert reply.granted, reply
    await seeder.record(org, [Event("llm_tokens", Decimal(40), now(), "ws2", "bo"),
                              Event("webhook_events", Decimal(7), now(), "ws1")])
    return org


async def fetch(session: aiohttp.ClientSession, base: str, path: str, key: str, ip: str = "",
                **query: str) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {key}", **({CLIENT_IP_HEADER: ip} if ip else {})}
    async with session.get(f"{base}{path}", params=query, headers=headers) as response:
        return response.status, await response.json()


async def test_api_metrics_count_the_http_apis_own_requests_and_agents_by_kind(
        http_server: tuple[str, str], platform_key: str, pool: asyncpg.Pool) -> None:
    org = await seeded_org(http_server[0], platform_key, pool)
    base, key = http_server[1], org.keys[Role.BILLING_CONTACT]
    async with aiohttp.ClientSession() as session:
        for _ in range(5):
            assert (await fetch(session, base, "/api/v1/usage", key))[0] == 200
        await asyncio.sleep(1.0)  # the server adds its counts to PostgreSQL every 0.3 s here
        status, metrics = await fetch(session, base, "/api/metrics", key)
        assert status == 200
        assert metrics["api_usage"]["total_requests"] == "5"
        assert Decimal(metrics["api_usage"]["average_latency_ms"]) > 0
        assert metrics["api_usage"]["webhook_events"] == "7"
        assert metrics["agent_usage"] == {"active_agents": 6, "registered_agents": 4, "ephemeral_agents": 2,
                                          "tasks_handled": 6, "llm_tokens": "2306"}
        await asyncio.sleep(1.0)
        # The same answer at /api/v1/metrics, now with the /api/metrics call counted.
        status, again = await fetch(session, base, "/api/v1/metrics", key)
        assert status == 200 and again["api_usage"]["total_requests"] == "6"
        assert again["agent_usage"] == metrics["agent_usage"]
        # A platform admin names the organization; a tenant key of another organization gets 403.
        assert (await fetch(session, base, "/api/metrics", platform_key, org_id=org.org_id))[0] == 200
        assert (await fetch(session, base, "/api/metrics", platform_key))[0] == 400
        assert (await fetch(session, base, "/api/metrics", "mk_unknown"))[0] == 401
        async with session.post(f"{base}/api/metrics", headers={"Authorization": f"Bearer {key}"}) as post:
            assert post.status == 405 and post.headers["Allow"] == "GET, OPTIONS"
            assert (await post.json())["code"] == "UNIMPLEMENTED"
        for path in ("/dashboard/admin/billing", "/dashboard"):
            async with session.get(f"{base}{path}") as page:
                assert page.status == 200 and "Billing &amp; Usage" in await page.text()


@pytest.fixture(scope="module")
def limited(database_url: str) -> Iterator[str]:
    """A sidecar of its own and a server whose /api it limits, the client IP from a header."""
    prefix = unique_prefix("admin-billing")
    sidecar = Sidecar(prefix=prefix)
    sidecar.start(Path(tempfile.mkdtemp(prefix="admin-billing-sidecar-")), timeout=60.0)
    try:
        _, base, proc = start_http_server(
            database_url, sidecar.http_base, METERING_RATELIMITER_ADDR=sidecar.http_addr,
            METERING_CLIENT_IP_HEADER=CLIENT_IP_HEADER)
        yield base
        proc.terminate()
        proc.wait(timeout=15)
    finally:
        sidecar.stop()
        delete_prefix(redis_url(), prefix)


async def test_the_admin_page_as_a_platform_admin_follows_real_api_traffic_to_the_limit(
        browser: Any, limited: str, http_server: tuple[str, str], platform_key: str,
        pool: asyncpg.Pool) -> None:
    org = await seeded_org(http_server[0], platform_key, pool)
    page = await browser.new_page(viewport={"width": 1400, "height": 1800}, bypass_csp=True)
    await page.set_extra_http_headers({CLIENT_IP_HEADER: VIEWER})  # the page's own calls come from VIEWER
    await page.goto(f"{limited}/dashboard/admin/billing?refresh=4000#key={platform_key}&org={org.org_id}")
    await page.wait_for_selector("body[data-loaded]")
    assert await page.text_content("#org-name") == org.org_id
    assert await page.text_content("#agents") == "6"
    assert await page.text_content("#agents-registered") == "4"
    assert await page.text_content("#agents-ephemeral") == "2"
    assert await page.text_content("#tasks") == "6"
    assert await page.text_content("#api-webhooks") == "7"
    assert await page.get_attribute("#rl-api", "data-available") == "true"
    assert Decimal(await page.get_attribute("#rl-api", "data-percentage")) < 30  # its own calls only

    # API traffic from the viewer's address: 75 calls move its bar past 80 %: amber.
    async with aiohttp.ClientSession() as session:
        for _ in range(75):
            assert (await fetch(session, limited, "/api/v1/usage", platform_key, VIEWER,
                                org_id=org.org_id))[0] == 200
        await page.wait_for_selector("#rl-api.amber", timeout=15_000)
        await page.screenshot(path=str(SHOTS / "admin-billing-amber.png"), full_page=True)
        total = int(await page.text_content("#api-total"))
        assert total >= 75  # the API's own requests for this organization, as counted and stored

        # Past the limit: the API answers 429 and the page says so with a full red bar; another
        # address is unaffected.
        status = 200
        while status == 200:
            status, _ = await fetch(session, limited, "/api/v1/usage", platform_key, VIEWER,
                                    org_id=org.org_id)
        assert status == 429
        await page.wait_for_selector("#rl-api.red", timeout=15_000)
        assert (await page.text_content("#status")).startswith("rate limited: retry in")
        await page.screenshot(path=str(SHOTS / "admin-billing-limited.png"), full_page=True)
        other = await fetch(session, limited, "/api/metrics", platform_key, OTHER, org_id=org.org_id)
        assert other[0] == 200
    await page.close()
