"""The figures of a subscription and an invoice preview, from per-meter totals (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from services.billing.domain.proration import SECONDS_PER_HOUR, cost_usd, seconds_between
from services.billing.domain.schedule import DAY, day_start, utc_day
from services.billing.domain.stripe_units import stripe_value
from services.kit.decimals import CONTEXT, ZERO
from services.metering.domain.billing_period import BillingPeriod
from services.metering.domain.usage_model import Aggregation, span_figure

DISPLAY_PLACES = Decimal("0.000001")
CENT = Decimal("0.01")


def billed_days(period: BillingPeriod, anchor: datetime) -> tuple[datetime, datetime]:
    """The days whose start lies in the period, as one window: a day counts for the period its
    first second belongs to, on our side as on Stripe's (the pushed timestamp is the day's start).
    The organization's first day began before its first period (at `anchor`, the billing anchor)
    and counts for that period, as Stripe is sent it from the anchor on."""
    def first_day_from(moment: datetime) -> datetime:
        day = day_start(utc_day(moment))
        return day if day >= moment or moment == anchor else day + DAY

    return first_day_from(period.start), first_day_from(period.end)


@dataclass(frozen=True)
class MeterTotal:
    meter: str
    display_name: str
    unit: str
    source: str
    service: str
    category: str
    stripe_scale: int
    quantity: Decimal
    cost_usd: Decimal
    unit_price_usd: Decimal | None  # usage meters: per unit; resources: the current hourly rate
    days: dict[date, Decimal] = field(default_factory=dict)
    delivered: int = 0
    aggregation: Aggregation = Aggregation.SUM

    @property
    def stripe_value(self) -> int:
        """What Stripe bills: each day's value summed, or a gauge's period figure (a `last` meter)."""
        if not self.aggregation.accumulates:
            return stripe_value(self.quantity, self.stripe_scale)
        return sum(stripe_value(q, self.stripe_scale) for q in self.days.values())

    def display_usage(self) -> tuple[Decimal, str]:
        """Resources in hours (GB-hours), as the subscription shows them; other meters in their own unit."""
        if self.source != "resource":
            return self.quantity, self.unit
        hours = CONTEXT.divide(self.quantity, SECONDS_PER_HOUR).quantize(DISPLAY_PLACES, ROUND_HALF_EVEN)
        return hours, "GB-hours" if self.unit.startswith("GB") else "hours"


def meter_total(meter: dict[str, Any], kind: Aggregation, hours: list[tuple[datetime, Decimal, Decimal]],
                delivered: int) -> MeterTotal:
    """A meter's period from its hourly roll-ups: hours make days and days the period by the
    meter's aggregation. A sum costs what its hours cost; a gauge costs its period figure at its
    unit price (its hours carry no cost)."""
    by_day: dict[date, list[tuple[date, Decimal]]] = {}
    for hour, quantity, _ in hours:
        by_day.setdefault(utc_day(hour), []).append((hour, quantity))
    days = {day: span_figure(kind, readings) for day, readings in by_day.items()}
    quantity = span_figure(kind, days.items())
    if kind.accumulates:
        cost = sum((c for _, _, c in hours), ZERO)
    else:
        cost = quantity * (meter["unit_price_usd"] or ZERO)
    return MeterTotal(**meter, quantity=quantity, cost_usd=cost, days=days, delivered=delivered,
                      aggregation=kind)


@dataclass(frozen=True)
class RunningSegment:
    quantity: Decimal
    hourly_usd: Decimal
    started_at: datetime


def projected_resources(segments: list[RunningSegment], counted_until: datetime,
                        window_end: datetime) -> Decimal:
    """What resources still running cost from where usage was counted to the end of the window."""
    total = ZERO
    for segment in segments:
        seconds = seconds_between(max(counted_until, segment.started_at), window_end)
        total += cost_usd(seconds, segment.hourly_usd, segment.quantity)
    return total


def by_service(meters: list[MeterTotal]) -> dict[str, dict[str, Decimal]]:
    services: dict[str, dict[str, Decimal]] = {}
    for meter in meters:
        categories = services.setdefault(meter.service, {})
        categories[meter.category] = categories.get(meter.category, ZERO) + meter.cost_usd
    return services


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, ROUND_HALF_EVEN)
