"""Each request to the HTTP API counted against the rate-limiter sidecar, through its HTTP check API.

`GET /v1/check?domain=api&remote_address=<ip>` takes one hit from the client's bucket and answers
200 (allowed) or 429 (refused), both with the RateLimit headers the sidecar computes. Any other
answer, a refused connection or a timeout is `None`: the caller decides what an unreachable sidecar
means (the API lets the request through).
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=0.5)
# The headers of the sidecar's answer that the API hands on to its client.
HANDED_ON = ("RateLimit-Policy", "RateLimit", "X-RateLimit-Limit", "X-RateLimit-Remaining",
             "X-RateLimit-Reset", "Retry-After")


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    headers: dict[str, str]


class RateLimitChecks:
    def __init__(self, base_url: str) -> None:
        self._base = base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def take(self, domain: str, ip: str) -> Verdict | None:
        """One hit for the client IP in the domain; None when the sidecar gave no verdict."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        params = {"domain": domain, "remote_address": ip}
        try:
            async with self._session.get(f"{self._base}/v1/check", params=params) as response:
                if response.status not in (200, 429):
                    return None
                headers = {name: response.headers[name] for name in HANDED_ON if name in response.headers}
                return Verdict(response.status == 200, headers)
        except (aiohttp.ClientError, TimeoutError):
            return None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
