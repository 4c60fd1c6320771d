"""Optimization recommendations from an organization's own use (pure).

- Right-size the plan: a cheaper plan whose limits and monthly credits still cover this period's
  projected use with 20 % headroom.
- Clean up old backups: backup storage recorded, or backup resources running since, more than 90
  days ago, at what it costs a month.
- Consolidate under-used namespaces: workspaces that consumed less than 10 % of the average
  workspace this period; merging them into one saves the namespace price of the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from services.domain.decimals import ZERO, format_decimal
from services.reporting.figures import money, share

HEADROOM = Decimal("0.8")  # a smaller plan must fit the projection within 80 % of its limits
UNDER_USED_SHARE = Decimal("0.1")
OLD_BACKUP_DAYS = 90


@dataclass(frozen=True)
class PlanOffer:
    plan_id: str
    name: str
    price_usd: Decimal | None  # None: custom pricing
    monthly_credits: Decimal
    limits: Mapping[str, Decimal | None]  # meter -> limit (None: unlimited)


@dataclass(frozen=True)
class Advice:
    key: str
    priority: str
    category: str
    resource: str
    title: str
    description: str
    current_cost: Decimal
    projected_savings: Decimal
    effort: str

    @property
    def savings_percent(self) -> Decimal:
        return share(self.projected_savings, self.current_cost)


def right_size_plan(current: PlanOffer, plans: Sequence[PlanOffer], projected: Mapping[str, Decimal],
                    projected_credits: Decimal | None) -> Advice | None:
    """The cheapest priced plan below the current one that still fits the projected use."""
    if current.price_usd is None or current.price_usd == 0:
        return None
    fitting = [p for p in plans if p.price_usd is not None and p.price_usd < current.price_usd
               and _fits(p, projected, projected_credits)]
    if not fitting:
        return None
    best = min(fitting, key=lambda p: (p.price_usd or ZERO, p.plan_id))
    assert best.price_usd is not None
    savings = current.price_usd - best.price_usd
    used = ", ".join(f"{format_decimal(money(projected.get(m, ZERO)))} {m}"
                     for m, lim in sorted(current.limits.items()) if lim is not None)
    return Advice(
        "right-size-plan", "high" if share(savings, current.price_usd) >= 50 else "medium", "cost",
        "plan", f"Right-size the plan to {best.name}",
        f"This period is projected to use {used or 'little'}; the {best.name} plan covers that with "
        f"20% headroom for ${format_decimal(best.price_usd)}/month instead of "
        f"${format_decimal(current.price_usd)}/month.",
        current.price_usd, savings, "low",
    )


def _fits(plan: PlanOffer, projected: Mapping[str, Decimal], projected_credits: Decimal | None) -> bool:
    if projected_credits is not None and projected_credits > plan.monthly_credits * HEADROOM:
        return False
    for meter, used in projected.items():
        limit = plan.limits.get(meter)
        if meter in plan.limits and limit is not None and used > limit * HEADROOM:
            return False
    return True


def old_backups(gb: Decimal, monthly_cost: Decimal) -> Advice | None:
    if gb <= 0 or monthly_cost <= 0:
        return None
    cost = money(monthly_cost)
    return Advice(
        "clean-up-old-backups", "medium", "efficiency", "backups_gb", "Clean up old backups",
        f"You have {format_decimal(gb)} GB of backups older than {OLD_BACKUP_DAYS} days that could be "
        "deleted.", cost, cost, "low",
    )


def under_used_namespaces(consumption: Mapping[str, Decimal],
                          namespace_price: Decimal | None) -> Advice | None:
    """`consumption`: every workspace of the organization with what it consumed this period."""
    if not namespace_price or len(consumption) < 2:
        return None
    average = sum(consumption.values(), ZERO) / len(consumption)
    idle = sorted(w for w, used in consumption.items() if used < average * UNDER_USED_SHARE)
    if len(idle) < 2:
        return None
    current = namespace_price * len(idle)
    names = ", ".join(idle[:5]) + (", …" if len(idle) > 5 else "")
    return Advice(
        "consolidate-namespaces", "medium", "utilization", "namespaces",
        "Consolidate underutilized namespaces",
        f"{len(idle)} namespaces ({names}) used less than 10% of the average namespace this period; "
        "merging them into one saves the others' namespace price.",
        money(current), money(namespace_price * (len(idle) - 1)), "medium",
    )
