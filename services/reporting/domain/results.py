"""What the reports answer: plain values the transports map to protobuf or JSON."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from services.kit.decimals import ZERO
from services.metering.domain.billing_period import BillingPeriod
from services.metering.domain.credits import Unit
from services.metering.domain.quota import Projection, QuotaState, percent_used, quota_state
from services.metering.domain.readings import QuotaView, Usage
from services.reporting.domain.catalogue import AGENT_CREDITS, BREAKDOWN_SKELETON, BY_NAME
from services.reporting.domain.figures import share, total
from services.reporting.domain.periods import ChartRange, Period, Range


@dataclass(frozen=True)
class ResourceFigure:
    resource: str
    used: Decimal
    limit: Decimal | None

    @property
    def percent(self) -> Decimal:
        return percent_used(self.used, self.limit)

    @property
    def state(self) -> QuotaState:
        return quota_state(self.used, self.limit)


@dataclass(frozen=True)
class Summary:
    org_id: str
    period: BillingPeriod
    resources: list[ResourceFigure]


@dataclass(frozen=True)
class DayFigure:
    day: str
    used: Decimal
    cost: Decimal


@dataclass
class ConsumerUse:
    """A workspace's metered use of a resource, or one per-second billed resource (kind set)."""

    id: str
    name: str
    used: Decimal = ZERO
    cost: Decimal = ZERO
    days: list[DayFigure] = field(default_factory=list)
    kind: str = ""
    tier: str = ""
    status: str = ""


@dataclass(frozen=True)
class ResourceReport:
    resource: str
    period: Period
    range: Range
    consumers: list[ConsumerUse]
    total_used: Decimal
    total_limit: Decimal | None
    total_cost: Decimal
    estimated_monthly_cost: Decimal


@dataclass(frozen=True)
class HistoryEntry:
    resource: str
    used: Decimal
    limit: Decimal | None
    cost: Decimal


@dataclass(frozen=True)
class HistoryPoint:
    start: datetime
    entries: list[HistoryEntry]

    @property
    def total_cost(self) -> Decimal:
        return total(e.cost for e in self.entries)


@dataclass(frozen=True)
class QuotaList:
    org_id: str
    quotas: list[QuotaView]


@dataclass(frozen=True)
class ResourceProjection:
    resource: str
    used: Decimal
    limit: Decimal | None
    projection: Projection


@dataclass(frozen=True)
class Projections:
    now: datetime
    period: BillingPeriod
    items: list[ResourceProjection]


@dataclass(frozen=True)
class CostLine:
    resource: str
    usage: Decimal
    unit_cost: Decimal | None
    cost: Decimal


@dataclass(frozen=True)
class UserSpend:
    user_id: str
    name: str
    cost: Decimal


@dataclass(frozen=True)
class CostReport:
    period: Period
    range: Range
    lines: list[CostLine]
    by_user: list[UserSpend]
    series: list[tuple[datetime, Decimal]]
    daily_average: Decimal
    estimated_monthly_total: Decimal

    @property
    def total_cost(self) -> Decimal:
        return total(line.cost for line in self.lines)

    def percent(self, line: CostLine) -> Decimal:
        return share(line.cost, self.total_cost)

    def by_service(self) -> dict[str, dict[str, Decimal]]:
        services: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
        for service, categories in BREAKDOWN_SKELETON.items():
            for category in categories:
                services[service][category] = ZERO
        for line in self.lines:
            resource = BY_NAME.get(line.resource, AGENT_CREDITS)
            services[resource.service][resource.category] += line.cost
        return {s: dict(c) for s, c in sorted(services.items())}


@dataclass(frozen=True)
class OrganizationPlan:
    """An organization with its plan, and the database's time when they were read."""

    org_id: str
    name: str
    plan_id: str
    plan_name: str
    price_usd: Decimal | None  # None: custom pricing
    monthly_credits: Decimal
    billing_model: str  # credits | byom
    billing_anchor: datetime
    monthly_spend_cap_usd: Decimal | None  # BYOM only
    now: datetime


@dataclass(frozen=True)
class Overview:
    org: OrganizationPlan
    usage: Usage
    allowance: Decimal
    projection: Projection

    @property
    def unit(self) -> Unit:
        return self.usage.unit or Unit.CREDITS

    @property
    def total(self) -> Decimal:
        return self.usage.limit or ZERO

    @property
    def percent(self) -> Decimal:
        return percent_used(self.usage.used, self.total)

    @property
    def run_out_warning(self) -> bool:
        run_out = self.projection.run_out_in_days
        return run_out is not None and run_out < self.usage.period.exact_days_remaining(self.usage.now)

    @property
    def monthly_used(self) -> Decimal:
        """What this period's use took from the monthly grant: it is spent before bonus credits."""
        drawn = max(ZERO, self.allowance - self.usage.monthly_remaining)
        return min(self.usage.used, drawn)

    @property
    def bonus_used(self) -> Decimal:
        return self.usage.used - self.monthly_used

    @property
    def monthly_percent(self) -> Decimal:
        return percent_used(self.monthly_used, self.total)

    @property
    def bonus_percent(self) -> Decimal:
        return self.percent - self.monthly_percent


@dataclass(frozen=True)
class ChartPoint:
    range: Range
    web: Decimal
    cli: Decimal
    other: Decimal


@dataclass(frozen=True)
class Chart:
    range: ChartRange
    unit: Unit
    points: list[ChartPoint]


@dataclass(frozen=True)
class Consumer:
    rank: int
    id: str
    name: str
    amount: Decimal
    requests: int
    percent: Decimal


@dataclass(frozen=True)
class ConsumerPage:
    kind: str
    unit: Unit
    consumers: list[Consumer]
    next_token: str
    total_count: int


@dataclass(frozen=True)
class ApiMetrics:
    """The HTTP API's own requests and their mean latency (one source: its request metrics
    recorder), the webhooks the organization recorded, and agent usage this period."""

    total_requests: Decimal
    webhook_events: Decimal
    served_requests: int
    average_latency_ms: Decimal
    registered_agents: int
    ephemeral_agents: int
    tasks_handled: int
    llm_tokens: Decimal

    @property
    def active_agents(self) -> int:
        return self.registered_agents + self.ephemeral_agents
