"""RateLimit response headers: the IETF draft fields and the widespread X-RateLimit-* ones."""

from __future__ import annotations

import math

from ratelimiter.model import Decision, LimitStatus


def seconds(ms: int) -> int:
    """Whole seconds, rounded up: a client waiting this long is never early."""
    return math.ceil(ms / 1000)


def ietf_headers(status: LimitStatus) -> list[tuple[str, str]]:
    """`RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers structured
    fields); empty when no limit applies."""
    limit = status.limit
    if limit is None:
        return []
    name = limit.name or "default"
    return [
        ("RateLimit-Policy", f'"{name}";q={limit.requests};w={seconds(limit.window_ms)}'),
        ("RateLimit", f'"{name}";r={status.remaining};t={seconds(status.reset_ms)}'),
    ]


def x_ratelimit_headers(status: LimitStatus) -> list[tuple[str, str]]:
    limit = status.limit
    if limit is None:
        return []
    return [
        ("X-RateLimit-Limit", str(limit.requests)),
        ("X-RateLimit-Remaining", str(status.remaining)),
        ("X-RateLimit-Reset", str(seconds(status.reset_ms))),
    ]


def retry_after(decision: Decision) -> list[tuple[str, str]]:
    if decision.allowed:
        return []
    return [("Retry-After", str(max(1, seconds(decision.headline.retry_after_ms))))]
