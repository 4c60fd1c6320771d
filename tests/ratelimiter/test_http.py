"""The HTTP front door (nginx auth_request style), /healthz and /metrics, over loopback."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests import stores
from tests.ratelimiter.harness import Sidecar, keys_with_prefix, run_within


async def test_check_answers_200_then_429_with_ratelimit_headers(sidecar: Sidecar):
    url = f"{sidecar.http_base}/v1/check?domain=webhook"
    Answer = tuple[int, dict[str, str], dict[str, object]]

    async def attempt(n: int) -> tuple[Answer, list[Answer], Answer]:
        async with aiohttp.ClientSession(headers={"X-Real-IP": f"198.51.100.{50 + n}"}) as http:

            async def get() -> Answer:
                async with http.get(url) as response:
                    return response.status, dict(response.headers), await response.json()

            first = await get()
            rest = await asyncio.gather(*(get() for _ in range(29)))
            return first, list(rest), await get()

    # all 31 inside the 2 s a token takes to come back
    (first_status, first, body), rest, (refused_status, refused, refused_body) = (
        await run_within(2000, attempt))
    assert first_status == 200 and all(status == 200 for status, _, _ in rest)
    assert refused_status == 429
    assert first["RateLimit-Policy"] == '"webhook_per_ip";q=30;w=60'
    assert first["RateLimit"] == '"webhook_per_ip";r=29;t=2'  # 1 token back in 2 s at 30/min
    assert first["X-RateLimit-Limit"] == "30" and first["X-RateLimit-Remaining"] == "29"
    assert "Retry-After" not in first
    assert body["allowed"] and body["state"] == "ok" and body["remaining"] == 29
    assert refused["X-RateLimit-Remaining"] == "0" and refused["Retry-After"] in {"1", "2"}
    assert 55 <= int(refused["X-RateLimit-Reset"]) <= 60
    assert refused_body["state"] == "limited" and not refused_body["allowed"]
    assert {b["state"] for _, _, b in rest} == {"ok", "warning"}


async def test_descriptor_from_query_and_json_body_with_several_descriptors(sidecar: Sidecar):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{sidecar.http_base}/v1/check",
                            params=[("domain", "api"), ("generic_key", "webhook"),
                                    ("remote_address", "198.51.100.51"), ("hits", "5")]) as r:
            assert r.status == 200 and (await r.json())["remaining"] == 25
        body = {"domain": "api", "descriptors": [
            {"entries": [{"key": "remote_address", "value": "198.51.100.51"}]},
            {"entries": [{"key": "generic_key", "value": "webhook"},
                         {"key": "remote_address", "value": "198.51.100.51"}], "hits": 30}]}
        async with http.post(f"{sidecar.http_base}/v1/check", json=body) as r:
            assert r.status == 429
            answer = await r.json()
            assert answer["limit"] == 30 and answer["remaining"] == 25


@pytest.mark.parametrize(("query", "json_body", "field"), [
    ("domain=api&hits=-1", None, "hits"),
    ("domain=api&hits=lots", None, "hits"),
    ("domain=nope", None, "domain"),
    ("remote_address=1.2.3.4", None, "domain"),
    ("domain=api&remote_address=" + "9" * 600, None, "descriptors[0].entries[0].value"),
    ("", {"domain": "api", "descriptors": []}, "descriptors"),
    ("", {"domain": "api", "descriptors": [{"entries": [{"key": 1}]}]}, "descriptors[0].entries"),
    ("", [1, 2], "body"),
])
async def test_bad_input_is_400_naming_the_field_and_writes_nothing(
    sidecar: Sidecar, query: str, json_body: object, field: str
):
    async with aiohttp.ClientSession() as http:
        url = f"{sidecar.http_base}/v1/check?{query}"
        request = http.post(url, json=json_body) if json_body is not None else http.get(url)
        async with request as response:
            assert response.status == 400
            assert (await response.json())["field"] == field
    assert keys_with_prefix(stores.redis_url(), sidecar.prefix) == []


async def test_healthz_and_prometheus_metrics(sidecar: Sidecar):
    async with aiohttp.ClientSession() as http:
        for _ in range(2):
            await (await http.get(f"{sidecar.http_base}/v1/check?domain=api&user=x")).read()
        async with http.get(f"{sidecar.http_base}/healthz") as r:
            assert r.status == 200 and await r.json() == {"status": "serving", "store": "up"}
        async with http.get(f"{sidecar.http_base}/metrics") as r:
            text = await r.text()
    assert 'ratelimiter_decisions_total{domain="api",outcome="ok"} 2.0' in text
    assert "ratelimiter_store_up 1.0" in text
