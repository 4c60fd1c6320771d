"""Per-second billed resources of the billing worker (databases, namespaces, NFS, …) within a
report's range: each resource's segments clipped to the range and split by UTC day (pure).

Costs use the billing worker's own proration (seconds / 3600 x hourly rate x quantity), so the
reports and the invoices agree to the last digit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
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


def bill(rows: Iterable[Mapping[str, object]], window: Range, now: datetime) -> list[Billed]:
    """Rows: one per segment (resource columns plus segment tier, quantity, hourly_usd, start, end)."""
    out: dict[str, Billed] = {}
    for row in rows:
        rid = str(row["resource_id"])
        billed = out.get(rid)
        if billed is None:
            billed = out[rid] = Billed(
                rid, str(row["name"]), str(row["kind"]), str(row["tier"]), str(row["status"]),
                _dec(row["quantity"]), str(row["user_id"] or ""), _time(row["created_at"]),
                _dec(row["hourly_usd"]))
        billed.hourly_usd = _dec(row["hourly_usd"])
        start = max(_time(row["started_at"]), window.start)
        end = min(_time(row["ended_at"]) if row["ended_at"] else now, window.end, now)
        _split(billed, start, end, _dec(row["hourly_usd"]), _dec(row["segment_quantity"]))
    return sorted(out.values(), key=lambda b: (-b.cost, b.resource_id))


def _split(billed: Billed, start: datetime, end: datetime, hourly: Decimal, quantity: Decimal) -> None:
    while start < end:
        stop = min(end, day_start(start) + timedelta(days=1))
        seconds = seconds_between(start, stop)
        day = start.date()
        billed.hours[day] += seconds * quantity / SECONDS_PER_HOUR
        billed.costs[day] += cost_usd(seconds, hourly, quantity)
        start = stop


def _dec(value: object) -> Decimal:
    assert isinstance(value, Decimal | int)
    return Decimal(value)


def _time(value: object) -> datetime:
    assert isinstance(value, datetime)
    return value
