"""Quota states and projections (80 % warning, 95 % critical, >100 % overage)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from services.kit.decimals import CONTEXT, ZERO
from services.metering.domain.billing_period import BillingPeriod
from services.metering.domain.usage_model import Aggregation

WARNING_PERCENT = Decimal(80)
CRITICAL_PERCENT = Decimal(95)
FULL_PERCENT = Decimal(100)
HUNDREDTH = Decimal("0.01")
# Averages and projections are shown to this precision; balances and ledgers stay exact.
FIGURE = Decimal("0.000001")


class QuotaState(enum.Enum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    OVERAGE = "overage"


def percent_used(used: Decimal, limit: Decimal | None) -> Decimal:
    if limit is None:
        return ZERO
    if limit == 0:
        return ZERO if used == 0 else FULL_PERCENT * 10**6
    return CONTEXT.divide(used * FULL_PERCENT, limit).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def quota_state(used: Decimal, limit: Decimal | None) -> QuotaState:
    if limit is None:
        return QuotaState.OK
    if used > limit:
        return QuotaState.OVERAGE
    exact = FULL_PERCENT if limit == 0 else CONTEXT.divide(used * FULL_PERCENT, limit)
    if exact >= CRITICAL_PERCENT:
        return QuotaState.CRITICAL
    if exact >= WARNING_PERCENT:
        return QuotaState.WARNING
    return QuotaState.OK


@dataclass(frozen=True)
class Projection:
    average_per_day: Decimal
    projected_period_end: Decimal
    run_out_in_days: Decimal | None
    will_exceed: bool


def project(used: Decimal, left: Decimal | None, limit: Decimal | None,
            period: BillingPeriod, now: datetime, kind: Aggregation = Aggregation.SUM) -> Projection:
    """Straight-line projection at this period's average daily rate.

    `left` is what may still be used (credits available, or limit - used); None when unlimited.
    The average divides by at least one day so the first hours of a period do not explode it.
    A peak or level does not accumulate: it projects flat (its figure stays as it is, at no
    daily rate, and never runs out).
    """
    if not kind.accumulates:
        return Projection(ZERO.quantize(FIGURE), used.quantize(FIGURE, rounding=ROUND_HALF_UP), None,
                          limit is not None and used > limit)
    elapsed = max(period.exact_days_elapsed(now), Decimal(1))
    average = CONTEXT.divide(used, elapsed)
    projected = used + CONTEXT.multiply(average, period.exact_days_remaining(now))
    run_out = None
    if left is not None and average > 0:
        run_out = CONTEXT.divide(max(left, ZERO), average).quantize(HUNDREDTH, rounding=ROUND_FLOOR)
    return Projection(
        average_per_day=average.quantize(FIGURE, rounding=ROUND_HALF_UP),
        projected_period_end=projected.quantize(FIGURE, rounding=ROUND_HALF_UP),
        run_out_in_days=run_out,
        will_exceed=limit is not None and projected > limit,
    )
