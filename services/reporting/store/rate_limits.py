"""What the rate-limiter sidecar counts for a client IP, read without consuming (hits=0)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal

import aiohttp

from services.kit.decimals import ZERO
from services.reporting.domain.figures import share

DOMAINS = ("api", "webhook")
TIMEOUT = aiohttp.ClientTimeout(total=2.0)


@dataclass(frozen=True)
class Bar:
    domain: str
    available: bool
    limit: int = 0
    remaining: int = 0
    state: str = ""
    reset_seconds: Decimal = ZERO

    @property
    def used(self) -> int:
        return max(0, self.limit - self.remaining)

    @property
    def percent(self) -> Decimal:
        return share(Decimal(self.used), Decimal(self.limit))


class RateLimitReader:
    def __init__(self, base_url: str) -> None:
        self._base = base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def bars(self, ip: str) -> list[Bar]:
        return list(await asyncio.gather(*(self._bar(domain, ip) for domain in DOMAINS)))

    async def _bar(self, domain: str, ip: str) -> Bar:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        params = {"domain": domain, "hits": "0", "remote_address": ip}
        try:
            async with self._session.get(f"{self._base}/v1/check", params=params) as response:
                if response.status not in (200, 429):
                    return Bar(domain, False)
                body = await response.json()
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return Bar(domain, False)
        if body.get("degraded") or not isinstance(body.get("limit"), int):
            return Bar(domain, False)
        return Bar(domain, True, body["limit"], int(body["remaining"]), str(body["state"]),
                   Decimal(str(body["reset_seconds"])))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
