"""The HTTP/JSON usage & billing API under /api/v1, and the dashboard.

Every API route is bound to the gRPC method whose access rule it shares (`access_rules.RULES`), so
the two doors cannot drift: the same Bearer API keys, the same roles, the same tenant check. The
organization is the key's own; platform admins name it with `?org_id=`, and a tenant key naming
another organization gets 403. Errors are JSON `{"error", "field", "code"}` with 400 (bad input),
401 (missing or unknown key), 403 (role or tenant), 404 (unknown export or resource), 405 (a method
the path lacks, with `Allow`, as OPTIONS answers), 429 and 503. `openapi.py` documents all of it.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from services.kit import inputs
from services.kit.caller import Principal, Role
from services.kit.errors import FieldError
from services.kit.grpc_status import UNAVAILABLE_ERRORS
from services.kit.inputs import org_id as valid_org
from services.metering.domain.access_rules import RULES
from services.metering.store.api_keys import KeyRing
from services.reporting.domain.figures import page
from services.reporting.domain.periods import Period
from services.reporting.service.api_metrics import ApiMetricsRecorder
from services.reporting.service.exports import Exports, export_request
from services.reporting.service.reports import Reports
from services.reporting.store.rate_limits import RateLimitReader
from services.reporting.transport import http_json as out
from services.reporting.transport import params
from services.reporting.transport.http_billing import ROUTES as BILLING_ROUTES
from services.reporting.transport.http_billing import BillingRoutes
from services.reporting.transport.http_pages import add_pages
from services.reporting.transport.http_plans import ROUTES as PLAN_ROUTES
from services.reporting.transport.http_plans import PlanRoutes
from services.reporting.transport.openapi import BUDGET_ALERT_FIELDS, QUOTA_FIELDS, openapi_document
from services.reporting.transport.rate_limiting import client_ip

log = logging.getLogger(__name__)
DASHBOARD = Path(__file__).resolve().parent.parent / "dashboard"
MAX_BODY = 64 * 1024
HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")
_R = "/metering.v1.ReportingService/"
_CALLER = web.AppKey("caller", object)

Handler = Callable[["Call"], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Deps:
    reports: Reports
    exports: Exports
    rate_limits: RateLimitReader
    keys: KeyRing
    metrics: ApiMetricsRecorder
    # Extra client IPs whose rate-limit bars the page shows (e.g. the gateway's public address).
    rate_limit_ips: tuple[str, ...] = ()
    # Header the gateway sets to the client's address; empty: the connection's peer address.
    client_ip_header: str = ""
    # Base URL of this API as clients reach it; empty: from the request (X-Forwarded-*, Host).
    public_url: str = ""
    # Run before every route, e.g. the rate limiting of /api requests (rate_limiting.py).
    middlewares: tuple[Middleware, ...] = ()


@dataclass(frozen=True)
class Call:
    request: web.Request
    principal: Principal
    org_id: str

    def query(self, name: str) -> str:
        """The parameter's value, "" when it is absent (the default); present, it must not be empty."""
        return _query(self.request, name)


class ApiError(Exception):
    def __init__(self, status: int, field: str, message: str, code: str) -> None:
        super().__init__(message)
        self.status, self.field, self.code = status, field, code


STATUS_OF_CODE = {"INVALID_ARGUMENT": 400, "NOT_FOUND": 404, "RESOURCE_EXHAUSTED": 429,
                  "FAILED_PRECONDITION": 409}


def _error(status: int, field: str, message: str, code: str) -> web.Response:
    return web.json_response({"error": message, "field": field, "code": code}, status=status)


def build_app(deps: Deps) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY, middlewares=deps.middlewares)
    api = _Api(deps)
    allowed = allowed_methods()
    routes = api.routes()
    for i, (method, path, rpc, handler) in enumerate(routes):
        app.router.add_route(method, f"/api/v1{path}", api.guarded(rpc, handler))
        if any(later == path for _, later, _, _ in routes[i + 1:]):
            continue
        # Right behind the path's own routes, so that no later pattern (/usage/{resource_type})
        # answers a method the path does not have.
        app.router.add_route("OPTIONS", f"/api/v1{path}", _options(allowed[path]))
        app.router.add_route("*", f"/api/v1{path}", _not_allowed(allowed[path]))
    app.router.add_get("/api/v1/openapi.json", _openapi)
    # The billing page's own paths: its metrics at /api/metrics (the same answer as /api/v1/metrics)
    # and the page at /dashboard/admin/billing, /dashboard its alias.
    app.router.add_get("/api/metrics", api.guarded(_R + "GetApiMetrics", api.api_metrics))
    app.router.add_route("OPTIONS", "/api/metrics", _options(allowed["/metrics"]))
    app.router.add_route("*", "/api/metrics", _not_allowed(allowed["/metrics"]))
    for page_path in ("/dashboard/admin/billing", "/dashboard", "/dashboard/"):
        app.router.add_get(page_path, _dashboard_page)
    app.router.add_static("/dashboard/assets", DASHBOARD, follow_symlinks=False)
    add_pages(app, DASHBOARD, PAGE_HEADERS)
    app.router.add_get("/healthz", _healthz)
    return app


def allowed_methods() -> dict[str, str]:
    """Each API path and the `Allow` header its OPTIONS answers."""
    methods: dict[str, list[str]] = {}
    for method, path, _, _ in ROUTES:
        methods.setdefault(path, []).append(method)
    return {path: ", ".join([*found, "OPTIONS"]) for path, found in methods.items()}


def _options(allow: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def answer(_: web.Request) -> web.Response:
        return web.Response(status=204, headers={"Allow": allow})

    return answer


def _not_allowed(allow: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def answer(request: web.Request) -> web.Response:
        response = _error(405, "method", f"{request.method[:16]} is not allowed here; allowed: {allow}",
                          "UNIMPLEMENTED")
        response.headers["Allow"] = allow
        return response

    return answer


async def _openapi(_: web.Request) -> web.Response:
    return web.json_response(openapi_document())


# The page runs only its own files: no inline script, no third-party origin.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def _dashboard_page(_: web.Request) -> web.FileResponse:
    return web.FileResponse(DASHBOARD / "index.html", headers=PAGE_HEADERS)


async def _healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "serving"})


_ADMIN = "/metering.v1.MeteringAdminService/"
# (method, path under /api/v1, the RPC whose access rule the route shares, handler). Fixed paths
# come before /usage/{resource_type}: aiohttp matches in registration order.
ROUTES: tuple[tuple[str, str, str, str], ...] = (
    ("GET", "/usage", _R + "GetUsageSummary", "summary"),
    ("GET", "/usage/history", _R + "GetUsageHistory", "history"),
    ("GET", "/usage/quotas", _R + "ListQuotaUsage", "quotas"),
    ("POST", "/usage/quotas/{resource}", _ADMIN + "SetQuota", "set_quota"),
    ("POST", "/usage/quotas/{resource}/alert", _ADMIN + "SetBudgetAlert", "set_budget_alert"),
    ("GET", "/usage/quota-alerts", _R + "ListQuotaAlerts", "alerts"),
    ("GET", "/usage/projections", _R + "GetProjections", "projections"),
    ("GET", "/usage/costs", _R + "GetCostAnalysis", "costs"),
    ("GET", "/usage/recommendations", _R + "ListRecommendations", "recommendations"),
    ("POST", "/usage/export", _R + "CreateUsageExport", "create_export"),
    ("GET", "/usage/export/{export_id}", _R + "GetUsageExport", "get_export"),
    ("GET", "/usage/export/{export_id}/download", _R + "GetUsageExport", "download"),
    ("GET", "/usage/{resource_type}", _R + "GetResourceUsage", "resource_usage"),
    ("GET", "/billing/subscription", _R + "GetSubscription", "subscription"),
    ("GET", "/billing/invoices", _R + "ListInvoices", "invoices"),
    ("GET", "/credits/overview", _R + "GetCreditOverview", "overview"),
    ("GET", "/credits/chart", _R + "GetUsageChart", "chart"),
    ("GET", "/credits/top/{kind}", _R + "ListTopConsumers", "top"),
    ("GET", "/metrics", _R + "GetApiMetrics", "api_metrics"),
    ("GET", "/rate-limits", _R + "GetRateLimitStatus", "rate_limits"),
    *PLAN_ROUTES,
    *BILLING_ROUTES,
)


class _Api(PlanRoutes, BillingRoutes):
    def __init__(self, deps: Deps) -> None:
        self.d = deps

    def routes(self) -> list[tuple[str, str, str, Handler]]:
        return [(method, path, rpc, getattr(self, name)) for method, path, rpc, name in ROUTES]

    def guarded(self, rpc: str, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        rule = RULES[rpc]

        async def serve(request: web.Request) -> web.StreamResponse:
            started = time.perf_counter_ns()
            org = ""
            try:
                principal = await self._principal(request)
                if principal.role not in rule.roles:
                    raise ApiError(403, "authorization", f"role {principal.role.value} may not call "
                                   f"{rpc.rsplit('/', 1)[-1]}", "PERMISSION_DENIED")
                org = _organization(request, principal)
                return await handler(Call(request, principal, org))
            except ApiError as e:
                return _error(e.status, e.field, str(e), e.code)
            except FieldError as e:
                return _error(STATUS_OF_CODE.get(e.code, 400), e.field, str(e), e.code)
            except UNAVAILABLE_ERRORS as e:
                log.warning("database unavailable in %s: %s", rpc, type(e).__name__)
                return _error(503, "", "database unavailable; retry", "UNAVAILABLE")
            except (web.HTTPException, ConnectionResetError):
                raise
            except Exception:
                log.exception("internal error in %s", rpc)
                return _error(500, "", "internal error", "INTERNAL")
            finally:
                if org:
                    self.d.metrics.record(org, "http", time.perf_counter_ns() - started)

        return serve

    async def _principal(self, request: web.Request) -> Principal:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            raise ApiError(401, "authorization", "missing 'Authorization: Bearer <api key>' header",
                           "UNAUTHENTICATED")
        principal = await self.d.keys.principal(header[7:].strip())
        if principal is None:
            raise ApiError(401, "authorization", "unknown or revoked API key", "UNAUTHENTICATED")
        return principal

    # --- usage ---------------------------------------------------------------------------

    async def summary(self, call: Call) -> web.Response:
        return web.json_response(out.summary(await self.d.reports.summary(call.org_id)))

    async def resource_usage(self, call: Call) -> web.Response:
        resource = params.resource(call.request.match_info["resource_type"])
        period = params.period(call.query("period"))
        start = params.optional_moment(call.query("from"), "from")
        end = params.optional_moment(call.query("to"), "to")
        report = await self.d.reports.resource_usage(call.org_id, resource, period, start, end)
        return web.json_response(out.resource_report(report))

    async def history(self, call: Call) -> web.Response:
        granularity = params.granularity(call.query("granularity"))
        resource = params.any_resource(call.query("resource_type"))
        months = params.months(call.query("months"))
        points = await self.d.reports.history(call.org_id, granularity, resource, months)
        return web.json_response(out.history(points))

    async def quotas(self, call: Call) -> web.Response:
        return web.json_response(out.quotas(await self.d.reports.quotas(call.org_id)))

    async def set_quota(self, call: Call) -> web.Response:
        resource = params.quota_resource(call.request.match_info["resource"])
        body = await _json_body(call.request)
        if not body.keys() & set(QUOTA_FIELDS):
            raise FieldError("body", f"must set at least one of {', '.join(QUOTA_FIELDS)}")
        soft = params.limit(_decimal_text(body, "soft_limit"), "soft_limit")
        hard = params.limit(_decimal_text(body, "hard_limit"), "hard_limit")
        alert_at = params.percent(_whole(body, "alert_at_percent"), "alert_at_percent")
        view = await self.d.reports.set_quota(call.org_id, resource, soft, hard, alert_at, _enabled(body))
        return web.json_response(out.quota_set(view))

    async def set_budget_alert(self, call: Call) -> web.Response:
        resource = params.quota_resource(call.request.match_info["resource"])
        body = await _json_body(call.request)
        if not body.keys() & set(BUDGET_ALERT_FIELDS):
            raise FieldError("body", f"must set at least one of {', '.join(BUDGET_ALERT_FIELDS)}")
        alert_at = params.percent(_whole(body, "alert_at_percent"), "alert_at_percent")
        view = await self.d.reports.set_budget_alert(call.org_id, resource, alert_at, _enabled(body))
        return web.json_response(out.quota_set(view))

    async def alerts(self, call: Call) -> web.Response:
        severity, status = params.alert_filter(call.query("status"))
        resource = params.quota_resource(call.query("resource")) if call.query("resource") else ""
        rows = await self.d.reports.alerts(call.org_id, severity, status, resource)
        return web.json_response([out.alert(r) for r in rows])

    async def projections(self, call: Call) -> web.Response:
        resource = params.projection_resource(call.query("resource_type"))
        return web.json_response(out.projections(await self.d.reports.projections(call.org_id, resource)))

    async def costs(self, call: Call) -> web.Response:
        period = params.period(call.query("period"))
        if period is Period.CUSTOM:
            raise FieldError("period", "must be one of current, last-month, last-quarter")
        resource = params.any_resource(call.query("resource_type"))
        granularity = params.granularity(call.query("granularity"))
        report = await self.d.reports.costs(call.org_id, period, resource, granularity)
        return web.json_response(out.costs(report))

    async def recommendations(self, call: Call) -> web.Response:
        found = await self.d.reports.recommendations(call.org_id)
        return web.json_response([out.recommendation(a) for a in found])

    # --- exports -------------------------------------------------------------------------

    async def create_export(self, call: Call) -> web.Response:
        body = await _json_body(call.request)
        types = body.get("resource_types", [])
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise FieldError("resource_types", "must be a list of resource type names")
        meters = [params.quota_resource(t, f"resource_types[{i}]") for i, t in enumerate(types)]
        period = body.get("period")
        if not isinstance(period, dict):
            raise FieldError("period", "must be an object with from and to")
        kind, fmt = body.get("kind", "usage_events"), body.get("format")
        wanted = export_request(kind if isinstance(kind, str) else "", fmt if isinstance(fmt, str) else "",
                                meters, _moment_field(period, "from"), _moment_field(period, "to"))
        await self.d.reports.require_organization(call.org_id)
        made = await self.d.exports.create(call.org_id, wanted, call.principal.key_id)
        return web.json_response(out.export(made, self._download_url(call, made.export_id)), status=202)

    async def get_export(self, call: Call) -> web.Response:
        made = await self.d.exports.get(call.org_id, _export_id(call))
        return web.json_response(out.export(made, self._download_url(call, made.export_id)))

    def _download_url(self, call: Call, export_id: str) -> str:
        suffix = f"?org_id={call.org_id}" if call.principal.role is Role.PLATFORM_ADMIN else ""
        base = self.d.public_url or request_base_url(call.request)
        return f"{base}/api/v1/usage/export/{export_id}/download{suffix}"

    async def download(self, call: Call) -> web.StreamResponse:
        made = await self.d.exports.get(call.org_id, _export_id(call))
        if not made.downloadable:
            raise ApiError(404, "export_id", f"export {made.export_id!r} is {made.status}, not downloadable",
                           "NOT_FOUND")
        media = "text/csv" if made.format == "csv" else "application/json"
        response = web.StreamResponse(headers={
            "Content-Type": f"{media}; charset=utf-8", "Content-Length": str(made.size_bytes),
            "Content-Disposition": f'attachment; filename="{made.export_id}.{made.format}"',
        })
        await response.prepare(call.request)
        async for chunk in self.d.exports.chunks(made):
            await response.write(chunk)
        await response.write_eof()
        return response

    # --- billing -------------------------------------------------------------------------

    async def subscription(self, call: Call) -> web.Response:
        return web.json_response(out.subscription(await self.d.reports.subscription(call.org_id)))

    async def invoices(self, call: Call) -> web.Response:
        return web.json_response([out.invoice(i) for i in await self.d.reports.invoices(call.org_id)])

    # --- the dashboard's own routes ------------------------------------------------------

    async def overview(self, call: Call) -> web.Response:
        return web.json_response(out.overview(await self.d.reports.overview(call.org_id)))

    async def chart(self, call: Call) -> web.Response:
        chart = params.chart_range(call.query("range"))
        return web.json_response(out.chart(await self.d.reports.chart(call.org_id, chart)))

    async def top(self, call: Call) -> web.Response:
        kind = params.consumer_kind(call.request.match_info["kind"])
        wanted = page(_int_query(call, "page_size", 1), call.query("page_token"))
        return web.json_response(out.consumers(await self.d.reports.top(call.org_id, kind, wanted)))

    async def api_metrics(self, call: Call) -> web.Response:
        return web.json_response(out.api_metrics(await self.d.reports.api_metrics(call.org_id)))

    async def rate_limits(self, call: Call) -> web.Response:
        await self.d.reports.require_organization(call.org_id)
        client = client_ip(call.request, self.d.client_ip_header)
        ips = [params.ip_address(client, "ip"), *self.d.rate_limit_ips]
        answers = [out.rate_limits(ip, await self.d.rate_limits.bars(ip)) for ip in dict.fromkeys(ips)]
        return web.json_response({"addresses": answers})


def _query(request: web.Request, name: str) -> str:
    value = request.query.get(name)
    if value == "":
        raise FieldError(name, "must not be empty; leave the parameter out for its default")
    return value or ""


def _organization(request: web.Request, principal: Principal) -> str:
    named = _query(request, "org_id")
    if principal.role is Role.PLATFORM_ADMIN:
        if not named:
            raise FieldError("org_id", "is required with a platform admin key")
        return valid_org(named)
    assert principal.org_id is not None
    if named and named != principal.org_id:
        raise ApiError(403, "org_id", "org_id: outside the caller's organization", "PERMISSION_DENIED")
    return principal.org_id


async def _json_body(request: web.Request) -> dict[str, Any]:
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise FieldError("body", f"larger than {MAX_BODY} bytes")
    if not raw.strip():
        raise FieldError("body", "is required: a JSON object")
    try:
        # Numbers stay exact: decimals are parsed as Decimal, never as binary floats.
        body = json.loads(raw, parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise FieldError("body", "is not valid JSON") from None
    if not isinstance(body, dict):
        raise FieldError("body", "must be a JSON object")
    return body


def _decimal_text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise FieldError(name, "must be a decimal string or number")
    return str(value)


def _whole(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(name, "must be a whole number")
    return value


def _enabled(body: dict[str, Any]) -> bool:
    enabled = body.get("alert_enabled", True)
    if not isinstance(enabled, bool):
        raise FieldError("alert_enabled", "must be true or false")
    return enabled


def _moment_field(period: dict[str, Any], name: str) -> Any:
    value = period.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(f"period.{name}", "must be an RFC 3339 timestamp string")
    return params.moment(value, f"period.{name}")


def _export_id(call: Call) -> str:
    return params.export_id(call.request.match_info["export_id"])


def request_base_url(request: web.Request) -> str:
    """scheme://host the client used: the gateway's X-Forwarded-Proto and X-Forwarded-Host (their
    first values) when well-formed, else the request's own."""
    scheme = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    host = request.headers.get("X-Forwarded-Host", "").split(",")[0].strip()
    if scheme not in ("http", "https"):
        scheme = request.scheme
    if not HOST.fullmatch(host):
        host = request.host
    return f"{scheme}://{host}"


def _int_query(call: Call, name: str, least: int) -> int:
    """The parameter as a whole number of at least `least`; 0 when it is absent (the default)."""
    raw = call.query(name)
    if not raw:
        return 0
    value = inputs.count(raw, name)
    if value < least:
        raise FieldError(name, f"must be at least {least}")
    return value
