"""Mapping of report results to metering.v1 reporting messages."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from services.billing.store.statement import Statement
from services.gen.metering.v1 import metering_pb2 as mpb
from services.gen.metering.v1 import reporting_pb2 as pb
from services.kit.decimals import format_decimal
from services.kit.wire import decimal_or_empty, optional_timestamp, timestamp
from services.metering.domain.billing_period import BillingPeriod
from services.metering.domain.credits import Unit
from services.metering.domain.readings import QuotaView
from services.metering.store.alerts import Alert
from services.reporting.domain import results
from services.reporting.domain.advice import Advice
from services.reporting.domain.catalogue import BY_NAME
from services.reporting.domain.periods import ChartRange, Period, Range
from services.reporting.domain.usage_bar import UsageBar
from services.reporting.service.exports import Export
from services.reporting.service.invoices import Invoice, InvoiceDetail
from services.reporting.store.rate_limits import Bar

UNITS = {Unit.CREDITS: mpb.UNIT_CREDITS, Unit.USD: mpb.UNIT_USD}
PERIODS = {
    pb.REPORT_PERIOD_UNSPECIFIED: "", pb.REPORT_PERIOD_CURRENT: "current",
    pb.REPORT_PERIOD_LAST_MONTH: "last-month", pb.REPORT_PERIOD_LAST_QUARTER: "last-quarter",
    pb.REPORT_PERIOD_CUSTOM: "custom",
}
PERIOD_VALUES = {Period(v): k for k, v in PERIODS.items() if v}
GRANULARITIES = {pb.GRANULARITY_UNSPECIFIED: "", pb.GRANULARITY_DAILY: "daily",
                 pb.GRANULARITY_WEEKLY: "weekly", pb.GRANULARITY_MONTHLY: "monthly"}
CHART_RANGES = {pb.CHART_RANGE_UNSPECIFIED: "", pb.CHART_RANGE_24H: "24h", pb.CHART_RANGE_7D: "7d",
                pb.CHART_RANGE_30D: "30d"}
CHART_VALUES = {ChartRange(v): k for k, v in CHART_RANGES.items() if v}
KINDS = {pb.CONSUMER_KIND_WORKSPACE: "workspaces", pb.CONSUMER_KIND_WORKSPACE_GROUP: "workspace_groups",
         pb.CONSUMER_KIND_USER: "users"}
KIND_VALUES = {"workspace": pb.CONSUMER_KIND_WORKSPACE, "group": pb.CONSUMER_KIND_WORKSPACE_GROUP,
               "user": pb.CONSUMER_KIND_USER}
FORMATS = {pb.EXPORT_FORMAT_CSV: "csv", pb.EXPORT_FORMAT_JSON: "json"}
FORMAT_VALUES = {v: k for k, v in FORMATS.items()}
EXPORT_KINDS = {pb.EXPORT_KIND_UNSPECIFIED: "usage_events", pb.EXPORT_KIND_USAGE_EVENTS: "usage_events",
                pb.EXPORT_KIND_CREDIT_SPEND: "credit_spend",
                pb.EXPORT_KIND_RESOURCE_LIFETIMES: "resource_lifetimes"}
EXPORT_KIND_VALUES = {v: k for k, v in EXPORT_KINDS.items() if k}


def d(value: Decimal) -> str:
    return format_decimal(value)


def time_range(start: datetime, end: datetime) -> pb.TimeRange:
    return pb.TimeRange(start=timestamp(start), end=timestamp(end))


def period_range(period: BillingPeriod | Range) -> pb.TimeRange:
    return time_range(period.start, period.end)


def resource_use(figure: results.ResourceFigure) -> pb.ResourceUse:
    meter = BY_NAME.get(figure.resource)
    return pb.ResourceUse(resource=figure.resource, used=d(figure.used), limit=decimal_or_empty(figure.limit),
                          percentage=d(figure.percent), state=figure.state.value,
                          unit=meter.display_name if meter else "")


def summary(s: results.Summary) -> pb.GetUsageSummaryResponse:
    return pb.GetUsageSummaryResponse(org_id=s.org_id, period=period_range(s.period),
                                      resources=[resource_use(r) for r in s.resources])


def resource_report(r: results.ResourceReport) -> pb.GetResourceUsageResponse:
    return pb.GetResourceUsageResponse(
        resource_type=r.resource, period=PERIOD_VALUES[r.period], range=period_range(r.range),
        resources=[pb.ResourceConsumer(id=c.id, name=c.name, used=d(c.used), cost=d(c.cost), type=c.kind,
                                       tier=c.tier, status=c.status,
                                       daily_usage=[pb.DailyUse(date=x.day, used=d(x.used), cost=d(x.cost))
                                                    for x in c.days])
                   for c in r.consumers],
        total_used=d(r.total_used), total_limit=decimal_or_empty(r.total_limit),
        total_cost=d(r.total_cost), estimated_monthly_cost=d(r.estimated_monthly_cost),
    )


def history(points: list[results.HistoryPoint]) -> pb.GetUsageHistoryResponse:
    return pb.GetUsageHistoryResponse(points=[
        pb.HistoryPoint(date=p.start.date().isoformat(), total_cost=d(p.total_cost), resources=[
            pb.HistoryEntry(resource=e.resource, used=d(e.used), limit=decimal_or_empty(e.limit),
                            cost=d(e.cost))
            for e in p.entries
        ])
        for p in points
    ])


def quota(view: QuotaView) -> pb.QuotaUsage:
    limits = view.limits
    return pb.QuotaUsage(
        resource=view.resource, soft_limit=decimal_or_empty(limits.soft_limit),
        hard_limit=decimal_or_empty(limits.hard_limit), plan_limit=decimal_or_empty(limits.plan_limit),
        current_usage=d(view.used), warning_threshold=80, alert_at_percent=limits.alert_at_percent or 0,
        alert_enabled=limits.alert_enabled, updated_at=timestamp(view.updated_at),
    )


def alert(a: Alert) -> pb.QuotaAlert:
    return pb.QuotaAlert(
        id=a.alert_id, resource=a.resource, current_usage=d(a.current_usage),
        quota_limit=d(a.quota_limit), usage_percent=d(a.usage_percent), severity=a.severity,
        status=a.status, triggered_at=timestamp(a.triggered_at),
        resolved_at=optional_timestamp(a.resolved_at), message=a.message,
    )


def projections(p: results.Projections) -> pb.GetProjectionsResponse:
    return pb.GetProjectionsResponse(
        projection_date=p.now.date().isoformat(), period_end=timestamp(p.period.end),
        days_remaining=p.period.days_remaining(p.now),
        projections=[
            pb.ResourceProjection(
                resource=i.resource, current_usage=d(i.used), daily_growth=d(i.projection.average_per_day),
                projected_period_end=d(i.projection.projected_period_end),
                quota_limit=decimal_or_empty(i.limit), will_exceed_quota=i.projection.will_exceed,
                run_out_in_days=decimal_or_empty(i.projection.run_out_in_days),
            )
            for i in p.items
        ],
    )


def costs(c: results.CostReport) -> pb.GetCostAnalysisResponse:
    return pb.GetCostAnalysisResponse(
        period=PERIOD_VALUES[c.period], range=period_range(c.range), total_cost=d(c.total_cost),
        breakdown=[pb.CostLine(resource=line.resource, usage=d(line.usage),
                               unit_cost=decimal_or_empty(line.unit_cost), total_cost=d(line.cost),
                               percentage=d(c.percent(line))) for line in c.lines],
        by_service=[pb.ServiceCost(service=s, costs={k: d(v) for k, v in cats.items()},
                                   total_cost=d(sum(cats.values(), Decimal(0))))
                    for s, cats in c.by_service().items()],
        by_user=[pb.UserCost(user_id=u.user_id, name=u.name, cost_usd=d(u.cost)) for u in c.by_user],
        series=[pb.CostPoint(date=when.date().isoformat(), cost=d(v)) for when, v in c.series],
        estimated_monthly_total=d(c.estimated_monthly_total), daily_average=d(c.daily_average),
    )


def recommendation(a: Advice) -> pb.Recommendation:
    return pb.Recommendation(
        id=a.key, priority=a.priority, category=a.category, resource=a.resource, title=a.title,
        description=a.description, current_cost=d(a.current_cost), projected_savings=d(a.projected_savings),
        savings_percent=d(a.savings_percent), implementation_effort=a.effort,
        basis=[pb.RecommendationBasis(name=b.name, used=d(b.used), projected=decimal_or_empty(b.projected),
                                      limit=decimal_or_empty(b.limit)) for b in a.basis],
    )


def overview(o: results.Overview) -> pb.GetCreditOverviewResponse:
    u, p = o.usage, o.projection
    return pb.GetCreditOverviewResponse(
        org_id=u.org_id, plan_id=o.org.plan_id, plan_name=o.org.plan_name,
        plan_price_usd=decimal_or_empty(o.org.price_usd), unit=UNITS[o.unit],
        period=period_range(u.period), monthly_allowance=d(o.allowance),
        monthly_remaining=d(u.monthly_remaining), bonus_remaining=d(u.bonus_remaining),
        reserved=d(u.reserved), used=d(u.used), total=d(o.total), percentage=d(o.percent),
        days_remaining=u.period.days_remaining(u.now), days_elapsed=u.period.days_elapsed(u.now),
        average_per_day=d(p.average_per_day), run_out_in_days=decimal_or_empty(p.run_out_in_days),
        run_out_warning=o.run_out_warning, monthly_used=d(o.monthly_used), bonus_used=d(o.bonus_used),
        monthly_percentage=d(o.monthly_percent), bonus_percentage=d(o.bonus_percent),
    )


def usage_bar(b: UsageBar) -> pb.GetUsageBarResponse:
    return pb.GetUsageBarResponse(org_id=b.org_id, unit=UNITS[b.unit], used=d(b.used), total=d(b.total),
                                  percentage=d(b.percent), free_tier=b.free_tier,
                                  show_upgrade=b.show_upgrade, show_referral=b.show_referral)


def chart(c: results.Chart) -> pb.GetUsageChartResponse:
    return pb.GetUsageChartResponse(range=CHART_VALUES[c.range], unit=UNITS[c.unit], points=[
        pb.ChartPoint(start=timestamp(p.range.start), end=timestamp(p.range.end), web=d(p.web), cli=d(p.cli),
                      other=d(p.other))
        for p in c.points
    ])


def consumers(page: results.ConsumerPage) -> pb.ListTopConsumersResponse:
    return pb.ListTopConsumersResponse(
        kind=KIND_VALUES[page.kind], unit=UNITS[page.unit], next_page_token=page.next_token,
        total_count=page.total_count,
        consumers=[pb.Consumer(rank=c.rank, id=c.id, name=c.name, amount=d(c.amount), requests=c.requests,
                               percentage=d(c.percent)) for c in page.consumers],
    )


def api_metrics(m: results.ApiMetrics) -> pb.GetApiMetricsResponse:
    return pb.GetApiMetricsResponse(
        total_requests=d(m.total_requests), webhook_events=d(m.webhook_events),
        served_requests=m.served_requests, average_latency_ms=d(m.average_latency_ms),
        active_agents=m.active_agents, tasks_handled=m.tasks_handled, llm_tokens=d(m.llm_tokens),
        registered_agents=m.registered_agents, ephemeral_agents=m.ephemeral_agents,
    )


def rate_limits(ip: str, bars: list[Bar]) -> pb.GetRateLimitStatusResponse:
    return pb.GetRateLimitStatusResponse(ip=ip, bars=[
        pb.RateLimitBar(domain=b.domain, available=b.available, limit=b.limit, used=b.used,
                        remaining=b.remaining, percentage=d(b.percent) if b.available else "",
                        state=b.state, reset_seconds=d(b.reset_seconds) if b.available else "")
        for b in bars
    ])


def invoice(i: Invoice) -> pb.Invoice:
    return pb.Invoice(invoice_id=i.invoice_id, period=time_range(i.period_start, i.period_end),
                      amount_usd=d(i.amount) if i.currency == "usd" else "", amount=d(i.amount),
                      currency=i.currency, status=i.status, due_date=optional_timestamp(i.due_date),
                      pdf_url=i.pdf_url)


def invoice_detail(found: InvoiceDetail) -> pb.GetInvoiceResponse:
    return pb.GetInvoiceResponse(
        invoice=invoice(found.invoice), plan_id=found.billed.plan_id,
        lines=[pb.InvoiceLineItem(description=line.description, meter=line.meter,
                                  quantity=decimal_or_empty(line.quantity), unit=line.unit,
                                  unit_price_usd=decimal_or_empty(line.unit_price), amount_usd=d(line.amount))
               for line in found.lines],
        lines_total_usd=format(found.billed.total_usd, "f"))


def subscription(s: Statement) -> pb.GetSubscriptionResponse:
    metrics = []
    for m in s.meters:
        usage, unit = m.display_usage()
        metrics.append(pb.UsageMetric(name=m.meter, display_name=m.display_name, usage=d(usage), unit=unit,
                                      price_per_unit=decimal_or_empty(m.unit_price_usd)))
    return pb.GetSubscriptionResponse(
        organization_id=s.org_id, stripe_customer_id=s.stripe_customer_id or "",
        subscription_id=s.subscription_id or "", plan=s.plan_id, status="active",
        billing_cycle=period_range(s.period), usage_based_metrics=metrics,
        estimated_total_cost=d(s.estimated_total_usd), next_billing_date=timestamp(s.period.end),
    )


def export(e: Export, download_url: str) -> pb.UsageExport:
    return pb.UsageExport(
        export_id=e.export_id, status=e.status, format=FORMAT_VALUES[e.format], file_size_bytes=e.size_bytes,
        row_count=e.row_count, download_url=download_url if e.downloadable else "",
        kind=EXPORT_KIND_VALUES[e.kind],
        expires_at=timestamp(e.expires_at), created_at=timestamp(e.created_at), error=e.error or "",
    )
