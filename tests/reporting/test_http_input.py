"""The HTTP API applies the same field rules as gRPC: ASCII digits, no control characters or
null bytes, timestamps within 1970-01-01 .. 9999-12-31; each refusal is a 400 naming the field."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest


async def call(base: str, method: str, path: str, key: str, body: Any = None,
               **query: str) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{base}/api/v1{path}", params=query,
                        data=None if body is None else json.dumps(body),
                        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        as response,
    ):
        return response.status, await response.json()


@pytest.mark.parametrize("months", ["\u0661\u0662", "\uff11\uff12", "12\n", " 12", "+1"],
                         ids=["arabic-indic", "fullwidth", "newline", "space", "sign"])
async def test_months_accept_ascii_digits_only(http_base: str, platform_key: str, make_org,
                                               months: str) -> None:
    org = await make_org()
    status, body = await call(http_base, "GET", "/usage/history", platform_key, org_id=org, months=months)
    assert (status, body["field"]) == (400, "months"), body


async def test_a_page_size_in_unicode_digits_is_refused(http_base: str, platform_key: str, make_org) -> None:
    org = await make_org()
    status, body = await call(http_base, "GET", "/credits/top/workspaces", platform_key, org_id=org,
                              page_size="\uff15")
    assert (status, body["field"]) == (400, "page_size"), body


@pytest.mark.parametrize("org_id", ["demo\n", "a\x00b", "demo\r"])
async def test_an_org_id_with_a_newline_or_null_byte_is_refused(http_base: str, platform_key: str,
                                                                org_id: str) -> None:
    status, body = await call(http_base, "GET", "/usage", platform_key, org_id=org_id)
    assert (status, body["field"]) == (400, "org_id"), body


@pytest.mark.parametrize("moment",
                         ["0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "9999-12-31T23:59:59-01:00"],
                         ids=["year-1", "1969", "past-9999"])
async def test_timestamps_outside_1970_to_9999_are_refused(http_base: str, platform_key: str, make_org,
                                                          moment: str) -> None:
    org = await make_org()
    status, body = await call(http_base, "GET", "/usage/queries", platform_key,
                              org_id=org, **{"from": moment})
    assert (status, body["field"]) == (400, "from"), body
    status, body = await call(http_base, "POST", "/usage/export", platform_key, org_id=org, body={
        "format": "csv", "period": {"from": moment, "to": "2026-01-01T00:00:00Z"}})
    assert (status, body["field"]) == (400, "period.from"), body


async def test_an_export_id_with_a_null_byte_is_refused(http_base: str, platform_key: str, make_org) -> None:
    org = await make_org()
    status, body = await call(http_base, "GET", "/usage/export/a%00b", platform_key, org_id=org)
    assert (status, body["field"]) == (400, "export_id"), body
