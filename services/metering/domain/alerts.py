"""Quota alerts: which alerts a usage level calls for (warning, critical, overage, budget).

Alerts are measured against a resource's alert base: its soft limit, else its hard limit, else
the plan's limit. warning at 80 %, critical at 95 %, overage above 100 %, and an optional custom
budget threshold. The store compares the set called for before and after a change, under the
lock that serializes the change, so each crossing raises its alert exactly once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

from services.kit.decimals import CONTEXT, format_decimal
from services.metering.domain.quota import percent_used


class Severity(enum.Enum):
    WARNING = "warning"
    CRITICAL = "critical"
    OVERAGE = "overage"
    BUDGET = "budget"
    PLAN_CHANGE = "plan_change"  # a notice: a plan change request was decided


THRESHOLDS = {Severity.WARNING: 80, Severity.CRITICAL: 95, Severity.OVERAGE: 100}

# Channels per severity when an organization has configured none.
DEFAULT_ROUTES: dict[Severity, tuple[str, ...]] = {
    Severity.WARNING: ("in_app", "email"),
    Severity.CRITICAL: ("in_app", "email", "webhook"),
    Severity.OVERAGE: ("in_app", "email", "webhook"),
    Severity.BUDGET: ("in_app", "email"),
    Severity.PLAN_CHANGE: ("in_app", "email", "webhook"),
}


@dataclass(frozen=True)
class QuotaLimits:
    soft_limit: Decimal | None = None
    hard_limit: Decimal | None = None
    plan_limit: Decimal | None = None
    alert_at_percent: int | None = None
    alert_enabled: bool = True

    @property
    def base(self) -> Decimal | None:
        for limit in (self.soft_limit, self.hard_limit, self.plan_limit):
            if limit is not None:
                return limit
        return None


@dataclass(frozen=True)
class AlertCall:
    severity: Severity
    threshold_percent: int


def alerts_called_for(used: Decimal, limits: QuotaLimits) -> dict[Severity, AlertCall]:
    base = limits.base
    if not limits.alert_enabled or base is None:
        return {}
    called = {
        severity: AlertCall(severity, percent)
        for severity, percent in THRESHOLDS.items()
        if _reached(used, base, percent, strictly=severity is Severity.OVERAGE)
    }
    if limits.alert_at_percent and _reached(used, base, limits.alert_at_percent, strictly=False):
        called[Severity.BUDGET] = AlertCall(Severity.BUDGET, limits.alert_at_percent)
    return called


def _reached(used: Decimal, base: Decimal, percent: int, *, strictly: bool) -> bool:
    mark = CONTEXT.multiply(base, Decimal(percent)) / 100
    return used > mark if strictly else used >= mark and used > 0


def alert_message(resource: str, used: Decimal, limit: Decimal) -> str:
    pct = format_decimal(percent_used(used, limit))
    label = resource.replace("_", " ").capitalize()
    return f"{label} usage reached {pct}% of quota ({format_decimal(used)} of {format_decimal(limit)})"
