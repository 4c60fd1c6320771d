"""Cost analysis from what the store read (pure): metered usage at unit prices, ledger spend
converted to dollars, and per-second billed resources, by resource, service, user and bucket."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from services.kit.decimals import ZERO
from services.metering.domain.billing_period import BillingPeriod
from services.metering.domain.readings import BucketFigure, SpanFigure
from services.reporting.domain import billed, catalogue
from services.reporting.domain.catalogue import AGENT_CREDITS, LEDGER_PRICED
from services.reporting.domain.figures import money, per_day, to_usd, total
from services.reporting.domain.periods import Granularity, Period, Range, bucket_start, buckets
from services.reporting.domain.results import CostLine, CostReport, UserSpend

UNPRICED = (LEDGER_PRICED, AGENT_CREDITS.name)  # costs from the ledger, not from a unit price


@dataclass(frozen=True)
class SpendBucket:
    """Granted ledger spend in one bucket, of one kind (LLM or direct), user, unit and credit rate."""

    bucket: datetime  # naive UTC: the start of the bucket
    llm: bool
    user_id: str  # "" when no user was named
    user_name: str
    unit: str  # credits | usd
    credits_per_usd: Decimal | None  # the rate in force when spent (credits only)
    amount: Decimal


def usd(spend: SpendBucket) -> Decimal:
    return to_usd(spend.amount, spend.unit, spend.credits_per_usd)


def naive(when: datetime) -> datetime:
    return when.replace(tzinfo=None)


def day_bucket(granularity: Granularity, day: date) -> datetime:
    """The bucket a UTC day falls in."""
    return bucket_start(granularity, datetime(day.year, day.month, day.day, tzinfo=UTC))


def resource_order(name: str) -> tuple[int, str]:
    names = [r.name for r in catalogue.RESOURCES]
    return (names.index(name) if name in names else len(names), name)


def cost_report(period: Period, window: Range, now: datetime, resource: str,
                meters: list[BucketFigure], figures: dict[str, SpanFigure], spend: list[SpendBucket],
                prices: dict[str, Decimal], granularity: Granularity,
                resources: list[billed.Billed]) -> CostReport:
    """`figures`: each meter's figure and cost over the window; `meters`: the same per bucket.
    A gauge's cost over a span is its figure for that span at its unit price, so its bucket costs
    are each their own bucket's (a month's peak is not the sum of its days' peaks)."""
    usage: dict[str, Decimal] = defaultdict(lambda: ZERO)
    cost: dict[str, Decimal] = defaultdict(lambda: ZERO)
    series: dict[datetime, Decimal] = defaultdict(lambda: ZERO)
    users: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for figure in figures.values():
        if figure.latest_at is None:
            continue  # no reading in the window (seats counted from users are not costed here)
        usage[figure.meter] += figure.used
        if figure.meter != LEDGER_PRICED:
            cost[figure.meter] += figure.cost
    for bucket in meters:
        if bucket.meter != LEDGER_PRICED:
            series[naive(bucket.bucket)] += bucket.cost
    for row in spend:
        name = LEDGER_PRICED if row.llm else AGENT_CREDITS.name
        if resource and resource != name:
            continue
        dollars = usd(row)
        cost[name] += dollars
        series[naive(row.bucket)] += dollars
        users[(row.user_id, row.user_name)] += dollars
        if name == AGENT_CREDITS.name:
            usage[name] += row.amount
    per_second: set[str] = set()
    for b in resources:
        per_second.add(b.resource)
        usage[b.resource] += b.resource_hours
        cost[b.resource] += b.cost
        users[(b.user_id, "")] += b.cost
        for day, amount in b.costs.items():
            series[naive(day_bucket(granularity, day))] += amount
    lines = [
        CostLine(name, usage[name], None if name in (*UNPRICED, *per_second) else prices.get(name),
                 money(cost[name]))
        for name in sorted({*usage, *cost}, key=resource_order)
    ]
    grand = total(line.cost for line in lines)
    # A peak or level costs its figure for the window: it does not grow with the days left.
    flat = total(f.cost for f in figures.values()
                 if f.latest_at is not None and not f.aggregation.accumulates)
    elapsed = BillingPeriod(window.start, window.end).exact_days_elapsed(now)
    average = per_day(grand, elapsed)
    remaining = BillingPeriod(window.start, window.end).exact_days_remaining(now)
    by_user = _users(users)
    points = [(b.start, money(series[naive(b.start)])) for b in buckets(granularity, window)]
    return CostReport(period, window, lines, by_user, points, money(average),
                      money(grand + per_day(grand - flat, elapsed) * remaining))


def _users(spend: dict[tuple[str, str], Decimal]) -> list[UserSpend]:
    """Spend per user; a billed resource's user (known by id only) joins the user's named row."""
    names = {user: name for user, name in spend if name}
    merged: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for (user, _), amount in spend.items():
        merged[user] += amount
    return sorted((UserSpend(u, names.get(u, ""), money(c)) for u, c in merged.items()),
                  key=lambda s: (-s.cost, s.user_id))
