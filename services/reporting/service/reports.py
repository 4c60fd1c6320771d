"""The reports: one function per question the usage and billing pages ask. Both transports call these.

Each takes validated values, reads what it needs through the store (reusing the metering store's
quota, alert and usage reads, so the figures equal GetQuota's and Project's), and returns plain
dataclasses that the transports map to protobuf or JSON.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from decimal import Decimal

import asyncpg

from services.billing.service.payments import Payments
from services.billing.store.statement import Statement
from services.kit.decimals import ZERO
from services.metering.domain.billing_period import BillingPeriod
from services.metering.domain.credits import Unit
from services.metering.domain.quota import project
from services.metering.domain.readings import QuotaView, WorkspaceDay
from services.metering.domain.usage_model import Aggregation, span_figure
from services.metering.service.administration import Administration
from services.metering.service.organizations import unknown_organization
from services.metering.service.usage_reads import read_usage
from services.metering.store import alerts as alert_store
from services.metering.store import quota_limits, usage_figures
from services.metering.store.alerts import Alert
from services.reporting.domain import advice, billed, catalogue, costs
from services.reporting.domain.catalogue import AGENT_CREDITS, LEDGER_PRICED
from services.reporting.domain.figures import Page, mean, money, next_token, per_day, share, total
from services.reporting.domain.periods import (
    ChartRange,
    Granularity,
    Period,
    Range,
    buckets,
    chart_buckets,
    history_range,
    report_range,
)
from services.reporting.domain.results import (
    ApiMetrics,
    Chart,
    ChartPoint,
    Consumer,
    ConsumerPage,
    ConsumerUse,
    CostReport,
    DayFigure,
    HistoryEntry,
    HistoryPoint,
    OrganizationPlan,
    Overview,
    Projections,
    QuotaList,
    ResourceFigure,
    ResourceProjection,
    ResourceReport,
    Summary,
)
from services.reporting.domain.usage_bar import UsageBar, usage_bar
from services.reporting.service import invoices as billing
from services.reporting.store import reads as store

TRUNC = {Granularity.DAILY: "day", Granularity.WEEKLY: "week", Granularity.MONTHLY: "month"}
OLD_BACKUPS = timedelta(days=advice.OLD_BACKUP_DAYS)
SECOND = timedelta(seconds=1)


class Reports:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.administration = Administration(pool)
        self.payments = Payments(pool)  # the billing page's payment methods and collection

    @asynccontextmanager
    async def _conn(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.pool.acquire() as conn:
            yield conn

    async def require_organization(self, org_id: str) -> None:
        async with self._conn() as conn:
            await _organization(conn, org_id)

    # --- usage ---------------------------------------------------------------------------

    async def summary(self, org_id: str) -> Summary:
        async with self._conn() as conn:
            credits = await read_usage(conn, org_id, "")
            figures = await store.meter_totals(conn, org_id, credits.period.start, credits.period.end)
            limits = await _limits(conn, org_id)
            segments = await store.billed_segments(conn, org_id, credits.now, credits.now + SECOND)
        used = {meter: figure.used for meter, figure in figures.items()}
        for b in billed.bill(segments, Range(credits.period.start, credits.now + SECOND), credits.now):
            if b.status == "running":
                used[b.resource] = used.get(b.resource, ZERO) + b.quantity
        lines = [ResourceFigure(r, used.get(r, ZERO), limits.get(r)) for r in catalogue.SUMMARY]
        lines.append(ResourceFigure(catalogue.CREDITS, credits.used, credits.limit))
        return Summary(org_id, credits.period, lines)

    async def resource_usage(self, org_id: str, resource: str, period: Period, start: datetime | None = None,
                             end: datetime | None = None,
                             fields: tuple[str, str] = ("from", "to")) -> ResourceReport:
        async with self._conn() as conn:
            org = await _organization(conn, org_id)
            window = report_range(period, org.billing_anchor, org.now, start, end, fields)
            days = await store.meter_by_workspace_day(conn, org_id, resource, window.start, window.end)
            totals = await store.meter_totals(conn, org_id, window.start, window.end, resource)
            metered = totals.get(resource)
            limit = (await _limits(conn, org_id)).get(resource)
            current = report_range(Period.CURRENT, org.billing_anchor, org.now)
            segments = await store.billed_segments(conn, org_id, window.start, window.end)
        listed = sorted(_workspace_consumers(resource, days), key=lambda c: (-c.used, c.id))
        resources = [_billed_consumer(b) for b in billed.bill(segments, window, org.now)
                     if b.resource == resource]
        used = (ZERO if metered is None else metered.used) + total(
            c.used for c in resources if c.status == "running")
        billed_cost = total(c.cost for c in resources)
        elapsed = BillingPeriod(window.start, window.end).exact_days_elapsed(org.now)
        if metered is None or metered.aggregation.accumulates:
            metered_cost = total(c.cost for c in listed)
            estimate = per_day(metered_cost + billed_cost, elapsed) * current.days
        else:  # a gauge's price is for the figure held over the period: it projects flat
            metered_cost = money(metered.cost)
            estimate = metered_cost + per_day(billed_cost, elapsed) * current.days
        return ResourceReport(resource, period, window, resources + listed, used, limit,
                              metered_cost + billed_cost, money(estimate))

    async def history(self, org_id: str, granularity: Granularity, resource: str,
                      months: int) -> list[HistoryPoint]:
        async with self._conn() as conn:
            org = await _organization(conn, org_id)
            window = history_range(granularity, months, org.now)
            meters = await store.meter_buckets(conn, org_id, window.start, window.end,
                                               TRUNC[granularity], resource)
            spend = await store.spend_buckets(conn, org_id, window.start, window.end, TRUNC[granularity])
            limits = await _limits(conn, org_id)
            segments = await store.billed_segments(conn, org_id, window.start, window.end)
        cells: dict[tuple[datetime, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
        for b in billed.bill(segments, window, org.now):
            if not resource or resource == b.resource:
                for day, cost in b.costs.items():
                    cells[(costs.naive(costs.day_bucket(granularity, day)), b.resource)][1] += cost
        for figure in meters:
            cell = cells[(costs.naive(figure.bucket), figure.meter)]
            cell[0] += figure.used
            cell[1] += ZERO if figure.meter == LEDGER_PRICED else figure.cost
        for row in spend:
            name = LEDGER_PRICED if row.llm else AGENT_CREDITS.name
            if not resource or resource == name:
                cells[(costs.naive(row.bucket), name)][1] += costs.usd(row)
        names = sorted({name for _, name in cells}, key=costs.resource_order)
        return [
            HistoryPoint(b.start, [
                HistoryEntry(name, cells[(costs.naive(b.start), name)][0], limits.get(name),
                             money(cells[(costs.naive(b.start), name)][1]))
                for name in names
            ])
            for b in buckets(granularity, window)
        ]

    async def quotas(self, org_id: str) -> QuotaList:
        async with self._conn() as conn:
            await _organization(conn, org_id)
            return QuotaList(org_id, await quota_limits.list_quotas(conn, org_id))

    async def set_quota(self, org_id: str, resource: str, soft: Decimal | None, hard: Decimal | None,
                        alert_at_percent: int | None, alert_enabled: bool) -> QuotaView:
        return await self.administration.set_quota(org_id, resource, soft, hard, alert_at_percent,
                                                   alert_enabled)

    async def set_budget_alert(self, org_id: str, resource: str, alert_at_percent: int | None,
                               alert_enabled: bool) -> QuotaView:
        return await self.administration.set_budget_alert(org_id, resource, alert_at_percent, alert_enabled)

    async def alerts(self, org_id: str, severity: str, status: str, resource: str) -> list[Alert]:
        async with self._conn() as conn:
            await _organization(conn, org_id)
            return await alert_store.list_alerts(conn, org_id, severity, status, resource)

    async def projections(self, org_id: str, resource: str) -> Projections:
        async with self._conn() as conn:
            credits = await read_usage(conn, org_id, "")
            figures = await store.meter_totals(conn, org_id, credits.period.start, credits.period.end)
            kinds = await usage_figures.aggregations(conn)
            limits = await _limits(conn, org_id)
        period, now = credits.period, credits.now
        items = []
        if not resource or resource == catalogue.CREDITS:
            items.append(ResourceProjection(
                catalogue.CREDITS, credits.used, credits.limit,
                project(credits.used, credits.left, credits.limit, period, now)))
        for name in [resource] if resource and resource != catalogue.CREDITS else catalogue.SUMMARY:
            value = figures[name].used if name in figures else ZERO
            limit, kind = limits.get(name), kinds.get(name, Aggregation.SUM)
            left = None if limit is None else limit - value
            projection = project(value, left, limit, period, now, kind)
            items.append(ResourceProjection(name, value, limit, projection))
        return Projections(now, period, items)

    # --- costs ---------------------------------------------------------------------------

    async def costs(self, org_id: str, period: Period, resource: str,
                    granularity: Granularity) -> CostReport:
        async with self._conn() as conn:
            org = await _organization(conn, org_id)
            window = report_range(period, org.billing_anchor, org.now)
            meters = await store.meter_buckets(conn, org_id, window.start, window.end,
                                               TRUNC[granularity], resource)
            figures = await store.meter_totals(conn, org_id, window.start, window.end, resource)
            spend = await store.spend_buckets(conn, org_id, window.start, window.end, TRUNC[granularity])
            prices = await store.unit_prices(conn, min(org.now, window.end))
            segments = await store.billed_segments(conn, org_id, window.start, window.end)
        resources = [b for b in billed.bill(segments, window, org.now)
                     if not resource or b.resource == resource]
        return costs.cost_report(period, window, org.now, resource, meters, figures, spend, prices,
                                 granularity, resources)

    async def recommendations(self, org_id: str) -> list[advice.Advice]:
        async with self._conn() as conn:
            org = await _organization(conn, org_id)
            credits = await read_usage(conn, org_id, "")
            period = credits.period
            figures = await store.meter_totals(conn, org_id, period.start, period.end)
            plan_rows, limit_rows = await store.plans(conn)
            prices = await store.unit_prices(conn, org.now)
            backups = await store.meter_before(conn, org_id, "backups_gb",
                                               org.now - OLD_BACKUPS)
            spend = await store.workspace_spend(conn, org_id, period.start, period.end)
            segments = await store.billed_segments(conn, org_id, org.now, org.now + SECOND)
            namespace_price = await store.namespace_price(conn, org.now)
        offers = _offers(plan_rows, limit_rows)
        use = {m: _use(f.used, period, credits.now, f.aggregation) for m, f in figures.items()}
        credit_use = _use(credits.used, period, credits.now) if org.billing_model == "credits" else None
        found = [
            advice.right_size_plan(offers[org.plan_id], list(offers.values()), use, credit_use),
            _old_backups(backups, prices.get("backups_gb"),
                         billed.bill(segments, Range(org.now, org.now + SECOND), org.now),
                         org.now - OLD_BACKUPS),
            advice.under_used_namespaces(spend, namespace_price),
        ]
        return [a for a in found if a is not None]

    # --- the credit usage page -----------------------------------------------------------

    async def overview(self, org_id: str) -> Overview:
        async with self._conn() as conn:
            org = await _organization(conn, org_id)
            usage = await read_usage(conn, org_id, "")
            allowance = await store.period_allowance(conn, org_id, usage.period.start)
        if allowance is None:  # the period has not been opened by a write yet
            allowance = usage.monthly_remaining
        projection = project(usage.used, usage.left, usage.limit, usage.period, usage.now)
        return Overview(org, usage, allowance, projection)

    async def usage_bar(self, org_id: str) -> UsageBar:
        """The in-editor bar, from the overview's own figures."""
        return usage_bar(await self.overview(org_id))

    async def chart(self, org_id: str, chart: ChartRange) -> Chart:
        async with self._conn() as conn:
            org = await _organization(conn, org_id)
            unit = Unit.of_billing_model(org.billing_model)
            spans = chart_buckets(chart, org.now)
            width = int((spans[0].end - spans[0].start).total_seconds())
            rows = await store.chart(conn, org_id, spans[0].start, spans[-1].end, width, unit.value)
        amounts: dict[tuple[datetime, str], Decimal] = defaultdict(lambda: ZERO)
        for row in rows:
            source = row.source if row.source in ("web", "cli") else "other"
            amounts[(row.bucket, source)] += row.amount
        return Chart(chart, unit, [
            ChartPoint(s, amounts[(s.start, "web")], amounts[(s.start, "cli")], amounts[(s.start, "other")])
            for s in spans
        ])

    async def top(self, org_id: str, kind: str, page: Page) -> ConsumerPage:
        async with self._conn() as conn:
            org = await _organization(conn, org_id)
            unit = Unit.of_billing_model(org.billing_model)
            credits = await read_usage(conn, org_id, "")
            rows = await store.top(conn, kind, org_id, credits.period.start, credits.period.end,
                                   unit.value, page.size, page.offset)
        count = rows[0].total_count if rows else 0
        consumers = [
            Consumer(page.offset + i + 1, r.id, r.name, r.amount, r.requests, share(r.amount, r.org_amount))
            for i, r in enumerate(rows)
        ]
        return ConsumerPage(kind, unit, consumers, next_token(page, count) if rows else "", count)

    async def invoices(self, org_id: str) -> list[billing.Invoice]:
        async with self._conn() as conn:
            await _organization(conn, org_id)
            return await billing.invoices(conn, org_id)

    async def invoice(self, org_id: str, invoice_id: str) -> billing.InvoiceDetail:
        async with self._conn() as conn:
            await _organization(conn, org_id)
            return await billing.invoice_detail(conn, org_id, invoice_id)

    async def subscription(self, org_id: str) -> Statement:
        async with self._conn() as conn:
            await _organization(conn, org_id)
            return await billing.subscription(conn, org_id)

    async def api_metrics(self, org_id: str) -> ApiMetrics:
        async with self._conn() as conn:
            await _organization(conn, org_id)
            credits = await read_usage(conn, org_id, "")
            webhooks = await store.meter_all_time(conn, org_id, "webhook_events")
            served = await store.served(conn, org_id)
            agents = await store.agent_usage(conn, org_id, credits.period.start, credits.period.end)
        http = int(served.http_requests)
        latency = mean(served.http_latency_ms_sum, http)
        return ApiMetrics(Decimal(http), webhooks, int(served.requests), latency, agents.registered,
                          agents.ephemeral, agents.tasks, agents.tokens)


async def _limits(conn: asyncpg.Connection, org_id: str) -> dict[str, Decimal | None]:
    """Each resource's limit: its quota's alert base (soft, else hard, else plan limit)."""
    views = await quota_limits.list_quotas(conn, org_id)
    return {v.resource: v.limits.base for v in views}


def _use(used: Decimal, period: BillingPeriod, now: datetime,
         kind: Aggregation = Aggregation.SUM) -> advice.Use:
    return advice.Use(used, project(used, None, None, period, now, kind).projected_period_end)


def _offers(plans: list[store.Plan], limits: list[store.PlanLimit]) -> dict[str, advice.PlanOffer]:
    by_plan: dict[str, dict[str, Decimal | None]] = defaultdict(dict)
    for limit in limits:
        by_plan[limit.plan_id][limit.meter] = limit.limit_quantity
    return {p.plan_id: advice.PlanOffer(p.plan_id, p.name, p.price_usd, p.monthly_credits, by_plan[p.plan_id])
            for p in plans}


def _workspace_consumers(resource: str, days: list[WorkspaceDay]) -> list[ConsumerUse]:
    """Each workspace's figure over the window from its daily figures (by the meter's kind); a
    gauge costs its figure at the unit price of its latest day."""
    by_workspace: dict[str, list[WorkspaceDay]] = defaultdict(list)
    for day in days:
        by_workspace[day.workspace_id].append(day)
    consumers = []
    for workspace_id, rows in by_workspace.items():
        kind, latest = rows[0].aggregation, max(rows, key=lambda r: r.day)
        used = span_figure(kind, ((r.day, r.used) for r in rows))
        if resource == LEDGER_PRICED:
            cost = ZERO
        elif kind.accumulates:
            cost = total(r.cost for r in rows)
        else:
            cost = used * (latest.unit_usd or ZERO)
        figures = [DayFigure(r.day.isoformat(), r.used, ZERO if resource == LEDGER_PRICED else money(r.cost))
                   for r in rows]
        consumers.append(ConsumerUse(workspace_id, rows[0].name, used, money(cost), figures))
    return consumers


def _billed_consumer(b: billed.Billed) -> ConsumerUse:
    days = [DayFigure(day.isoformat(), b.hours[day], money(b.costs[day])) for day in sorted(b.hours)]
    return ConsumerUse(b.resource_id, b.name, b.quantity, money(b.cost), days, b.kind, b.tier, b.status)


def _old_backups(metered_gb: Decimal, unit_price: Decimal | None, running: list[billed.Billed],
                 before: datetime) -> advice.Advice | None:
    """Backups recorded, or backup resources created, more than 90 days ago, at what they cost a month."""
    old = [b for b in running
           if b.resource == "backups_gb" and b.status == "running" and b.created_at < before]
    gb = metered_gb + total(b.quantity for b in old)
    cost = metered_gb * (unit_price or ZERO) + total(b.monthly_cost for b in old)
    return advice.old_backups(gb, cost)


async def _organization(conn: asyncpg.Connection, org_id: str) -> OrganizationPlan:
    org = await store.find_organization(conn, org_id)
    if org is None:
        raise unknown_organization(org_id)
    return org
