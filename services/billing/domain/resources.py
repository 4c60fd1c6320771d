"""Resources billed per second: names of their billing meters and how they are grouped."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from services.billing.domain.proration import cost_usd, seconds_between
from services.kit import inputs
from services.kit.decimals import ZERO
from services.kit.errors import FieldError

_KIND = re.compile(r"\A[a-z][a-z0-9_]{0,39}\Z")
MAX_QUANTITY_FRACTION = 3

# Resource kinds grouped as the usage API groups them.
GROUPS = {
    "postgres": "databases", "mysql": "databases", "redis": "databases",
    "namespace": "namespaces", "storage_gb": "storage", "registry_gb": "storage",
    "nfs_gb": "nfs", "kafka": "kafka", "vault": "vault", "vpc": "vpc", "backups_gb": "backups",
}


def kind(raw: str, field: str = "kind") -> str:
    if not raw:
        raise FieldError(field, "is required")
    if not _KIND.match(raw):
        raise FieldError(field, "must be 1-40 lowercase letters, digits or _ starting with a letter")
    return raw


def tier(raw: str, field: str = "tier") -> str:
    if raw and not _KIND.match(raw):
        raise FieldError(field, "must be 1-40 lowercase letters, digits or _ starting with a letter")
    return raw


def quantity(raw: str, field: str = "quantity") -> Decimal:
    if raw == "":
        return Decimal(1)
    value = inputs.decimal(raw, field, positive=True)
    if value.as_tuple().exponent < -MAX_QUANTITY_FRACTION:  # type: ignore[operator]
        raise FieldError(field, f"must have at most {MAX_QUANTITY_FRACTION} fraction digits")
    return value


@dataclass(frozen=True)
class ResourceMeter:
    """The billing meter of one (kind, tier): quantity in resource-seconds."""

    meter: str
    display_name: str
    unit: str
    stripe_scale: int
    category: str
    stripe_event_name: str


def resource_meter(kind: str, tier: str) -> ResourceMeter:
    name = f"{kind}_{tier}_seconds" if tier else f"{kind}_seconds"
    sized = kind.endswith("_gb")
    words = kind.removesuffix("_gb").replace("_", " ").title() + (" GB" if sized else "")
    display = f"{words} {tier.title()}".strip() + (" Hours" if not sized else "-Hours")
    return ResourceMeter(
        meter=name, display_name=display, unit="GB-seconds" if sized else "seconds",
        # Sized resources may have fractional quantities (2.5 GB): milli-units keep them whole.
        stripe_scale=3 if sized else 0, category=GROUPS.get(kind, kind),
        stripe_event_name=f"metering_{name}",
    )


@dataclass(frozen=True)
class Segment:
    """A stretch of a resource's life at one size and rate."""

    tier: str
    quantity: Decimal
    hourly_usd: Decimal
    started_at: datetime
    ended_at: datetime | None


def billed(segments: list[Segment], now: datetime) -> tuple[Decimal, Decimal]:
    """(seconds, USD) of a resource's whole life up to now."""
    seconds, cost = ZERO, ZERO
    for segment in segments:
        part = seconds_between(segment.started_at, segment.ended_at or max(now, segment.started_at))
        seconds += part
        cost += cost_usd(part, segment.hourly_usd, segment.quantity)
    return seconds, cost
