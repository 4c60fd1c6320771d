"""Per-second billed resources of the billing worker (databases, namespaces, NFS, …) within a
report's range: each resource's segments clipped to the range and split by UTC day (pure).

Costs use the billing worker's own proration (seconds / 3600 x hourly rate x quantity), so the
reports and the invoices agree to the last digit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from services.billing.domain.proration import cost_usd, seconds_between
from services.billing.domain.resources import GROUPS
from services.kit.decimals import ZERO
from services.reporting.domain.periods import Range, day_start

SECONDS_PER_HOUR = Decimal(3600)
HOURS_PER_MONTH = Decimal(730)  # hourly rates are monthly prices over 730 hours
# The billing worker's resource groups as resources of the usage API.
GROUP_RESOURCE = {"databases": "databases", "namespaces": "namespaces", "storage": "storage_gb",
                  "nfs": "nfs_shares", "kafka": "kafka_clusters", "vault": "vault_secrets", "vpc": "vpcs",
                  "backups": "backups_gb"}


def resource_of(kind: str) -> str:
    """The usage API resource a billing resource kind counts towards (postgres -> databases)."""
    return GROUP_RESOURCE.get(GROUPS.get(kind, ""), kind)


@dataclass(frozen=True)
class BilledSegment:
    """One segment of a per-second resource, with the resource it belongs to."""

    resource_id: str
    name: str
    kind: str
    tier: str
    status: str  # running | deleted
    quantity: Decimal  # the resource's current quantity
    user_id: str | None
    created_at: datetime
    segment_quantity: Decimal
    hourly_usd: Decimal
    started_at: datetime
    ended_at: datetime | None  # None: still running


@dataclass
class Billed:
    resource_id: str
    name: str
    kind: str
    tier: str
    status: str
    quantity: Decimal
    user_id: str
    created_at: datetime
    hourly_usd: Decimal  # of the latest segment
    hours: dict[date, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    costs: dict[date, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))

    @property
    def resource(self) -> str:
        return resource_of(self.kind)

    @property
    def cost(self) -> Decimal:
        return sum(self.costs.values(), ZERO)

    @property
    def resource_hours(self) -> Decimal:
        return sum(self.hours.values(), ZERO)

    @property
    def monthly_cost(self) -> Decimal:
        return self.hourly_usd * self.quantity * HOURS_PER_MONTH


def bill(segments: Iterable[BilledSegment], window: Range, now: datetime) -> list[Billed]:
    out: dict[str, Billed] = {}
    for segment in segments:
        billed = out.get(segment.resource_id)
        if billed is None:
            billed = out[segment.resource_id] = Billed(
                segment.resource_id, segment.name, segment.kind, segment.tier, segment.status,
                segment.quantity, segment.user_id or "", segment.created_at, segment.hourly_usd)
        billed.hourly_usd = segment.hourly_usd
        start = max(segment.started_at, window.start)
        end = min(segment.ended_at or now, window.end, now)
        _split(billed, start, end, segment.hourly_usd, segment.segment_quantity)
    return sorted(out.values(), key=lambda b: (-b.cost, b.resource_id))


def _split(billed: Billed, start: datetime, end: datetime, hourly: Decimal, quantity: Decimal) -> None:
    while start < end:
        stop = min(end, day_start(start) + timedelta(days=1))
        seconds = seconds_between(start, stop)
        day = start.date()
        billed.hours[day] += seconds * quantity / SECONDS_PER_HOUR
        billed.costs[day] += cost_usd(seconds, hourly, quantity)
        start = stop

