"""The HTTP API behind the rate-limiter sidecar: every /api request takes one hit from its client
IP's bucket (domain `api`: 100 a minute per IP with the sidecar's built-in limits).

Over the limit, the answer is 429 `{"error", "field", "code": "RESOURCE_EXHAUSTED"}` with the
sidecar's `Retry-After`, `RateLimit-Policy`/`RateLimit` and `X-RateLimit-*` headers; allowed
answers carry the RateLimit headers too (streamed downloads excepted). When the sidecar gives no
verdict (down, unreachable, slow), the API fails open, as the sidecar's own
`failure_mode: fail_open` for the `api` domain does when its Redis is down: requests pass
unchecked, one warning is logged when such a streak starts and one line when it ends, each pass is
counted (`metering.http.rate_limit.fail_open`), and the sidecar is asked again at most once a
second meanwhile, so a hanging sidecar slows no more than one request a second by its timeout.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from services.reporting.service.instruments import RATE_LIMIT_FAIL_OPEN, RATE_LIMITED
from services.reporting.store.rate_limit_checks import RateLimitChecks

log = logging.getLogger(__name__)
LIMITED_PATHS = "/api/"
DOMAIN = "api"
RETRY_SECONDS = 1.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def client_ip(request: web.Request, header: str) -> str:
    """The client's address: the gateway's header (its first value) when configured, else the peer."""
    forwarded = request.headers.get(header, "") if header else ""
    return forwarded.split(",")[0].strip() or request.remote or ""


class RateLimiting:
    def __init__(self, checks: RateLimitChecks, client_ip_header: str = "") -> None:
        self._checks = checks
        self._header = client_ip_header
        self._failing_since: float | None = None
        self._next_try = 0.0

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(LIMITED_PATHS):
            return await handler(request)
        ip = client_ip(request, self._header)
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            return await handler(request)  # no IP to count (e.g. a unix socket peer)
        headers = await self._verdict_headers(ip)
        if headers is None:
            return await handler(request)
        allowed, handed_on = headers
        if not allowed:
            RATE_LIMITED.add(1, {"domain": DOMAIN})
            return web.json_response(
                {"error": f"rate limit exceeded for {ip}; retry after {handed_on.get('Retry-After', '1')} s",
                 "field": "", "code": "RESOURCE_EXHAUSTED"}, status=429, headers=handed_on)
        response = await handler(request)
        if not response.prepared:  # a streamed download has sent its headers already
            for name, value in handed_on.items():
                response.headers.setdefault(name, value)
        return response

    async def _verdict_headers(self, ip: str) -> tuple[bool, dict[str, str]] | None:
        now = time.monotonic()
        if self._failing_since is not None and now < self._next_try:
            RATE_LIMIT_FAIL_OPEN.add(1, {"domain": DOMAIN})
            return None
        verdict = await self._checks.take(DOMAIN, ip)
        if verdict is None:
            self._failed(now)
            RATE_LIMIT_FAIL_OPEN.add(1, {"domain": DOMAIN})
            return None
        if self._failing_since is not None:
            log.info("rate-limiter sidecar answers again after %.1f s; requests are limited again",
                     now - self._failing_since)
            self._failing_since = None
        return verdict.allowed, verdict.headers

    def _failed(self, now: float) -> None:
        if self._failing_since is None:
            self._failing_since = now
            log.warning("rate-limiter sidecar gave no verdict; the HTTP API lets requests through "
                        "unchecked (fail open) until it answers again")
        self._next_try = now + RETRY_SECONDS
