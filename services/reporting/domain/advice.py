"""Optimization recommendations from an organization's own use (pure).

- Right-size the plan: a cheaper plan whose limits and monthly credits cover both what this period
  used so far and its projection, with 20 % headroom. Every meter either plan limits counts, and
  credits; a plan that does not list a meter the current plan limits does not offer it.
- Clean up old backups: backup storage recorded, or backup resources running since, more than 90
  days ago, at what it costs a month.
- Consolidate under-used namespaces: workspaces that consumed less than 10 % of the average
  workspace this period; merging them into one saves the namespace price of the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from services.kit.decimals import ZERO, format_decimal
from services.reporting.domain.figures import money, share

HEADROOM = Decimal("0.8")  # a smaller plan must fit the projection within 80 % of its limits
UNDER_USED_SHARE = Decimal("0.1")
CREDITS = "credits"
OLD_BACKUP_DAYS = 90


@dataclass(frozen=True)
class PlanOffer:
    plan_id: str
    name: str
    price_usd: Decimal | None  # None: custom pricing
    monthly_credits: Decimal
    limits: Mapping[str, Decimal | None]  # meter -> limit (None: unlimited)


@dataclass(frozen=True)
class Basis:
    """A figure a recommendation rests on: what was used so far this period, its projection to the
    period's end and the limit it was held against (each when it applies)."""

    name: str  # a resource, "credits", a workspace, or "average" (namespaces)
    used: Decimal
    projected: Decimal | None = None
    limit: Decimal | None = None


@dataclass(frozen=True)
class Use:
    """A dimension's use this period: so far and projected to the period's end."""

    used: Decimal
    projected: Decimal

    @property
    def need(self) -> Decimal:
        return max(self.used, self.projected)


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
    basis: tuple[Basis, ...] = ()

    @property
    def savings_percent(self) -> Decimal:
        return share(self.projected_savings, self.current_cost)


def right_size_plan(current: PlanOffer, plans: Sequence[PlanOffer], use: Mapping[str, Use],
                    credits: Use | None) -> Advice | None:
    """The cheapest priced plan below the current one that still fits; `use` holds every meter of
    the period, `credits` the credits spent (None when the organization pays in USD)."""
    if current.price_usd is None or current.price_usd == 0:
        return None
    fitting = [p for p in plans if p.price_usd is not None and p.price_usd < current.price_usd
               and _fits(p, _dimensions(current, p), use, credits)]
    if not fitting:
        return None
    best = min(fitting, key=lambda p: (p.price_usd or ZERO, p.plan_id))
    assert best.price_usd is not None
    savings = current.price_usd - best.price_usd
    basis = _basis(best, _dimensions(current, best), use, credits)
    shown = ", ".join(f"{format_decimal(money(b.projected or ZERO))} {b.name}" for b in basis)
    return Advice(
        "right-size-plan", "high" if share(savings, current.price_usd) >= 50 else "medium", "cost",
        "plan", f"Right-size the plan to {best.name}",
        f"This period is projected to use {shown or 'little'}; the {best.name} plan covers that and "
        f"what was used so far with 20% headroom for ${format_decimal(best.price_usd)}/month instead of "
        f"${format_decimal(current.price_usd)}/month.",
        current.price_usd, savings, "low", basis,
    )


def _dimensions(current: PlanOffer, candidate: PlanOffer) -> list[str]:
    """The meters either plan limits."""
    return sorted({m for plan in (current, candidate) for m, limit in plan.limits.items()
                   if limit is not None})


def _fits(plan: PlanOffer, dimensions: Sequence[str], use: Mapping[str, Use], credits: Use | None) -> bool:
    if credits is not None and credits.need > plan.monthly_credits * HEADROOM:
        return False
    for meter in dimensions:
        need = use.get(meter, Use(ZERO, ZERO)).need
        if meter not in plan.limits:
            if need > 0:
                return False  # the plan does not offer what is being used
            continue
        limit = plan.limits[meter]
        if limit is not None and need > limit * HEADROOM:
            return False
    return True


def _basis(plan: PlanOffer, dimensions: Sequence[str], use: Mapping[str, Use],
           credits: Use | None) -> tuple[Basis, ...]:
    out = [] if credits is None else [Basis(CREDITS, credits.used, credits.projected, plan.monthly_credits)]
    for meter in dimensions:
        figures = use.get(meter, Use(ZERO, ZERO))
        out.append(Basis(meter, figures.used, figures.projected, plan.limits.get(meter, ZERO)))
    return tuple(out)


def old_backups(gb: Decimal, monthly_cost: Decimal) -> Advice | None:
    if gb <= 0 or monthly_cost <= 0:
        return None
    cost = money(monthly_cost)
    return Advice(
        "clean-up-old-backups", "medium", "efficiency", "backups_gb", "Clean up old backups",
        f"You have {format_decimal(gb)} GB of backups older than {OLD_BACKUP_DAYS} days that could be "
        "deleted.", cost, cost, "low", (Basis("backups_gb", gb),),
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
        (Basis("average", average),
         *(Basis(w, consumption[w], None, average * UNDER_USED_SHARE) for w in idle)),
    )
