"""The JSON shapes of the /api/v1 answers (and of the dashboard's own routes) from report results.

Quantities, money and percentages are decimal strings (as on the gRPC wire), never binary floats;
counts are JSON integers; timestamps RFC 3339 UTC; an absent limit is null.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from services.billing.store.statement import Statement
from services.kit.decimals import format_decimal
from services.metering.domain.readings import QuotaView
from services.metering.store.alerts import Alert
from services.reporting.domain import results
from services.reporting.domain.advice import Advice
from services.reporting.domain.usage_bar import UsageBar
from services.reporting.service.exports import Export
from services.reporting.service.invoices import Invoice
from services.reporting.store.rate_limits import Bar

Json = dict[str, Any]


def d(value: Decimal | None) -> str | None:
    return None if value is None else format_decimal(value)


def ts(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def summary(s: results.Summary) -> Json:
    out: Json = {"organization_id": s.org_id, "period_start": ts(s.period.start),
                 "period_end": ts(s.period.end)}
    for r in s.resources:
        out[r.resource] = {"used": d(r.used), "limit": d(r.limit), "percentage": d(r.percent),
                           "state": r.state.value}
    return out


def resource_report(r: results.ResourceReport) -> Json:
    return {
        "resource_type": r.resource, "period": r.period.value, "period_start": ts(r.range.start),
        "period_end": ts(r.range.end),
        "resources": [{"id": c.id, "name": c.name, "type": c.kind or None, "tier": c.tier or None,
                       "status": c.status or None, "used": d(c.used), "cost": d(c.cost),
                       "daily_usage": [{"date": x.day, "used": d(x.used), "cost": d(x.cost)} for x in c.days]}
                      for c in r.consumers],
        "total_used": d(r.total_used), "total_limit": d(r.total_limit), "total_cost": d(r.total_cost),
        "estimated_monthly_cost": d(r.estimated_monthly_cost),
    }


def history(points: list[results.HistoryPoint]) -> list[Json]:
    out = []
    for p in points:
        item: Json = {"date": p.start.date().isoformat()}
        for e in p.entries:
            item[e.resource] = {"used": d(e.used), "limit": d(e.limit), "cost": d(e.cost)}
        item["total_cost"] = d(p.total_cost)
        out.append(item)
    return out


def quota(view: QuotaView) -> Json:
    limits = view.limits
    return {"resource": view.resource, "soft_limit": d(limits.soft_limit), "hard_limit": d(limits.hard_limit),
            "plan_limit": d(limits.plan_limit), "current_usage": d(view.used), "warning_threshold": 80,
            "alert_at_percent": limits.alert_at_percent, "alert_enabled": limits.alert_enabled,
            "updated_at": ts(view.updated_at)}


def quotas(listed: results.QuotaList) -> Json:
    return {"organization_id": listed.org_id, "quotas": [quota(v) for v in listed.quotas]}


def quota_set(view: QuotaView) -> Json:
    limits = view.limits
    return {"resource": view.resource, "soft_limit": d(limits.soft_limit), "hard_limit": d(limits.hard_limit),
            "alert_at_percent": limits.alert_at_percent, "alert_enabled": limits.alert_enabled,
            "current_usage": d(view.used), "updated_at": ts(view.updated_at)}


def alert(a: Alert) -> Json:
    return {"id": a.alert_id, "resource": a.resource, "current_usage": d(a.current_usage),
            "quota_limit": d(a.quota_limit), "usage_percent": d(a.usage_percent),
            "severity": a.severity, "status": a.status, "triggered_at": ts(a.triggered_at),
            "resolved_at": ts(a.resolved_at), "message": a.message}


def projections(p: results.Projections) -> Json:
    return {
        "projection_date": p.now.date().isoformat(), "period_end": ts(p.period.end),
        "days_remaining": p.period.days_remaining(p.now),
        "projections": [
            {"resource": i.resource, "current_usage": d(i.used),
             "daily_growth": d(i.projection.average_per_day),
             "projected_month_end": d(i.projection.projected_period_end), "quota_limit": d(i.limit),
             "will_exceed_quota": i.projection.will_exceed,
             "run_out_in_days": d(i.projection.run_out_in_days)}
            for i in p.items
        ],
    }


def costs(c: results.CostReport) -> Json:
    return {
        "period": c.period.value, "period_start": ts(c.range.start), "period_end": ts(c.range.end),
        "total_cost": d(c.total_cost),
        "breakdown": [{"resource": line.resource, "usage": d(line.usage), "unit_cost": d(line.unit_cost),
                       "total_cost": d(line.cost), "percentage": d(c.percent(line))} for line in c.lines],
        "by_service": {s: {**{k: d(v) for k, v in cats.items()},
                           "total_cost": d(sum(cats.values(), Decimal(0)))}
                       for s, cats in c.by_service().items()},
        "by_user": [{"user_id": u.user_id, "name": u.name, "cost_usd": d(u.cost)} for u in c.by_user],
        "series": [{"date": when.date().isoformat(), "cost": d(v)} for when, v in c.series],
        "estimated_monthly_total": d(c.estimated_monthly_total), "daily_average": d(c.daily_average),
    }


def recommendation(a: Advice) -> Json:
    return {"id": a.key, "priority": a.priority, "category": a.category, "resource": a.resource,
            "title": a.title, "description": a.description, "current_cost": d(a.current_cost),
            "projected_savings": d(a.projected_savings), "savings_percent": d(a.savings_percent),
            "implementation_effort": a.effort,
            "basis": [{"name": b.name, "used": d(b.used), "projected": d(b.projected), "limit": d(b.limit)}
                      for b in a.basis]}


def overview(o: results.Overview) -> Json:
    u, p = o.usage, o.projection
    return {
        "organization_id": u.org_id, "plan": {"id": o.org.plan_id, "name": o.org.plan_name,
                                              "price_usd": d(o.org.price_usd)},
        "unit": o.unit.value, "period_start": ts(u.period.start), "period_end": ts(u.period.end),
        "monthly_allowance": d(o.allowance), "monthly_remaining": d(u.monthly_remaining),
        "bonus_remaining": d(u.bonus_remaining), "reserved": d(u.reserved), "used": d(u.used),
        "total": d(o.total), "percentage": d(o.percent),
        "days_remaining": u.period.days_remaining(u.now), "days_elapsed": u.period.days_elapsed(u.now),
        "average_per_day": d(p.average_per_day), "run_out_in_days": d(p.run_out_in_days),
        "run_out_warning": o.run_out_warning, "monthly_used": d(o.monthly_used),
        "bonus_used": d(o.bonus_used), "monthly_percentage": d(o.monthly_percent),
        "bonus_percentage": d(o.bonus_percent),
    }


def usage_bar(b: UsageBar) -> Json:
    return {"organization_id": b.org_id, "unit": b.unit.value, "used": d(b.used), "total": d(b.total),
            "percentage": d(b.percent), "free_tier": b.free_tier, "show_upgrade": b.show_upgrade,
            "show_referral": b.show_referral}


def chart(c: results.Chart) -> Json:
    return {"range": c.range.value, "unit": c.unit.value,
            "points": [{"start": ts(p.range.start), "end": ts(p.range.end), "web": d(p.web), "cli": d(p.cli),
                        "other": d(p.other)} for p in c.points]}


def consumers(page: results.ConsumerPage) -> Json:
    return {"kind": page.kind, "unit": page.unit.value, "total_count": page.total_count,
            "next_page_token": page.next_token or None,
            "items": [{"rank": c.rank, "id": c.id, "name": c.name, "amount": d(c.amount),
                       "requests": c.requests, "percentage": d(c.percent)} for c in page.consumers]}


def api_metrics(m: results.ApiMetrics) -> Json:
    return {"api_usage": {"total_requests": d(m.total_requests), "webhook_events": d(m.webhook_events),
                          "served_requests": m.served_requests,
                          "average_latency_ms": d(m.average_latency_ms)},
            "agent_usage": {"active_agents": m.active_agents, "registered_agents": m.registered_agents,
                            "ephemeral_agents": m.ephemeral_agents, "tasks_handled": m.tasks_handled,
                            "llm_tokens": d(m.llm_tokens)}}


def rate_limits(ip: str, bars: list[Bar]) -> Json:
    return {"ip": ip, "bars": [
        {"domain": b.domain, "available": b.available, "limit": b.limit if b.available else None,
         "used": b.used if b.available else None, "remaining": b.remaining if b.available else None,
         "percentage": d(b.percent) if b.available else None, "state": b.state or None,
         "reset_seconds": d(b.reset_seconds) if b.available else None}
        for b in bars
    ]}


def invoice(i: Invoice) -> Json:
    return {"invoice_id": i.invoice_id, "period_start": ts(i.period_start), "period_end": ts(i.period_end),
            "amount": d(i.amount), "currency": i.currency, "status": i.status, "due_date": ts(i.due_date),
            "pdf_url": i.pdf_url or None}


def subscription(s: Statement) -> Json:
    metrics = []
    for m in s.meters:
        usage, unit = m.display_usage()
        metrics.append({"name": m.meter, "display_name": m.display_name, "usage": d(usage), "unit": unit,
                        "price_per_unit": d(m.unit_price_usd), "cost": d(m.cost_usd)})
    return {
        "organization_id": s.org_id, "stripe_customer_id": s.stripe_customer_id,
        "subscription_id": s.subscription_id, "plan": s.plan_id, "status": "active",
        "billing_cycle": {"current_period_start": ts(s.period.start), "current_period_end": ts(s.period.end)},
        "usage_based_metrics": metrics, "usage_as_of": ts(s.usage_as_of),
        "estimated_total_cost": d(s.estimated_total_usd), "next_billing_date": ts(s.period.end),
    }


def export(e: Export, download_url: str) -> Json:
    return {"export_id": e.export_id, "status": e.status, "kind": e.kind, "format": e.format,
            "file_size_bytes": e.size_bytes if e.downloadable else None,
            "row_count": e.row_count if e.downloadable else None,
            "download_url": download_url if e.downloadable else None, "expires_at": ts(e.expires_at),
            "created_at": ts(e.created_at), "error": e.error}
