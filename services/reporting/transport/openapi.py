"""The OpenAPI 3.1 document of the HTTP/JSON API, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from services.reporting.domain.catalogue import ALIASES, BY_NAME, CREDITS
from services.reporting.domain.figures import MAX_PAGE
from services.reporting.domain.periods import ChartRange, Granularity, Period
from services.reporting.transport.openapi_billing import billing_paths
from services.reporting.transport.openapi_plans import plan_paths
from services.reporting.transport.params import ALERT_SEVERITIES, ALERT_STATUSES, KINDS

Json = dict[str, Any]
RESOURCE_TYPES = sorted({*BY_NAME, *ALIASES})

DECIMAL: Json = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$",
                 "description": "An exact decimal as a string (never a binary float), e.g. \"12.5\"."}
NULLABLE_DECIMAL: Json = {"oneOf": [{"$ref": "#/components/schemas/Decimal"}, {"type": "null"}]}
TIME: Json = {"type": "string", "format": "date-time"}
USED: Json = {"type": "object", "properties": {
    "used": {"$ref": "#/components/schemas/Decimal"}, "limit": NULLABLE_DECIMAL,
    "percentage": {"$ref": "#/components/schemas/Decimal"},
    "state": {"enum": ["ok", "warning", "critical", "overage"]}}}


def _q(name: str, description: str, enum: list[str] | None = None, schema: Json | None = None) -> Json:
    """An optional query parameter: left out, it takes its default; sent, it may not be empty."""
    chosen: Json = schema or ({"enum": enum} if enum else {"type": "string", "minLength": 1})
    return {"name": name, "in": "query", "required": False, "allowEmptyValue": False,
            "description": description, "schema": chosen}


def _p(name: str, description: str, enum: list[str] | None = None, max_length: int | None = None) -> Json:
    schema: Json = {"enum": enum} if enum else {"type": "string", "minLength": 1}
    if max_length:
        schema["maxLength"] = max_length
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}


def _whole(least: int, most: int) -> Json:
    return {"type": "integer", "minimum": least, "maximum": most}


ORG = _q("org_id", "Organization; required with a platform admin key, otherwise the key's own.")
PERIOD = _q("period", "Billing period(s) covered; default current.", [p.value for p in Period])
GRANULARITY = _q("granularity", "Bucket size; default daily.", [g.value for g in Granularity])
RESOURCE_TYPE = _q("resource_type", "Only this resource", RESOURCE_TYPES)
EXPORT_ID = _p("export_id", "From POST /usage/export", max_length=64)
MOMENT: Json = {"type": "string", "format": "date-time",
                "description": "RFC 3339 with a time zone, e.g. 2024-11-01T00:00:00Z"}


ERRORS = (("400", "BadRequest"), ("401", "Unauthorized"), ("403", "Forbidden"), ("404", "NotFound"),
          ("409", "Conflict"), ("429", "TooManyRequests"), ("503", "Unavailable"))


def _op(summary: str, rpc: str, response: Json, parameters: list[Json] | None = None,
        body: Json | None = None, status: str = "200", content: Json | None = None) -> Json:
    op: Json = {
        "summary": summary,
        "description": f"Access rule of metering.v1 `{rpc}`.",
        "parameters": [ORG, *(parameters or [])],
        "responses": {
            status: {"description": "OK",
                     "content": content or {"application/json": {"schema": response}}},
            **{code: {"$ref": f"#/components/responses/{name}"} for code, name in ERRORS},
        },
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}},
                             "description": "A JSON object; a missing or empty body is 400 (field `body`)."}
    return op


def _options(methods: str, path_parameters: list[Json]) -> Json:
    allow: Json = {"required": True, "schema": {"type": "string", "const": methods}}
    return {"summary": "The methods this path answers", "security": [], "parameters": path_parameters,
            "responses": {"204": {"description": "No content; the `Allow` header lists the methods",
                                  "headers": {"Allow": allow}}}}


def _obj(**properties: Json) -> Json:
    return {"type": "object", "properties": properties}


def _arr(items: Json) -> Json:
    return {"type": "array", "items": items}


D: Json = {"$ref": "#/components/schemas/Decimal"}
S: Json = {"type": "string"}
N: Json = {"type": "integer"}
B: Json = {"type": "boolean"}
NI: Json = {"type": ["integer", "null"]}
NS: Json = {"type": ["string", "null"]}
LIMIT: Json = {"oneOf": [{"type": "string", "enum": [""]}, D, {"type": "number", "minimum": 0},
                         {"type": "null"}]}
# The fields of a quota update, of which a request must set at least one.
QUOTA_FIELDS = ("soft_limit", "hard_limit", "alert_at_percent", "alert_enabled")
BUDGET_ALERT_FIELDS = ("alert_at_percent", "alert_enabled")

QUOTA = _obj(resource=S, soft_limit=NULLABLE_DECIMAL, hard_limit=NULLABLE_DECIMAL,
             plan_limit=NULLABLE_DECIMAL,
             current_usage=D, warning_threshold=N, alert_at_percent=NI,
             alert_enabled=B, updated_at=TIME)
EXPORT_KINDS = {"enum": ["usage_events", "credit_spend", "resource_lifetimes"]}
EXPORT = _obj(export_id=S, status={"enum": ["processing", "completed", "failed", "expired"]},
              kind=EXPORT_KINDS, format={"enum": ["csv", "json"]}, file_size_bytes=NI,
              row_count=NI,
              download_url={**NS, "description": "Absolute URL of the file: METERING_PUBLIC_URL, else the "
                                                 "request's X-Forwarded-Proto/-Host or its own Host"},
              expires_at=TIME, created_at=TIME, error=NS)


def _paths() -> Json:
    # What both quota routes answer, and the threshold both take.
    quota_set = _obj(resource=S, soft_limit=NULLABLE_DECIMAL, hard_limit=NULLABLE_DECIMAL,
                     alert_at_percent=NI, alert_enabled=B, current_usage=D, updated_at=TIME)
    alert_threshold = {"oneOf": [_whole(0, 1000), {"type": "null"}],
                        "description": "1..1000; 0 or null: the default"}
    r = "metering.v1.ReportingService/"
    return {
        "/usage": {"get": _op("Usage summary of the current billing period", r + "GetUsageSummary", {
            "type": "object", "properties": {"organization_id": S, "period_start": TIME, "period_end": TIME},
            "additionalProperties": USED,
            "description": "One object per resource: databases, namespaces, storage_gb, bandwidth_gb, "
                           "nfs_shares, kafka_clusters, api_requests, seats, llm_tokens, queries, and "
                           "credits (the credit balance; USD for BYOM). `used` is the period's figure by "
                           "the meter's aggregation: the sum of its readings, the highest daily peak "
                           "(storage_gb, backups_gb) or the latest reading (seats, databases, namespaces, "
                           "...); seats count registered users when no seats reading is recorded."})},
        "/usage/{resource_type}": {"get": _op(
            "Usage of one resource per workspace with daily detail", r + "GetResourceUsage",
            _obj(resource_type=S, period=S, period_start=TIME, period_end=TIME,
                 resources=_arr(_obj(id=S, name=S, type=NS, tier=NS, status=NS, used=D, cost=D,
                                     daily_usage=_arr(_obj(date=S, used=D, cost=D)))),
                 total_used=D, total_limit=NULLABLE_DECIMAL, total_cost=D, estimated_monthly_cost=D),
            [_p("resource_type", "A resource or its alias (storage, bandwidth, nfs, kafka, vault, vpc, "
                                 "backups)", RESOURCE_TYPES), PERIOD,
             _q("from", "Start (custom period; required with it)", schema=MOMENT),
             _q("to", "End (custom period; required with it)", schema=MOMENT)])},
        "/usage/history": {"get": _op(
            "Usage and cost per day, week or month", r + "GetUsageHistory",
            _arr({"type": "object", "properties": {"date": S, "total_cost": D},
                  "additionalProperties": _obj(used=D, limit=NULLABLE_DECIMAL, cost=D)}),
            [GRANULARITY, RESOURCE_TYPE,
             _q("months", "Months back, 1..24 (default 1)", schema=_whole(1, 24))])},
        "/usage/quotas": {"get": _op("Quotas with current usage", r + "ListQuotaUsage",
                                     _obj(organization_id=S, quotas=_arr(QUOTA)))},
        "/usage/quotas/{resource}": {"post": _op(
            "Set a resource's soft and hard limits and alert threshold (platform and tenant admins)",
            "metering.v1.MeteringAdminService/SetQuota",
            quota_set,
            [_p("resource", "A resource name or 'credits'", [CREDITS, *RESOURCE_TYPES])],
            {**_obj(soft_limit=LIMIT, hard_limit=LIMIT,
                    alert_at_percent=alert_threshold,
                    alert_enabled=B),
             "description": "At least one of the four fields; a limit of null or \"\" removes it.",
             "anyOf": [{"required": [name]} for name in QUOTA_FIELDS]})},
        "/usage/quotas/{resource}/alert": {"post": _op(
            "Set a resource's budget alert: the custom threshold and whether alerts fire (limits unchanged)",
            "metering.v1.MeteringAdminService/SetBudgetAlert",
            quota_set,
            [_p("resource", "A resource name or 'credits'", [CREDITS, *RESOURCE_TYPES])],
            {**_obj(alert_at_percent=alert_threshold,
                    alert_enabled=B),
             "description": "At least one of the two fields.",
             "anyOf": [{"required": [name]} for name in BUDGET_ALERT_FIELDS]})},
        "/usage/quota-alerts": {"get": _op(
            "Quota alerts", r + "ListQuotaAlerts",
            _arr(_obj(id=S, resource=S, current_usage=D, quota_limit=D, usage_percent=D, severity=S, status=S,
                      triggered_at=TIME, resolved_at=NS, message=S)),
            [_q("status", "active, resolved, or a severity (its active alerts)",
                [*ALERT_STATUSES, *ALERT_SEVERITIES]),
             _q("resource", "Only this resource", [CREDITS, *RESOURCE_TYPES])])},
        "/usage/projections": {"get": _op(
            "Period-end projections", r + "GetProjections",
            _obj(projection_date=S, period_end=TIME, days_remaining=N, projections=_arr(_obj(
                resource=S, current_usage=D, daily_growth=D, projected_month_end=D,
                quota_limit=NULLABLE_DECIMAL, will_exceed_quota=B, run_out_in_days=NULLABLE_DECIMAL))),
            [_q("resource_type", "One resource, or 'credits'; all when omitted",
                [CREDITS, *RESOURCE_TYPES])])},
        "/usage/costs": {"get": _op(
            "Cost analysis in USD", r + "GetCostAnalysis",
            _obj(period=S, period_start=TIME, period_end=TIME, total_cost=D,
                 breakdown=_arr(_obj(resource=S, usage=D, unit_cost=NULLABLE_DECIMAL, total_cost=D,
                                     percentage=D)),
                 by_service={"type": "object", "additionalProperties": {"type": "object",
                                                                       "additionalProperties": D}},
                 by_user=_arr(_obj(user_id=S, name=S, cost_usd=D)), series=_arr(_obj(date=S, cost=D)),
                 estimated_monthly_total=D, daily_average=D),
            [_q("period", "Default current", [p.value for p in Period if p is not Period.CUSTOM]),
             RESOURCE_TYPE, GRANULARITY])},
        "/usage/recommendations": {"get": _op(
            "Optimization recommendations", r + "ListRecommendations",
            _arr(_obj(id=S, priority=S, category=S, resource=S, title=S, description=S, current_cost=D,
                      projected_savings=D, savings_percent=D, implementation_effort=S,
                      basis=_arr(_obj(name=S, used=D, projected=NULLABLE_DECIMAL,
                                      limit=NULLABLE_DECIMAL)))))},
        "/usage/export": {"post": _op(
            "Start a usage export (background job)", r + "CreateUsageExport", EXPORT, None,
            {**_obj(kind={**EXPORT_KINDS, "description": "usage events (default), credit spend (granted "
                          "deductions) or resource lifetimes (segments of per-second billed resources)"},
                    format={"enum": ["csv", "json"]},
                    resource_types={**_arr({"enum": [CREDITS, *RESOURCE_TYPES]}),
                                    "description": "Usage events only; all when empty"},
                    period={**_obj(**{"from": MOMENT, "to": MOMENT}), "required": ["from", "to"],
                            "description": "`to` not before `from`, and at most two years after it"}),
             "required": ["format", "period"]}, "202")},
        "/usage/export/{export_id}": {"get": _op("Export status", r + "GetUsageExport", EXPORT,
                                                 [EXPORT_ID])},
        "/usage/export/{export_id}/download": {"get": _op(
            "Download a completed export (streamed CSV or JSON)", r + "GetUsageExport", {}, [EXPORT_ID],
            content={"text/csv": {"schema": {"type": "string", "description": "With a header row"}},
                     "application/json": {"schema": {**_arr({"type": "object"}),
                                                     "description": "One object per exported row"}}})},
        "/billing/subscription": {"get": _op(
            "Subscription and billing information", r + "GetSubscription",
            _obj(organization_id=S, stripe_customer_id=NS,
                 subscription_id=NS, plan=S, status=S,
                 billing_cycle=_obj(current_period_start=TIME, current_period_end=TIME),
                 usage_based_metrics=_arr(_obj(name=S, display_name=S, usage=D, unit=S,
                                               price_per_unit=NULLABLE_DECIMAL, cost=D)),
                 usage_as_of=NS, estimated_total_cost=D, next_billing_date=TIME))},
        "/billing/invoices": {"get": _op(
            "Invoices", r + "ListInvoices",
            _arr(_obj(invoice_id=S, period_start=TIME, period_end=TIME, amount=D, currency=S,
                      status={"enum": ["paid", "pending", "overdue", "void"]}, due_date=NS, pdf_url=NS)))},
        "/credits/overview": {"get": _op(
            "Plan, credit balance and the usage page's four figures", r + "GetCreditOverview",
            _obj(organization_id=S, plan=_obj(id=S, name=S, price_usd=NULLABLE_DECIMAL),
                 unit={"enum": ["credits", "usd"]}, period_start=TIME, period_end=TIME, monthly_allowance=D,
                 monthly_remaining=D, bonus_remaining=D, reserved=D, used=D, total=D, percentage=D,
                 days_remaining=N, days_elapsed=N, average_per_day=D, run_out_in_days=NULLABLE_DECIMAL,
                 run_out_warning=B, monthly_used=D, bonus_used=D, monthly_percentage=D,
                 bonus_percentage=D))},
        "/credits/chart": {"get": _op(
            "Credit (or USD) consumption split by source", r + "GetUsageChart",
            _obj(range=S, unit=S, points=_arr(_obj(start=TIME, end=TIME, web=D, cli=D, other=D))),
            [_q("range", "24h hourly, 7d daily, 30d weekly; default 7d", [c.value for c in ChartRange])])},
        "/credits/top/{kind}": {"get": _op(
            "Top consumers this period", r + "ListTopConsumers",
            _obj(kind=S, unit=S, total_count=N, next_page_token=NS,
                 items=_arr(_obj(rank=N, id=S, name=S, amount=D, requests=N, percentage=D))),
            [_p("kind", "workspaces, workspace_groups (or groups) or users", list(KINDS)),
             _q("page_size", f"1..{MAX_PAGE}, default 5", schema=_whole(1, MAX_PAGE)),
             _q("page_token", "From the previous page")])},
        "/metrics": {"get": _op(
            "The HTTP API's own requests and mean latency, recorded webhooks, agent usage this period "
            "(persisted; also served at /api/metrics)", r + "GetApiMetrics",
            _obj(api_usage=_obj(total_requests=D, webhook_events=D, served_requests=N, average_latency_ms=D),
                 agent_usage=_obj(active_agents=N, registered_agents=N, ephemeral_agents=N,
                                  tasks_handled=N, llm_tokens=D)))},
        "/rate-limits": {"get": _op(
            "The rate-limiter sidecar's current count for the caller's IP (read without consuming)",
            r + "GetRateLimitStatus",
            _obj(addresses=_arr(_obj(ip=S, bars=_arr(_obj(
                domain=S, available=B, limit=NI, used=NI,
                remaining=NI, percentage=NULLABLE_DECIMAL,
                state=NS, reset_seconds=NULLABLE_DECIMAL))))))},
        **plan_paths(_op, _obj, _arr, _p, _q),
        **billing_paths(_op, _obj, _arr, _p),
    }


def _paths_with_options() -> Json:
    paths = _paths()
    for item in paths.values():
        # Any value: OPTIONS answers whatever the path's parameters are.
        in_path = [{**p, "schema": {"type": "string"}} for op in item.values() for p in op["parameters"]
                   if p["in"] == "path"]
        item["options"] = _options(", ".join([*(m.upper() for m in item), "OPTIONS"]), in_path)
    return paths


def _response(description: str) -> Json:
    return {"description": description, "content": {"application/json": {"schema": {
        "$ref": "#/components/schemas/Error"}}}}


def openapi_document() -> Json:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Usage & Billing API", "version": "1.0.0",
                 "description": "Usage, quotas, costs and billing of one organization. Quantities, "
                                "money and percentages are decimal strings (exact; never binary "
                                "floats); money is US dollars unless a `unit` says credits. "
                                "Timestamps are RFC 3339 UTC."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": _paths_with_options(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A metering API key (mk_…)."}},
            "schemas": {
                "Decimal": DECIMAL,
                "Error": {**_obj(error=S, field={"type": "string", "description": "The offending field"},
                                 code=S), "required": ["error", "field", "code"]},
            },
            "responses": {
                "BadRequest": _response("Invalid period, resource type or parameter (field named)"),
                "Unauthorized": _response("Missing, unknown or revoked API key"),
                "Forbidden": _response("The key's role or organization may not do this"),
                "NotFound": _response("Export, organization or resource does not exist"),
                "Conflict": _response("The request's subject is in a state that does not allow it"),
                "TooManyRequests": _response("A hard limit or rate limit was reached"),
                "Unavailable": _response("The database is unreachable; retry"),
            },
        },
    }
