"""What to do after a call to Stripe: delivered, already there, retry later, or give up."""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping
from dataclasses import dataclass


class Verdict(enum.Enum):
    DELIVERED = "delivered"
    # Stripe already has an event with this identifier: an earlier attempt got through.
    ALREADY_DELIVERED = "already_delivered"
    RETRY = "retry"
    # Stripe refused the timestamp as too old: re-stamp into the current period and retry.
    RESTAMP = "restamp"
    FAILED = "failed"


@dataclass(frozen=True)
class Answer:
    """A Stripe response, or status None when no response came (timeout, dropped connection)."""

    status: int | None
    headers: Mapping[str, str]
    message: str = ""
    param: str = ""


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    retry_after: float | None = None  # seconds Stripe asked us to wait


def decide(answer: Answer) -> Decision:
    status = answer.status
    if status is None:
        return Decision(Verdict.RETRY)
    if 200 <= status < 300:
        return Decision(Verdict.DELIVERED)
    message = answer.message.lower()
    if status == 400 and "already exists" in message and "identifier" in message:
        return Decision(Verdict.ALREADY_DELIVERED)
    if status == 400 and answer.param == "timestamp":
        return Decision(Verdict.RESTAMP)
    should_retry = _header(answer.headers, "stripe-should-retry")
    if should_retry == "false":
        return Decision(Verdict.FAILED)
    retry_after = _retry_after(answer.headers)
    if should_retry == "true" or status in (409, 429) or status >= 500:
        return Decision(Verdict.RETRY, retry_after)
    if status in (401, 403):
        # A configuration problem (key revoked or wrong): keep the push and try again later.
        return Decision(Verdict.RETRY, retry_after)
    return Decision(Verdict.FAILED)


def backoff_seconds(attempt: int, base: float, cap: float, retry_after: float | None,
                    rand: random.Random) -> float:
    """Exponential backoff with jitter (half to full), never shorter than Retry-After."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    delay = ceiling * (0.5 + rand.random() / 2)
    return float(max(delay, retry_after or 0.0))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value.strip().lower()
    return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    raw = _header(headers, "retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None
