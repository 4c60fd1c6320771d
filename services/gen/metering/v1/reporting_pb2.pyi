import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from services.gen.metering.v1 import metering_pb2 as _metering_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Granularity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GRANULARITY_UNSPECIFIED: _ClassVar[Granularity]
    GRANULARITY_DAILY: _ClassVar[Granularity]
    GRANULARITY_WEEKLY: _ClassVar[Granularity]
    GRANULARITY_MONTHLY: _ClassVar[Granularity]

class ReportPeriod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPORT_PERIOD_UNSPECIFIED: _ClassVar[ReportPeriod]
    REPORT_PERIOD_CURRENT: _ClassVar[ReportPeriod]
    REPORT_PERIOD_LAST_MONTH: _ClassVar[ReportPeriod]
    REPORT_PERIOD_LAST_QUARTER: _ClassVar[ReportPeriod]
    REPORT_PERIOD_CUSTOM: _ClassVar[ReportPeriod]

class ChartRange(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHART_RANGE_UNSPECIFIED: _ClassVar[ChartRange]
    CHART_RANGE_24H: _ClassVar[ChartRange]
    CHART_RANGE_7D: _ClassVar[ChartRange]
    CHART_RANGE_30D: _ClassVar[ChartRange]

class ConsumerKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONSUMER_KIND_UNSPECIFIED: _ClassVar[ConsumerKind]
    CONSUMER_KIND_WORKSPACE: _ClassVar[ConsumerKind]
    CONSUMER_KIND_WORKSPACE_GROUP: _ClassVar[ConsumerKind]
    CONSUMER_KIND_USER: _ClassVar[ConsumerKind]

class ExportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_FORMAT_UNSPECIFIED: _ClassVar[ExportFormat]
    EXPORT_FORMAT_CSV: _ClassVar[ExportFormat]
    EXPORT_FORMAT_JSON: _ClassVar[ExportFormat]

class ExportKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_KIND_UNSPECIFIED: _ClassVar[ExportKind]
    EXPORT_KIND_USAGE_EVENTS: _ClassVar[ExportKind]
    EXPORT_KIND_CREDIT_SPEND: _ClassVar[ExportKind]
    EXPORT_KIND_RESOURCE_LIFETIMES: _ClassVar[ExportKind]
GRANULARITY_UNSPECIFIED: Granularity
GRANULARITY_DAILY: Granularity
GRANULARITY_WEEKLY: Granularity
GRANULARITY_MONTHLY: Granularity
REPORT_PERIOD_UNSPECIFIED: ReportPeriod
REPORT_PERIOD_CURRENT: ReportPeriod
REPORT_PERIOD_LAST_MONTH: ReportPeriod
REPORT_PERIOD_LAST_QUARTER: ReportPeriod
REPORT_PERIOD_CUSTOM: ReportPeriod
CHART_RANGE_UNSPECIFIED: ChartRange
CHART_RANGE_24H: ChartRange
CHART_RANGE_7D: ChartRange
CHART_RANGE_30D: ChartRange
CONSUMER_KIND_UNSPECIFIED: ConsumerKind
CONSUMER_KIND_WORKSPACE: ConsumerKind
CONSUMER_KIND_WORKSPACE_GROUP: ConsumerKind
CONSUMER_KIND_USER: ConsumerKind
EXPORT_FORMAT_UNSPECIFIED: ExportFormat
EXPORT_FORMAT_CSV: ExportFormat
EXPORT_FORMAT_JSON: ExportFormat
EXPORT_KIND_UNSPECIFIED: ExportKind
EXPORT_KIND_USAGE_EVENTS: ExportKind
EXPORT_KIND_CREDIT_SPEND: ExportKind
EXPORT_KIND_RESOURCE_LIFETIMES: ExportKind

class TimeRange(_message.Message):
    __slots__ = ("start", "end")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ResourceUse(_message.Message):
    __slots__ = ("resource", "used", "limit", "percentage", "state", "unit")
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    resource: str
    used: str
    limit: str
    percentage: str
    state: str
    unit: str
    def __init__(self, resource: _Optional[str] = ..., used: _Optional[str] = ..., limit: _Optional[str] = ..., percentage: _Optional[str] = ..., state: _Optional[str] = ..., unit: _Optional[str] = ...) -> None: ...

class GetUsageSummaryRequest(_message.Message):
    __slots__ = ("org_id",)
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    def __init__(self, org_id: _Optional[str] = ...) -> None: ...

class GetUsageSummaryResponse(_message.Message):
    __slots__ = ("org_id", "period", "resources")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    period: TimeRange
    resources: _containers.RepeatedCompositeFieldContainer[ResourceUse]
    def __init__(self, org_id: _Optional[str] = ..., period: _Optional[_Union[TimeRange, _Mapping]] = ..., resources: _Optional[_Iterable[_Union[ResourceUse, _Mapping]]] = ...) -> None: ...

class DailyUse(_message.Message):
    __slots__ = ("date", "used", "cost")
    DATE_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    date: str
    used: str
    cost: str
    def __init__(self, date: _Optional[str] = ..., used: _Optional[str] = ..., cost: _Optional[str] = ...) -> None: ...

class ResourceConsumer(_message.Message):
    __slots__ = ("id", "name", "used", "cost", "daily_usage", "type", "tier", "status")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    DAILY_USAGE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    used: str
    cost: str
    daily_usage: _containers.RepeatedCompositeFieldContainer[DailyUse]
    type: str
    tier: str
    status: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., used: _Optional[str] = ..., cost: _Optional[str] = ..., daily_usage: _Optional[_Iterable[_Union[DailyUse, _Mapping]]] = ..., type: _Optional[str] = ..., tier: _Optional[str] = ..., status: _Optional[str] = ...) -> None: ...

class GetResourceUsageRequest(_message.Message):
    __slots__ = ("org_id", "resource_type", "period", "from_time", "to_time")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    FROM_TIME_FIELD_NUMBER: _ClassVar[int]
    TO_TIME_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    resource_type: str
    period: ReportPeriod
    from_time: _timestamp_pb2.Timestamp
    to_time: _timestamp_pb2.Timestamp
    def __init__(self, org_id: _Optional[str] = ..., resource_type: _Optional[str] = ..., period: _Optional[_Union[ReportPeriod, str]] = ..., from_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., to_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetResourceUsageResponse(_message.Message):
    __slots__ = ("resource_type", "period", "range", "resources", "total_used", "total_limit", "total_cost", "estimated_monthly_cost")
    RESOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_USED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_MONTHLY_COST_FIELD_NUMBER: _ClassVar[int]
    resource_type: str
    period: ReportPeriod
    range: TimeRange
    resources: _containers.RepeatedCompositeFieldContainer[ResourceConsumer]
    total_used: str
    total_limit: str
    total_cost: str
    estimated_monthly_cost: str
    def __init__(self, resource_type: _Optional[str] = ..., period: _Optional[_Union[ReportPeriod, str]] = ..., range: _Optional[_Union[TimeRange, _Mapping]] = ..., resources: _Optional[_Iterable[_Union[ResourceConsumer, _Mapping]]] = ..., total_used: _Optional[str] = ..., total_limit: _Optional[str] = ..., total_cost: _Optional[str] = ..., estimated_monthly_cost: _Optional[str] = ...) -> None: ...

class HistoryEntry(_message.Message):
    __slots__ = ("resource", "used", "limit", "cost")
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    resource: str
    used: str
    limit: str
    cost: str
    def __init__(self, resource: _Optional[str] = ..., used: _Optional[str] = ..., limit: _Optional[str] = ..., cost: _Optional[str] = ...) -> None: ...

class HistoryPoint(_message.Message):
    __slots__ = ("date", "resources", "total_cost")
    DATE_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    date: str
    resources: _containers.RepeatedCompositeFieldContainer[HistoryEntry]
    total_cost: str
    def __init__(self, date: _Optional[str] = ..., resources: _Optional[_Iterable[_Union[HistoryEntry, _Mapping]]] = ..., total_cost: _Optional[str] = ...) -> None: ...

class GetUsageHistoryRequest(_message.Message):
    __slots__ = ("org_id", "granularity", "resource_type", "months")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    GRANULARITY_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    MONTHS_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    granularity: Granularity
    resource_type: str
    months: int
    def __init__(self, org_id: _Optional[str] = ..., granularity: _Optional[_Union[Granularity, str]] = ..., resource_type: _Optional[str] = ..., months: _Optional[int] = ...) -> None: ...

class GetUsageHistoryResponse(_message.Message):
    __slots__ = ("points",)
    POINTS_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedCompositeFieldContainer[HistoryPoint]
    def __init__(self, points: _Optional[_Iterable[_Union[HistoryPoint, _Mapping]]] = ...) -> None: ...

class QuotaUsage(_message.Message):
    __slots__ = ("resource", "soft_limit", "hard_limit", "plan_limit", "current_usage", "warning_threshold", "alert_at_percent", "alert_enabled", "updated_at")
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    SOFT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    HARD_LIMIT_FIELD_NUMBER: _ClassVar[int]
    PLAN_LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURRENT_USAGE_FIELD_NUMBER: _ClassVar[int]
    WARNING_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    ALERT_AT_PERCENT_FIELD_NUMBER: _ClassVar[int]
    ALERT_ENABLED_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    resource: str
    soft_limit: str
    hard_limit: str
    plan_limit: str
    current_usage: str
    warning_threshold: int
    alert_at_percent: int
    alert_enabled: bool
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, resource: _Optional[str] = ..., soft_limit: _Optional[str] = ..., hard_limit: _Optional[str] = ..., plan_limit: _Optional[str] = ..., current_usage: _Optional[str] = ..., warning_threshold: _Optional[int] = ..., alert_at_percent: _Optional[int] = ..., alert_enabled: _Optional[bool] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListQuotaUsageRequest(_message.Message):
    __slots__ = ("org_id",)
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    def __init__(self, org_id: _Optional[str] = ...) -> None: ...

class ListQuotaUsageResponse(_message.Message):
    __slots__ = ("org_id", "quotas")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    QUOTAS_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    quotas: _containers.RepeatedCompositeFieldContainer[QuotaUsage]
    def __init__(self, org_id: _Optional[str] = ..., quotas: _Optional[_Iterable[_Union[QuotaUsage, _Mapping]]] = ...) -> None: ...

class QuotaAlert(_message.Message):
    __slots__ = ("id", "resource", "current_usage", "quota_limit", "usage_percent", "severity", "status", "triggered_at", "resolved_at", "message")
    ID_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    CURRENT_USAGE_FIELD_NUMBER: _ClassVar[int]
    QUOTA_LIMIT_FIELD_NUMBER: _ClassVar[int]
    USAGE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TRIGGERED_AT_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_AT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    id: str
    resource: str
    current_usage: str
    quota_limit: str
    usage_percent: str
    severity: str
    status: str
    triggered_at: _timestamp_pb2.Timestamp
    resolved_at: _timestamp_pb2.Timestamp
    message: str
    def __init__(self, id: _Optional[str] = ..., resource: _Optional[str] = ..., current_usage: _Optional[str] = ..., quota_limit: _Optional[str] = ..., usage_percent: _Optional[str] = ..., severity: _Optional[str] = ..., status: _Optional[str] = ..., triggered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., message: _Optional[str] = ...) -> None: ...

class ListQuotaAlertsRequest(_message.Message):
    __slots__ = ("org_id", "status", "resource")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    status: str
    resource: str
    def __init__(self, org_id: _Optional[str] = ..., status: _Optional[str] = ..., resource: _Optional[str] = ...) -> None: ...

class ListQuotaAlertsResponse(_message.Message):
    __slots__ = ("alerts",)
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[QuotaAlert]
    def __init__(self, alerts: _Optional[_Iterable[_Union[QuotaAlert, _Mapping]]] = ...) -> None: ...

class ResourceProjection(_message.Message):
    __slots__ = ("resource", "current_usage", "daily_growth", "projected_period_end", "quota_limit", "will_exceed_quota", "run_out_in_days")
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    CURRENT_USAGE_FIELD_NUMBER: _ClassVar[int]
    DAILY_GROWTH_FIELD_NUMBER: _ClassVar[int]
    PROJECTED_PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    QUOTA_LIMIT_FIELD_NUMBER: _ClassVar[int]
    WILL_EXCEED_QUOTA_FIELD_NUMBER: _ClassVar[int]
    RUN_OUT_IN_DAYS_FIELD_NUMBER: _ClassVar[int]
    resource: str
    current_usage: str
    daily_growth: str
    projected_period_end: str
    quota_limit: str
    will_exceed_quota: bool
    run_out_in_days: str
    def __init__(self, resource: _Optional[str] = ..., current_usage: _Optional[str] = ..., daily_growth: _Optional[str] = ..., projected_period_end: _Optional[str] = ..., quota_limit: _Optional[str] = ..., will_exceed_quota: _Optional[bool] = ..., run_out_in_days: _Optional[str] = ...) -> None: ...

class GetProjectionsRequest(_message.Message):
    __slots__ = ("org_id", "resource_type")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    resource_type: str
    def __init__(self, org_id: _Optional[str] = ..., resource_type: _Optional[str] = ...) -> None: ...

class GetProjectionsResponse(_message.Message):
    __slots__ = ("projection_date", "period_end", "days_remaining", "projections")
    PROJECTION_DATE_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    DAYS_REMAINING_FIELD_NUMBER: _ClassVar[int]
    PROJECTIONS_FIELD_NUMBER: _ClassVar[int]
    projection_date: str
    period_end: _timestamp_pb2.Timestamp
    days_remaining: int
    projections: _containers.RepeatedCompositeFieldContainer[ResourceProjection]
    def __init__(self, projection_date: _Optional[str] = ..., period_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., days_remaining: _Optional[int] = ..., projections: _Optional[_Iterable[_Union[ResourceProjection, _Mapping]]] = ...) -> None: ...

class CostLine(_message.Message):
    __slots__ = ("resource", "usage", "unit_cost", "total_cost", "percentage")
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    UNIT_COST_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
    resource: str
    usage: str
    unit_cost: str
    total_cost: str
    percentage: str
    def __init__(self, resource: _Optional[str] = ..., usage: _Optional[str] = ..., unit_cost: _Optional[str] = ..., total_cost: _Optional[str] = ..., percentage: _Optional[str] = ...) -> None: ...

class ServiceCost(_message.Message):
    __slots__ = ("service", "costs", "total_cost")
    class CostsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    COSTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    service: str
    costs: _containers.ScalarMap[str, str]
    total_cost: str
    def __init__(self, service: _Optional[str] = ..., costs: _Optional[_Mapping[str, str]] = ..., total_cost: _Optional[str] = ...) -> None: ...

class UserCost(_message.Message):
    __slots__ = ("user_id", "name", "cost_usd")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COST_USD_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    name: str
    cost_usd: str
    def __init__(self, user_id: _Optional[str] = ..., name: _Optional[str] = ..., cost_usd: _Optional[str] = ...) -> None: ...

class CostPoint(_message.Message):
    __slots__ = ("date", "cost")
    DATE_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    date: str
    cost: str
    def __init__(self, date: _Optional[str] = ..., cost: _Optional[str] = ...) -> None: ...

class GetCostAnalysisRequest(_message.Message):
    __slots__ = ("org_id", "period", "resource_type", "granularity")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    GRANULARITY_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    period: ReportPeriod
    resource_type: str
    granularity: Granularity
    def __init__(self, org_id: _Optional[str] = ..., period: _Optional[_Union[ReportPeriod, str]] = ..., resource_type: _Optional[str] = ..., granularity: _Optional[_Union[Granularity, str]] = ...) -> None: ...

class GetCostAnalysisResponse(_message.Message):
    __slots__ = ("period", "range", "total_cost", "breakdown", "by_service", "by_user", "series", "estimated_monthly_total", "daily_average")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    BREAKDOWN_FIELD_NUMBER: _ClassVar[int]
    BY_SERVICE_FIELD_NUMBER: _ClassVar[int]
    BY_USER_FIELD_NUMBER: _ClassVar[int]
    SERIES_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_MONTHLY_TOTAL_FIELD_NUMBER: _ClassVar[int]
    DAILY_AVERAGE_FIELD_NUMBER: _ClassVar[int]
    period: ReportPeriod
    range: TimeRange
    total_cost: str
    breakdown: _containers.RepeatedCompositeFieldContainer[CostLine]
    by_service: _containers.RepeatedCompositeFieldContainer[ServiceCost]
    by_user: _containers.RepeatedCompositeFieldContainer[UserCost]
    series: _containers.RepeatedCompositeFieldContainer[CostPoint]
    estimated_monthly_total: str
    daily_average: str
    def __init__(self, period: _Optional[_Union[ReportPeriod, str]] = ..., range: _Optional[_Union[TimeRange, _Mapping]] = ..., total_cost: _Optional[str] = ..., breakdown: _Optional[_Iterable[_Union[CostLine, _Mapping]]] = ..., by_service: _Optional[_Iterable[_Union[ServiceCost, _Mapping]]] = ..., by_user: _Optional[_Iterable[_Union[UserCost, _Mapping]]] = ..., series: _Optional[_Iterable[_Union[CostPoint, _Mapping]]] = ..., estimated_monthly_total: _Optional[str] = ..., daily_average: _Optional[str] = ...) -> None: ...

class Recommendation(_message.Message):
    __slots__ = ("id", "priority", "category", "resource", "title", "description", "current_cost", "projected_savings", "savings_percent", "implementation_effort", "basis")
    ID_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CURRENT_COST_FIELD_NUMBER: _ClassVar[int]
    PROJECTED_SAVINGS_FIELD_NUMBER: _ClassVar[int]
    SAVINGS_PERCENT_FIELD_NUMBER: _ClassVar[int]
    IMPLEMENTATION_EFFORT_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    id: str
    priority: str
    category: str
    resource: str
    title: str
    description: str
    current_cost: str
    projected_savings: str
    savings_percent: str
    implementation_effort: str
    basis: _containers.RepeatedCompositeFieldContainer[RecommendationBasis]
    def __init__(self, id: _Optional[str] = ..., priority: _Optional[str] = ..., category: _Optional[str] = ..., resource: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., current_cost: _Optional[str] = ..., projected_savings: _Optional[str] = ..., savings_percent: _Optional[str] = ..., implementation_effort: _Optional[str] = ..., basis: _Optional[_Iterable[_Union[RecommendationBasis, _Mapping]]] = ...) -> None: ...

class RecommendationBasis(_message.Message):
    __slots__ = ("name", "used", "projected", "limit")
    NAME_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    PROJECTED_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    name: str
    used: str
    projected: str
    limit: str
    def __init__(self, name: _Optional[str] = ..., used: _Optional[str] = ..., projected: _Optional[str] = ..., limit: _Optional[str] = ...) -> None: ...

class ListRecommendationsRequest(_message.Message):
    __slots__ = ("org_id",)
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    def __init__(self, org_id: _Optional[str] = ...) -> None: ...

class ListRecommendationsResponse(_message.Message):
    __slots__ = ("recommendations",)
    RECOMMENDATIONS_FIELD_NUMBER: _ClassVar[int]
    recommendations: _containers.RepeatedCompositeFieldContainer[Recommendation]
    def __init__(self, recommendations: _Optional[_Iterable[_Union[Recommendation, _Mapping]]] = ...) -> None: ...

class GetCreditOverviewRequest(_message.Message):
    __slots__ = ("org_id",)
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    def __init__(self, org_id: _Optional[str] = ...) -> None: ...

class GetCreditOverviewResponse(_message.Message):
    __slots__ = ("org_id", "plan_id", "plan_name", "plan_price_usd", "unit", "period", "monthly_allowance", "monthly_remaining", "bonus_remaining", "reserved", "used", "total", "percentage", "days_remaining", "days_elapsed", "average_per_day", "run_out_in_days", "run_out_warning", "monthly_used", "bonus_used", "monthly_percentage", "bonus_percentage")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_NAME_FIELD_NUMBER: _ClassVar[int]
    PLAN_PRICE_USD_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_ALLOWANCE_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_REMAINING_FIELD_NUMBER: _ClassVar[int]
    BONUS_REMAINING_FIELD_NUMBER: _ClassVar[int]
    RESERVED_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
    DAYS_REMAINING_FIELD_NUMBER: _ClassVar[int]
    DAYS_ELAPSED_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_PER_DAY_FIELD_NUMBER: _ClassVar[int]
    RUN_OUT_IN_DAYS_FIELD_NUMBER: _ClassVar[int]
    RUN_OUT_WARNING_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_USED_FIELD_NUMBER: _ClassVar[int]
    BONUS_USED_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
    BONUS_PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    plan_id: str
    plan_name: str
    plan_price_usd: str
    unit: _metering_pb2.Unit
    period: TimeRange
    monthly_allowance: str
    monthly_remaining: str
    bonus_remaining: str
    reserved: str
    used: str
    total: str
    percentage: str
    days_remaining: int
    days_elapsed: int
    average_per_day: str
    run_out_in_days: str
    run_out_warning: bool
    monthly_used: str
    bonus_used: str
    monthly_percentage: str
    bonus_percentage: str
    def __init__(self, org_id: _Optional[str] = ..., plan_id: _Optional[str] = ..., plan_name: _Optional[str] = ..., plan_price_usd: _Optional[str] = ..., unit: _Optional[_Union[_metering_pb2.Unit, str]] = ..., period: _Optional[_Union[TimeRange, _Mapping]] = ..., monthly_allowance: _Optional[str] = ..., monthly_remaining: _Optional[str] = ..., bonus_remaining: _Optional[str] = ..., reserved: _Optional[str] = ..., used: _Optional[str] = ..., total: _Optional[str] = ..., percentage: _Optional[str] = ..., days_remaining: _Optional[int] = ..., days_elapsed: _Optional[int] = ..., average_per_day: _Optional[str] = ..., run_out_in_days: _Optional[str] = ..., run_out_warning: _Optional[bool] = ..., monthly_used: _Optional[str] = ..., bonus_used: _Optional[str] = ..., monthly_percentage: _Optional[str] = ..., bonus_percentage: _Optional[str] = ...) -> None: ...

class GetUsageBarRequest(_message.Message):
    __slots__ = ("org_id",)
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    def __init__(self, org_id: _Optional[str] = ...) -> None: ...

class GetUsageBarResponse(_message.Message):
    __slots__ = ("org_id", "unit", "used", "total", "percentage", "free_tier", "show_upgrade", "show_referral")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
    FREE_TIER_FIELD_NUMBER: _ClassVar[int]
    SHOW_UPGRADE_FIELD_NUMBER: _ClassVar[int]
    SHOW_REFERRAL_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    unit: _metering_pb2.Unit
    used: str
    total: str
    percentage: str
    free_tier: bool
    show_upgrade: bool
    show_referral: bool
    def __init__(self, org_id: _Optional[str] = ..., unit: _Optional[_Union[_metering_pb2.Unit, str]] = ..., used: _Optional[str] = ..., total: _Optional[str] = ..., percentage: _Optional[str] = ..., free_tier: _Optional[bool] = ..., show_upgrade: _Optional[bool] = ..., show_referral: _Optional[bool] = ...) -> None: ...

class ChartPoint(_message.Message):
    __slots__ = ("start", "end", "web", "cli", "other")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    WEB_FIELD_NUMBER: _ClassVar[int]
    CLI_FIELD_NUMBER: _ClassVar[int]
    OTHER_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    web: str
    cli: str
    other: str
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., web: _Optional[str] = ..., cli: _Optional[str] = ..., other: _Optional[str] = ...) -> None: ...

class GetUsageChartRequest(_message.Message):
    __slots__ = ("org_id", "range")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    range: ChartRange
    def __init__(self, org_id: _Optional[str] = ..., range: _Optional[_Union[ChartRange, str]] = ...) -> None: ...

class GetUsageChartResponse(_message.Message):
    __slots__ = ("range", "unit", "points")
    RANGE_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    range: ChartRange
    unit: _metering_pb2.Unit
    points: _containers.RepeatedCompositeFieldContainer[ChartPoint]
    def __init__(self, range: _Optional[_Union[ChartRange, str]] = ..., unit: _Optional[_Union[_metering_pb2.Unit, str]] = ..., points: _Optional[_Iterable[_Union[ChartPoint, _Mapping]]] = ...) -> None: ...

class Consumer(_message.Message):
    __slots__ = ("rank", "id", "name", "amount", "requests", "percentage")
    RANK_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
    rank: int
    id: str
    name: str
    amount: str
    requests: int
    percentage: str
    def __init__(self, rank: _Optional[int] = ..., id: _Optional[str] = ..., name: _Optional[str] = ..., amount: _Optional[str] = ..., requests: _Optional[int] = ..., percentage: _Optional[str] = ...) -> None: ...

class ListTopConsumersRequest(_message.Message):
    __slots__ = ("org_id", "kind", "page_size", "page_token")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    kind: ConsumerKind
    page_size: int
    page_token: str
    def __init__(self, org_id: _Optional[str] = ..., kind: _Optional[_Union[ConsumerKind, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListTopConsumersResponse(_message.Message):
    __slots__ = ("kind", "unit", "consumers", "next_page_token", "total_count")
    KIND_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    CONSUMERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    kind: ConsumerKind
    unit: _metering_pb2.Unit
    consumers: _containers.RepeatedCompositeFieldContainer[Consumer]
    next_page_token: str
    total_count: int
    def __init__(self, kind: _Optional[_Union[ConsumerKind, str]] = ..., unit: _Optional[_Union[_metering_pb2.Unit, str]] = ..., consumers: _Optional[_Iterable[_Union[Consumer, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_count: _Optional[int] = ...) -> None: ...

class GetApiMetricsRequest(_message.Message):
    __slots__ = ("org_id",)
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    def __init__(self, org_id: _Optional[str] = ...) -> None: ...

class GetApiMetricsResponse(_message.Message):
    __slots__ = ("total_requests", "webhook_events", "served_requests", "average_latency_ms", "active_agents", "tasks_handled", "llm_tokens", "registered_agents", "ephemeral_agents")
    TOTAL_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_EVENTS_FIELD_NUMBER: _ClassVar[int]
    SERVED_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_AGENTS_FIELD_NUMBER: _ClassVar[int]
    TASKS_HANDLED_FIELD_NUMBER: _ClassVar[int]
    LLM_TOKENS_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AGENTS_FIELD_NUMBER: _ClassVar[int]
    EPHEMERAL_AGENTS_FIELD_NUMBER: _ClassVar[int]
    total_requests: str
    webhook_events: str
    served_requests: int
    average_latency_ms: str
    active_agents: int
    tasks_handled: int
    llm_tokens: str
    registered_agents: int
    ephemeral_agents: int
    def __init__(self, total_requests: _Optional[str] = ..., webhook_events: _Optional[str] = ..., served_requests: _Optional[int] = ..., average_latency_ms: _Optional[str] = ..., active_agents: _Optional[int] = ..., tasks_handled: _Optional[int] = ..., llm_tokens: _Optional[str] = ..., registered_agents: _Optional[int] = ..., ephemeral_agents: _Optional[int] = ...) -> None: ...

class RateLimitBar(_message.Message):
    __slots__ = ("domain", "available", "limit", "used", "remaining", "percentage", "state", "reset_seconds")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    RESET_SECONDS_FIELD_NUMBER: _ClassVar[int]
    domain: str
    available: bool
    limit: int
    used: int
    remaining: int
    percentage: str
    state: str
    reset_seconds: str
    def __init__(self, domain: _Optional[str] = ..., available: _Optional[bool] = ..., limit: _Optional[int] = ..., used: _Optional[int] = ..., remaining: _Optional[int] = ..., percentage: _Optional[str] = ..., state: _Optional[str] = ..., reset_seconds: _Optional[str] = ...) -> None: ...

class GetRateLimitStatusRequest(_message.Message):
    __slots__ = ("org_id", "ip")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    IP_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    ip: str
    def __init__(self, org_id: _Optional[str] = ..., ip: _Optional[str] = ...) -> None: ...

class GetRateLimitStatusResponse(_message.Message):
    __slots__ = ("ip", "bars")
    IP_FIELD_NUMBER: _ClassVar[int]
    BARS_FIELD_NUMBER: _ClassVar[int]
    ip: str
    bars: _containers.RepeatedCompositeFieldContainer[RateLimitBar]
    def __init__(self, ip: _Optional[str] = ..., bars: _Optional[_Iterable[_Union[RateLimitBar, _Mapping]]] = ...) -> None: ...

class Invoice(_message.Message):
    __slots__ = ("invoice_id", "period", "amount_usd", "status", "due_date", "pdf_url", "amount", "currency")
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_USD_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    PDF_URL_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    invoice_id: str
    period: TimeRange
    amount_usd: str
    status: str
    due_date: _timestamp_pb2.Timestamp
    pdf_url: str
    amount: str
    currency: str
    def __init__(self, invoice_id: _Optional[str] = ..., period: _Optional[_Union[TimeRange, _Mapping]] = ..., amount_usd: _Optional[str] = ..., status: _Optional[str] = ..., due_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pdf_url: _Optional[str] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ...) -> None: ...

class ListInvoicesRequest(_message.Message):
    __slots__ = ("org_id",)
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    def __init__(self, org_id: _Optional[str] = ...) -> None: ...

class ListInvoicesResponse(_message.Message):
    __slots__ = ("invoices",)
    INVOICES_FIELD_NUMBER: _ClassVar[int]
    invoices: _containers.RepeatedCompositeFieldContainer[Invoice]
    def __init__(self, invoices: _Optional[_Iterable[_Union[Invoice, _Mapping]]] = ...) -> None: ...

class GetInvoiceRequest(_message.Message):
    __slots__ = ("org_id", "invoice_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    invoice_id: str
    def __init__(self, org_id: _Optional[str] = ..., invoice_id: _Optional[str] = ...) -> None: ...

class InvoiceLineItem(_message.Message):
    __slots__ = ("description", "meter", "quantity", "unit", "unit_price_usd", "amount_usd")
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    METER_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_USD_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_USD_FIELD_NUMBER: _ClassVar[int]
    description: str
    meter: str
    quantity: str
    unit: str
    unit_price_usd: str
    amount_usd: str
    def __init__(self, description: _Optional[str] = ..., meter: _Optional[str] = ..., quantity: _Optional[str] = ..., unit: _Optional[str] = ..., unit_price_usd: _Optional[str] = ..., amount_usd: _Optional[str] = ...) -> None: ...

class GetInvoiceResponse(_message.Message):
    __slots__ = ("invoice", "plan_id", "lines", "lines_total_usd")
    INVOICE_FIELD_NUMBER: _ClassVar[int]
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    LINES_TOTAL_USD_FIELD_NUMBER: _ClassVar[int]
    invoice: Invoice
    plan_id: str
    lines: _containers.RepeatedCompositeFieldContainer[InvoiceLineItem]
    lines_total_usd: str
    def __init__(self, invoice: _Optional[_Union[Invoice, _Mapping]] = ..., plan_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[InvoiceLineItem, _Mapping]]] = ..., lines_total_usd: _Optional[str] = ...) -> None: ...

class UsageMetric(_message.Message):
    __slots__ = ("name", "display_name", "usage", "unit", "price_per_unit")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    PRICE_PER_UNIT_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    usage: str
    unit: str
    price_per_unit: str
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., usage: _Optional[str] = ..., unit: _Optional[str] = ..., price_per_unit: _Optional[str] = ...) -> None: ...

class GetSubscriptionRequest(_message.Message):
    __slots__ = ("org_id",)
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    def __init__(self, org_id: _Optional[str] = ...) -> None: ...

class GetSubscriptionResponse(_message.Message):
    __slots__ = ("organization_id", "stripe_customer_id", "subscription_id", "plan", "status", "billing_cycle", "usage_based_metrics", "estimated_total_cost", "next_billing_date")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    STRIPE_CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BILLING_CYCLE_FIELD_NUMBER: _ClassVar[int]
    USAGE_BASED_METRICS_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    NEXT_BILLING_DATE_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    stripe_customer_id: str
    subscription_id: str
    plan: str
    status: str
    billing_cycle: TimeRange
    usage_based_metrics: _containers.RepeatedCompositeFieldContainer[UsageMetric]
    estimated_total_cost: str
    next_billing_date: _timestamp_pb2.Timestamp
    def __init__(self, organization_id: _Optional[str] = ..., stripe_customer_id: _Optional[str] = ..., subscription_id: _Optional[str] = ..., plan: _Optional[str] = ..., status: _Optional[str] = ..., billing_cycle: _Optional[_Union[TimeRange, _Mapping]] = ..., usage_based_metrics: _Optional[_Iterable[_Union[UsageMetric, _Mapping]]] = ..., estimated_total_cost: _Optional[str] = ..., next_billing_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UsageExport(_message.Message):
    __slots__ = ("export_id", "status", "format", "file_size_bytes", "row_count", "download_url", "expires_at", "created_at", "error", "kind")
    EXPORT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    FILE_SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    DOWNLOAD_URL_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    export_id: str
    status: str
    format: ExportFormat
    file_size_bytes: int
    row_count: int
    download_url: str
    expires_at: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    error: str
    kind: ExportKind
    def __init__(self, export_id: _Optional[str] = ..., status: _Optional[str] = ..., format: _Optional[_Union[ExportFormat, str]] = ..., file_size_bytes: _Optional[int] = ..., row_count: _Optional[int] = ..., download_url: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[str] = ..., kind: _Optional[_Union[ExportKind, str]] = ...) -> None: ...

class CreateUsageExportRequest(_message.Message):
    __slots__ = ("org_id", "format", "resource_types", "from_time", "to_time", "kind")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_TYPES_FIELD_NUMBER: _ClassVar[int]
    FROM_TIME_FIELD_NUMBER: _ClassVar[int]
    TO_TIME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    format: ExportFormat
    resource_types: _containers.RepeatedScalarFieldContainer[str]
    from_time: _timestamp_pb2.Timestamp
    to_time: _timestamp_pb2.Timestamp
    kind: ExportKind
    def __init__(self, org_id: _Optional[str] = ..., format: _Optional[_Union[ExportFormat, str]] = ..., resource_types: _Optional[_Iterable[str]] = ..., from_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., to_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[_Union[ExportKind, str]] = ...) -> None: ...

class CreateUsageExportResponse(_message.Message):
    __slots__ = ("export",)
    EXPORT_FIELD_NUMBER: _ClassVar[int]
    export: UsageExport
    def __init__(self, export: _Optional[_Union[UsageExport, _Mapping]] = ...) -> None: ...

class GetUsageExportRequest(_message.Message):
    __slots__ = ("org_id", "export_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    EXPORT_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    export_id: str
    def __init__(self, org_id: _Optional[str] = ..., export_id: _Optional[str] = ...) -> None: ...

class GetUsageExportResponse(_message.Message):
    __slots__ = ("export",)
    EXPORT_FIELD_NUMBER: _ClassVar[int]
    export: UsageExport
    def __init__(self, export: _Optional[_Union[UsageExport, _Mapping]] = ...) -> None: ...
