"""What the metering store reads back, as plain values: a period's usage against its limit, a
quota's view, and usage figures over a span, per bucket and per workspace and day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from services.metering.domain.alerts import QuotaLimits
from services.metering.domain.billing_period import BillingPeriod
from services.metering.domain.credits import Unit
from services.metering.domain.usage_model import Aggregation


@dataclass(frozen=True)
class Usage:
    """What was used this period against what may be used; the input of quotas and projections."""

    org_id: str
    meter: str  # "" for the credit balance
    unit: Unit | None  # None for a meter (its own unit)
    used: Decimal
    limit: Decimal | None  # None: unlimited
    left: Decimal | None  # what may still be used; None: unlimited
    monthly_remaining: Decimal
    bonus_remaining: Decimal
    reserved: Decimal
    period: BillingPeriod
    now: datetime
    aggregation: Aggregation = Aggregation.SUM  # how the meter's readings make `used`


@dataclass(frozen=True)
class QuotaView:
    org_id: str
    resource: str
    limits: QuotaLimits
    used: Decimal
    updated_at: datetime


@dataclass(frozen=True)
class SpanFigure:
    meter: str
    aggregation: Aggregation
    used: Decimal
    cost: Decimal
    latest_at: datetime | None


@dataclass(frozen=True)
class BucketFigure:
    bucket: datetime
    meter: str
    used: Decimal
    cost: Decimal


@dataclass(frozen=True)
class WorkspaceDay:
    workspace_id: str
    name: str
    day: date
    aggregation: Aggregation
    used: Decimal
    cost: Decimal
    unit_usd: Decimal | None
