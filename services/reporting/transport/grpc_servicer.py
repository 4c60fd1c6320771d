"""metering.v1.ReportingService over gRPC: validate, call one report, map the result.

Access (role and tenant) is enforced by the metering server's guard
(services/metering/transport/guard.py) from the same access rules the HTTP API applies.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from services.gen.metering.v1 import reporting_pb2 as pb
from services.gen.metering.v1 import reporting_pb2_grpc as pb_grpc
from services.kit import inputs
from services.kit.caller import CALLER
from services.kit.errors import FieldError
from services.kit.grpc_status import rpc
from services.kit.inputs import moment
from services.kit.inputs import org_id as valid_org
from services.reporting.domain.figures import page
from services.reporting.domain.periods import Period
from services.reporting.service.api_metrics import ApiMetricsRecorder
from services.reporting.service.exports import Export, Exports, export_request
from services.reporting.service.reports import Reports
from services.reporting.store.rate_limits import RateLimitReader
from services.reporting.transport import messages as out
from services.reporting.transport import params

Context = grpc.aio.ServicerContext[Any, Any]
Request = TypeVar("Request")
Response = TypeVar("Response")
DOWNLOAD_PATH = "/api/v1/usage/export/{export_id}/download"  # under the public base URL


def measured(handler: Callable[[Any, Request, Context], Awaitable[Response]]
             ) -> Callable[[Any, Request, Context], Awaitable[Response]]:
    """Counts the call and its latency for the organization it names (GetApiMetrics)."""

    @functools.wraps(handler)
    async def wrapper(self: ReportingServicer, request: Request, context: Context) -> Response:
        started = time.perf_counter_ns()
        try:
            return await handler(self, request, context)
        finally:
            org = getattr(request, "org_id", "")
            if org:
                self.metrics.record(org, "grpc", time.perf_counter_ns() - started)

    return wrapper


class ReportingServicer(pb_grpc.ReportingServiceServicer):
    def __init__(self, reports: Reports, exports: Exports, rate_limits: RateLimitReader,
                 metrics: ApiMetricsRecorder, public_url: str) -> None:
        self.reports = reports
        self.public_url = public_url.rstrip("/")
        self.exports = exports
        self.rate_limits = rate_limits
        self.metrics = metrics

    @measured
    @rpc
    async def GetUsageSummary(self, request: pb.GetUsageSummaryRequest,
                              context: Context) -> pb.GetUsageSummaryResponse:
        return out.summary(await self.reports.summary(valid_org(request.org_id)))

    @measured
    @rpc
    async def GetResourceUsage(self, request: pb.GetResourceUsageRequest,
                               context: Context) -> pb.GetResourceUsageResponse:
        org = valid_org(request.org_id)
        resource = params.resource(request.resource_type)
        period = params.period(_enum(out.PERIODS, request.period, "period"))
        start = moment(request.from_time, True, "from_time") if request.HasField("from_time") else None
        end = moment(request.to_time, True, "to_time") if request.HasField("to_time") else None
        return out.resource_report(await self.reports.resource_usage(org, resource, period, start, end,
                                                                     ("from_time", "to_time")))

    @measured
    @rpc
    async def GetUsageHistory(self, request: pb.GetUsageHistoryRequest,
                              context: Context) -> pb.GetUsageHistoryResponse:
        org = valid_org(request.org_id)
        granularity = params.granularity(_enum(out.GRANULARITIES, request.granularity, "granularity"))
        resource = params.any_resource(request.resource_type)
        months = params.months(request.months)
        return out.history(await self.reports.history(org, granularity, resource, months))

    @measured
    @rpc
    async def ListQuotaUsage(self, request: pb.ListQuotaUsageRequest,
                             context: Context) -> pb.ListQuotaUsageResponse:
        listed = await self.reports.quotas(valid_org(request.org_id))
        return pb.ListQuotaUsageResponse(org_id=listed.org_id, quotas=[out.quota(v) for v in listed.quotas])

    @measured
    @rpc
    async def ListQuotaAlerts(self, request: pb.ListQuotaAlertsRequest,
                              context: Context) -> pb.ListQuotaAlertsResponse:
        org = valid_org(request.org_id)
        severity, status = params.alert_filter(request.status)
        resource = params.quota_resource(request.resource) if request.resource else ""
        rows = await self.reports.alerts(org, severity, status, resource)
        return pb.ListQuotaAlertsResponse(alerts=[out.alert(r) for r in rows])

    @measured
    @rpc
    async def GetProjections(self, request: pb.GetProjectionsRequest,
                             context: Context) -> pb.GetProjectionsResponse:
        org = valid_org(request.org_id)
        resource = params.projection_resource(request.resource_type)
        return out.projections(await self.reports.projections(org, resource))

    @measured
    @rpc
    async def GetCostAnalysis(self, request: pb.GetCostAnalysisRequest,
                              context: Context) -> pb.GetCostAnalysisResponse:
        org = valid_org(request.org_id)
        period = params.period(_enum(out.PERIODS, request.period, "period"))
        if period is Period.CUSTOM:
            raise FieldError("period", "must be one of current, last-month, last-quarter")
        resource = params.any_resource(request.resource_type)
        granularity = params.granularity(_enum(out.GRANULARITIES, request.granularity, "granularity"))
        return out.costs(await self.reports.costs(org, period, resource, granularity))

    @measured
    @rpc
    async def ListRecommendations(self, request: pb.ListRecommendationsRequest,
                                  context: Context) -> pb.ListRecommendationsResponse:
        found = await self.reports.recommendations(valid_org(request.org_id))
        return pb.ListRecommendationsResponse(recommendations=[out.recommendation(a) for a in found])

    @measured
    @rpc
    async def GetCreditOverview(self, request: pb.GetCreditOverviewRequest,
                                context: Context) -> pb.GetCreditOverviewResponse:
        return out.overview(await self.reports.overview(valid_org(request.org_id)))

    @measured
    @rpc
    async def GetUsageBar(self, request: pb.GetUsageBarRequest, context: Context) -> pb.GetUsageBarResponse:
        return out.usage_bar(await self.reports.usage_bar(valid_org(request.org_id)))

    @measured
    @rpc
    async def GetUsageChart(self, request: pb.GetUsageChartRequest,
                            context: Context) -> pb.GetUsageChartResponse:
        org = valid_org(request.org_id)
        chart = params.chart_range(_enum(out.CHART_RANGES, request.range, "range"))
        return out.chart(await self.reports.chart(org, chart))

    @measured
    @rpc
    async def ListTopConsumers(self, request: pb.ListTopConsumersRequest,
                               context: Context) -> pb.ListTopConsumersResponse:
        org = valid_org(request.org_id)
        kind = params.consumer_kind(out.KINDS.get(request.kind, ""))
        return out.consumers(await self.reports.top(org, kind, page(request.page_size, request.page_token)))

    @measured
    @rpc
    async def GetApiMetrics(self, request: pb.GetApiMetricsRequest,
                            context: Context) -> pb.GetApiMetricsResponse:
        return out.api_metrics(await self.reports.api_metrics(valid_org(request.org_id)))

    @measured
    @rpc
    async def GetRateLimitStatus(self, request: pb.GetRateLimitStatusRequest,
                                 context: Context) -> pb.GetRateLimitStatusResponse:
        valid_org(request.org_id)
        ip = params.ip_address(request.ip)
        return out.rate_limits(ip, await self.rate_limits.bars(ip))

    @measured
    @rpc
    async def ListInvoices(self, request: pb.ListInvoicesRequest,
                           context: Context) -> pb.ListInvoicesResponse:
        found = await self.reports.invoices(valid_org(request.org_id))
        return pb.ListInvoicesResponse(invoices=[out.invoice(i) for i in found])

    @measured
    @rpc
    async def GetInvoice(self, request: pb.GetInvoiceRequest, context: Context) -> pb.GetInvoiceResponse:
        org = valid_org(request.org_id)
        invoice_id = inputs.text(request.invoice_id, "invoice_id", 255)
        return out.invoice_detail(await self.reports.invoice(org, invoice_id))

    @measured
    @rpc
    async def GetSubscription(self, request: pb.GetSubscriptionRequest,
                              context: Context) -> pb.GetSubscriptionResponse:
        return out.subscription(await self.reports.subscription(valid_org(request.org_id)))

    @measured
    @rpc
    async def CreateUsageExport(self, request: pb.CreateUsageExportRequest,
                                context: Context) -> pb.CreateUsageExportResponse:
        org = valid_org(request.org_id)
        if request.format not in out.FORMATS:
            raise FieldError("format", "must be EXPORT_FORMAT_CSV or EXPORT_FORMAT_JSON")
        meters = [params.quota_resource(r, f"resource_types[{i}]")
                  for i, r in enumerate(request.resource_types)]
        start = moment(request.from_time, True, "from_time") if request.HasField("from_time") else None
        end = moment(request.to_time, True, "to_time") if request.HasField("to_time") else None
        if request.kind not in out.EXPORT_KINDS:
            raise FieldError("kind", f"unknown value {request.kind}")
        wanted = export_request(out.EXPORT_KINDS[request.kind], out.FORMATS[request.format], meters,
                                start, end, ("from_time", "to_time"))
        await self.reports.require_organization(org)
        made = await self.exports.create(org, wanted, CALLER.get().key_id)
        return pb.CreateUsageExportResponse(export=self._export(made))

    @measured
    @rpc
    async def GetUsageExport(self, request: pb.GetUsageExportRequest,
                             context: Context) -> pb.GetUsageExportResponse:
        org = valid_org(request.org_id)
        export_id = params.export_id(request.export_id)
        return pb.GetUsageExportResponse(export=self._export(await self.exports.get(org, export_id)))

    def _export(self, made: Export) -> pb.UsageExport:
        return out.export(made, self.public_url + DOWNLOAD_PATH.format(export_id=made.export_id))


def _enum(names: dict[Any, str], value: int, field: str) -> str:
    if value not in names:
        raise FieldError(field, f"unknown value {value}")
    return names[value]
