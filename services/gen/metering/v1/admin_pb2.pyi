import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    ROLE_PLATFORM_ADMIN: _ClassVar[Role]
    ROLE_TENANT_ADMIN: _ClassVar[Role]
    ROLE_BILLING_CONTACT: _ClassVar[Role]
    ROLE_SERVICE: _ClassVar[Role]

class BillingModel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BILLING_MODEL_UNSPECIFIED: _ClassVar[BillingModel]
    BILLING_MODEL_CREDITS: _ClassVar[BillingModel]
    BILLING_MODEL_BYOM: _ClassVar[BillingModel]

class PlanChangeStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLAN_CHANGE_STATUS_UNSPECIFIED: _ClassVar[PlanChangeStatus]
    PLAN_CHANGE_STATUS_PENDING: _ClassVar[PlanChangeStatus]
    PLAN_CHANGE_STATUS_APPROVED: _ClassVar[PlanChangeStatus]
    PLAN_CHANGE_STATUS_REFUSED: _ClassVar[PlanChangeStatus]

class AlertSeverity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_SEVERITY_UNSPECIFIED: _ClassVar[AlertSeverity]
    ALERT_SEVERITY_WARNING: _ClassVar[AlertSeverity]
    ALERT_SEVERITY_CRITICAL: _ClassVar[AlertSeverity]
    ALERT_SEVERITY_OVERAGE: _ClassVar[AlertSeverity]
    ALERT_SEVERITY_BUDGET: _ClassVar[AlertSeverity]
    ALERT_SEVERITY_PLAN_CHANGE: _ClassVar[AlertSeverity]

class AlertStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_STATUS_UNSPECIFIED: _ClassVar[AlertStatus]
    ALERT_STATUS_ACTIVE: _ClassVar[AlertStatus]
    ALERT_STATUS_RESOLVED: _ClassVar[AlertStatus]

class AlertChannel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_CHANNEL_UNSPECIFIED: _ClassVar[AlertChannel]
    ALERT_CHANNEL_IN_APP: _ClassVar[AlertChannel]
    ALERT_CHANNEL_EMAIL: _ClassVar[AlertChannel]
    ALERT_CHANNEL_WEBHOOK: _ClassVar[AlertChannel]
ROLE_UNSPECIFIED: Role
ROLE_PLATFORM_ADMIN: Role
ROLE_TENANT_ADMIN: Role
ROLE_BILLING_CONTACT: Role
ROLE_SERVICE: Role
BILLING_MODEL_UNSPECIFIED: BillingModel
BILLING_MODEL_CREDITS: BillingModel
BILLING_MODEL_BYOM: BillingModel
PLAN_CHANGE_STATUS_UNSPECIFIED: PlanChangeStatus
PLAN_CHANGE_STATUS_PENDING: PlanChangeStatus
PLAN_CHANGE_STATUS_APPROVED: PlanChangeStatus
PLAN_CHANGE_STATUS_REFUSED: PlanChangeStatus
ALERT_SEVERITY_UNSPECIFIED: AlertSeverity
ALERT_SEVERITY_WARNING: AlertSeverity
ALERT_SEVERITY_CRITICAL: AlertSeverity
ALERT_SEVERITY_OVERAGE: AlertSeverity
ALERT_SEVERITY_BUDGET: AlertSeverity
ALERT_SEVERITY_PLAN_CHANGE: AlertSeverity
ALERT_STATUS_UNSPECIFIED: AlertStatus
ALERT_STATUS_ACTIVE: AlertStatus
ALERT_STATUS_RESOLVED: AlertStatus
ALERT_CHANNEL_UNSPECIFIED: AlertChannel
ALERT_CHANNEL_IN_APP: AlertChannel
ALERT_CHANNEL_EMAIL: AlertChannel
ALERT_CHANNEL_WEBHOOK: AlertChannel

class Organization(_message.Message):
    __slots__ = ("org_id", "name", "plan_id", "billing_model", "monthly_spend_cap_usd", "billing_anchor", "created_at", "next_plan_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    BILLING_MODEL_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_SPEND_CAP_USD_FIELD_NUMBER: _ClassVar[int]
    BILLING_ANCHOR_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    NEXT_PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    name: str
    plan_id: str
    billing_model: BillingModel
    monthly_spend_cap_usd: str
    billing_anchor: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    next_plan_id: str
    def __init__(self, org_id: _Optional[str] = ..., name: _Optional[str] = ..., plan_id: _Optional[str] = ..., billing_model: _Optional[_Union[BillingModel, str]] = ..., monthly_spend_cap_usd: _Optional[str] = ..., billing_anchor: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., next_plan_id: _Optional[str] = ...) -> None: ...

class CreateOrganizationRequest(_message.Message):
    __slots__ = ("org_id", "name", "plan_id", "billing_model", "monthly_spend_cap_usd")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    BILLING_MODEL_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_SPEND_CAP_USD_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    name: str
    plan_id: str
    billing_model: BillingModel
    monthly_spend_cap_usd: str
    def __init__(self, org_id: _Optional[str] = ..., name: _Optional[str] = ..., plan_id: _Optional[str] = ..., billing_model: _Optional[_Union[BillingModel, str]] = ..., monthly_spend_cap_usd: _Optional[str] = ...) -> None: ...

class GetOrganizationRequest(_message.Message):
    __slots__ = ("org_id",)
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    def __init__(self, org_id: _Optional[str] = ...) -> None: ...

class ListOrganizationsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListOrganizationsResponse(_message.Message):
    __slots__ = ("organizations", "next_page_token")
    ORGANIZATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    organizations: _containers.RepeatedCompositeFieldContainer[Organization]
    next_page_token: str
    def __init__(self, organizations: _Optional[_Iterable[_Union[Organization, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateOrganizationRequest(_message.Message):
    __slots__ = ("org_id", "name")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    name: str
    def __init__(self, org_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class WorkspaceGroup(_message.Message):
    __slots__ = ("org_id", "group_id", "name")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    group_id: str
    name: str
    def __init__(self, org_id: _Optional[str] = ..., group_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class CreateWorkspaceGroupRequest(_message.Message):
    __slots__ = ("org_id", "group_id", "name")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    group_id: str
    name: str
    def __init__(self, org_id: _Optional[str] = ..., group_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ListWorkspaceGroupsRequest(_message.Message):
    __slots__ = ("org_id",)
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    def __init__(self, org_id: _Optional[str] = ...) -> None: ...

class ListWorkspaceGroupsResponse(_message.Message):
    __slots__ = ("groups",)
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[WorkspaceGroup]
    def __init__(self, groups: _Optional[_Iterable[_Union[WorkspaceGroup, _Mapping]]] = ...) -> None: ...

class Workspace(_message.Message):
    __slots__ = ("org_id", "workspace_id", "name", "group_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    workspace_id: str
    name: str
    group_id: str
    def __init__(self, org_id: _Optional[str] = ..., workspace_id: _Optional[str] = ..., name: _Optional[str] = ..., group_id: _Optional[str] = ...) -> None: ...

class CreateWorkspaceRequest(_message.Message):
    __slots__ = ("org_id", "workspace_id", "name", "group_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    workspace_id: str
    name: str
    group_id: str
    def __init__(self, org_id: _Optional[str] = ..., workspace_id: _Optional[str] = ..., name: _Optional[str] = ..., group_id: _Optional[str] = ...) -> None: ...

class UpdateWorkspaceRequest(_message.Message):
    __slots__ = ("org_id", "workspace_id", "name", "group_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    workspace_id: str
    name: str
    group_id: str
    def __init__(self, org_id: _Optional[str] = ..., workspace_id: _Optional[str] = ..., name: _Optional[str] = ..., group_id: _Optional[str] = ...) -> None: ...

class ListWorkspacesRequest(_message.Message):
    __slots__ = ("org_id",)
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    def __init__(self, org_id: _Optional[str] = ...) -> None: ...

class ListWorkspacesResponse(_message.Message):
    __slots__ = ("workspaces",)
    WORKSPACES_FIELD_NUMBER: _ClassVar[int]
    workspaces: _containers.RepeatedCompositeFieldContainer[Workspace]
    def __init__(self, workspaces: _Optional[_Iterable[_Union[Workspace, _Mapping]]] = ...) -> None: ...

class User(_message.Message):
    __slots__ = ("org_id", "user_id", "email", "name")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    user_id: str
    email: str
    name: str
    def __init__(self, org_id: _Optional[str] = ..., user_id: _Optional[str] = ..., email: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class CreateUserRequest(_message.Message):
    __slots__ = ("org_id", "user_id", "email", "name")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    user_id: str
    email: str
    name: str
    def __init__(self, org_id: _Optional[str] = ..., user_id: _Optional[str] = ..., email: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ListUsersRequest(_message.Message):
    __slots__ = ("org_id",)
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    def __init__(self, org_id: _Optional[str] = ...) -> None: ...

class ListUsersResponse(_message.Message):
    __slots__ = ("users",)
    USERS_FIELD_NUMBER: _ClassVar[int]
    users: _containers.RepeatedCompositeFieldContainer[User]
    def __init__(self, users: _Optional[_Iterable[_Union[User, _Mapping]]] = ...) -> None: ...

class ApiKey(_message.Message):
    __slots__ = ("key_id", "prefix", "org_id", "role", "name", "created_at", "revoked_at")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    prefix: str
    org_id: str
    role: Role
    name: str
    created_at: _timestamp_pb2.Timestamp
    revoked_at: _timestamp_pb2.Timestamp
    def __init__(self, key_id: _Optional[str] = ..., prefix: _Optional[str] = ..., org_id: _Optional[str] = ..., role: _Optional[_Union[Role, str]] = ..., name: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateApiKeyRequest(_message.Message):
    __slots__ = ("org_id", "role", "name")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    role: Role
    name: str
    def __init__(self, org_id: _Optional[str] = ..., role: _Optional[_Union[Role, str]] = ..., name: _Optional[str] = ...) -> None: ...

class CreateApiKeyResponse(_message.Message):
    __slots__ = ("key", "secret")
    KEY_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    key: ApiKey
    secret: str
    def __init__(self, key: _Optional[_Union[ApiKey, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class ListApiKeysRequest(_message.Message):
    __slots__ = ("org_id",)
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    def __init__(self, org_id: _Optional[str] = ...) -> None: ...

class ListApiKeysResponse(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[ApiKey]
    def __init__(self, keys: _Optional[_Iterable[_Union[ApiKey, _Mapping]]] = ...) -> None: ...

class RevokeApiKeyRequest(_message.Message):
    __slots__ = ("org_id", "key_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    key_id: str
    def __init__(self, org_id: _Optional[str] = ..., key_id: _Optional[str] = ...) -> None: ...

class PlanLimit(_message.Message):
    __slots__ = ("meter", "limit")
    METER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    meter: str
    limit: str
    def __init__(self, meter: _Optional[str] = ..., limit: _Optional[str] = ...) -> None: ...

class Plan(_message.Message):
    __slots__ = ("plan_id", "name", "monthly_credits", "price_usd", "limits")
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_CREDITS_FIELD_NUMBER: _ClassVar[int]
    PRICE_USD_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    plan_id: str
    name: str
    monthly_credits: str
    price_usd: str
    limits: _containers.RepeatedCompositeFieldContainer[PlanLimit]
    def __init__(self, plan_id: _Optional[str] = ..., name: _Optional[str] = ..., monthly_credits: _Optional[str] = ..., price_usd: _Optional[str] = ..., limits: _Optional[_Iterable[_Union[PlanLimit, _Mapping]]] = ...) -> None: ...

class ListPlansRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPlansResponse(_message.Message):
    __slots__ = ("plans",)
    PLANS_FIELD_NUMBER: _ClassVar[int]
    plans: _containers.RepeatedCompositeFieldContainer[Plan]
    def __init__(self, plans: _Optional[_Iterable[_Union[Plan, _Mapping]]] = ...) -> None: ...

class ChangePlanRequest(_message.Message):
    __slots__ = ("org_id", "plan_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    plan_id: str
    def __init__(self, org_id: _Optional[str] = ..., plan_id: _Optional[str] = ...) -> None: ...

class RequestPlanChangeRequest(_message.Message):
    __slots__ = ("org_id", "plan_id", "note")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    plan_id: str
    note: str
    def __init__(self, org_id: _Optional[str] = ..., plan_id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class PlanChangeRequest(_message.Message):
    __slots__ = ("org_id", "request_id", "plan_id", "note", "requested_at", "status", "requested_by", "decided_by", "decided_at", "reason")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    request_id: str
    plan_id: str
    note: str
    requested_at: _timestamp_pb2.Timestamp
    status: PlanChangeStatus
    requested_by: str
    decided_by: str
    decided_at: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, org_id: _Optional[str] = ..., request_id: _Optional[str] = ..., plan_id: _Optional[str] = ..., note: _Optional[str] = ..., requested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[_Union[PlanChangeStatus, str]] = ..., requested_by: _Optional[str] = ..., decided_by: _Optional[str] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class ListPlanChangeRequestsRequest(_message.Message):
    __slots__ = ("org_id", "status")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    status: PlanChangeStatus
    def __init__(self, org_id: _Optional[str] = ..., status: _Optional[_Union[PlanChangeStatus, str]] = ...) -> None: ...

class ListPlanChangeRequestsResponse(_message.Message):
    __slots__ = ("plan_change_requests",)
    PLAN_CHANGE_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    plan_change_requests: _containers.RepeatedCompositeFieldContainer[PlanChangeRequest]
    def __init__(self, plan_change_requests: _Optional[_Iterable[_Union[PlanChangeRequest, _Mapping]]] = ...) -> None: ...

class ApprovePlanChangeRequest(_message.Message):
    __slots__ = ("org_id", "request_id", "note")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    request_id: str
    note: str
    def __init__(self, org_id: _Optional[str] = ..., request_id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class ApprovePlanChangeResponse(_message.Message):
    __slots__ = ("plan_change_request", "organization")
    PLAN_CHANGE_REQUEST_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    plan_change_request: PlanChangeRequest
    organization: Organization
    def __init__(self, plan_change_request: _Optional[_Union[PlanChangeRequest, _Mapping]] = ..., organization: _Optional[_Union[Organization, _Mapping]] = ...) -> None: ...

class RefusePlanChangeRequest(_message.Message):
    __slots__ = ("org_id", "request_id", "reason")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    request_id: str
    reason: str
    def __init__(self, org_id: _Optional[str] = ..., request_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RefusePlanChangeResponse(_message.Message):
    __slots__ = ("plan_change_request",)
    PLAN_CHANGE_REQUEST_FIELD_NUMBER: _ClassVar[int]
    plan_change_request: PlanChangeRequest
    def __init__(self, plan_change_request: _Optional[_Union[PlanChangeRequest, _Mapping]] = ...) -> None: ...

class LlmPrice(_message.Message):
    __slots__ = ("model", "effective_from", "input_usd_per_mtok", "output_usd_per_mtok", "cache_read_usd_per_mtok", "cache_write_usd_per_mtok")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    INPUT_USD_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_USD_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_USD_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_USD_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    model: str
    effective_from: _timestamp_pb2.Timestamp
    input_usd_per_mtok: str
    output_usd_per_mtok: str
    cache_read_usd_per_mtok: str
    cache_write_usd_per_mtok: str
    def __init__(self, model: _Optional[str] = ..., effective_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., input_usd_per_mtok: _Optional[str] = ..., output_usd_per_mtok: _Optional[str] = ..., cache_read_usd_per_mtok: _Optional[str] = ..., cache_write_usd_per_mtok: _Optional[str] = ...) -> None: ...

class SetLlmPriceRequest(_message.Message):
    __slots__ = ("price",)
    PRICE_FIELD_NUMBER: _ClassVar[int]
    price: LlmPrice
    def __init__(self, price: _Optional[_Union[LlmPrice, _Mapping]] = ...) -> None: ...

class ListLlmPricesRequest(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: str
    def __init__(self, model: _Optional[str] = ...) -> None: ...

class ListLlmPricesResponse(_message.Message):
    __slots__ = ("prices",)
    PRICES_FIELD_NUMBER: _ClassVar[int]
    prices: _containers.RepeatedCompositeFieldContainer[LlmPrice]
    def __init__(self, prices: _Optional[_Iterable[_Union[LlmPrice, _Mapping]]] = ...) -> None: ...

class CreditRate(_message.Message):
    __slots__ = ("effective_from", "credits_per_usd")
    EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    CREDITS_PER_USD_FIELD_NUMBER: _ClassVar[int]
    effective_from: _timestamp_pb2.Timestamp
    credits_per_usd: str
    def __init__(self, effective_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., credits_per_usd: _Optional[str] = ...) -> None: ...

class SetCreditRateRequest(_message.Message):
    __slots__ = ("rate",)
    RATE_FIELD_NUMBER: _ClassVar[int]
    rate: CreditRate
    def __init__(self, rate: _Optional[_Union[CreditRate, _Mapping]] = ...) -> None: ...

class ResourceRate(_message.Message):
    __slots__ = ("resource", "tier", "effective_from", "hourly_usd", "monthly_usd")
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    HOURLY_USD_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_USD_FIELD_NUMBER: _ClassVar[int]
    resource: str
    tier: str
    effective_from: _timestamp_pb2.Timestamp
    hourly_usd: str
    monthly_usd: str
    def __init__(self, resource: _Optional[str] = ..., tier: _Optional[str] = ..., effective_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., hourly_usd: _Optional[str] = ..., monthly_usd: _Optional[str] = ...) -> None: ...

class SetResourceRateRequest(_message.Message):
    __slots__ = ("rate",)
    RATE_FIELD_NUMBER: _ClassVar[int]
    rate: ResourceRate
    def __init__(self, rate: _Optional[_Union[ResourceRate, _Mapping]] = ...) -> None: ...

class SetResourceRateResponse(_message.Message):
    __slots__ = ("rate",)
    RATE_FIELD_NUMBER: _ClassVar[int]
    rate: ResourceRate
    def __init__(self, rate: _Optional[_Union[ResourceRate, _Mapping]] = ...) -> None: ...

class ListResourceRatesRequest(_message.Message):
    __slots__ = ("resource",)
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    resource: str
    def __init__(self, resource: _Optional[str] = ...) -> None: ...

class ListResourceRatesResponse(_message.Message):
    __slots__ = ("rates",)
    RATES_FIELD_NUMBER: _ClassVar[int]
    rates: _containers.RepeatedCompositeFieldContainer[ResourceRate]
    def __init__(self, rates: _Optional[_Iterable[_Union[ResourceRate, _Mapping]]] = ...) -> None: ...

class CreditGrant(_message.Message):
    __slots__ = ("org_id", "grant_id", "kind", "amount", "remaining", "expires_at", "source", "created_at")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    grant_id: int
    kind: str
    amount: str
    remaining: str
    expires_at: _timestamp_pb2.Timestamp
    source: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, org_id: _Optional[str] = ..., grant_id: _Optional[int] = ..., kind: _Optional[str] = ..., amount: _Optional[str] = ..., remaining: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GrantBonusCreditsRequest(_message.Message):
    __slots__ = ("org_id", "amount", "source", "expires_at", "idempotency_key")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    amount: str
    source: str
    expires_at: _timestamp_pb2.Timestamp
    idempotency_key: str
    def __init__(self, org_id: _Optional[str] = ..., amount: _Optional[str] = ..., source: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ListCreditGrantsRequest(_message.Message):
    __slots__ = ("org_id",)
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    def __init__(self, org_id: _Optional[str] = ...) -> None: ...

class ListCreditGrantsResponse(_message.Message):
    __slots__ = ("grants",)
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    grants: _containers.RepeatedCompositeFieldContainer[CreditGrant]
    def __init__(self, grants: _Optional[_Iterable[_Union[CreditGrant, _Mapping]]] = ...) -> None: ...

class SetSpendCapRequest(_message.Message):
    __slots__ = ("org_id", "monthly_spend_cap_usd")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_SPEND_CAP_USD_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    monthly_spend_cap_usd: str
    def __init__(self, org_id: _Optional[str] = ..., monthly_spend_cap_usd: _Optional[str] = ...) -> None: ...

class Quota(_message.Message):
    __slots__ = ("org_id", "resource", "soft_limit", "hard_limit", "alert_at_percent", "alert_enabled", "updated_at", "current_usage")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    SOFT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    HARD_LIMIT_FIELD_NUMBER: _ClassVar[int]
    ALERT_AT_PERCENT_FIELD_NUMBER: _ClassVar[int]
    ALERT_ENABLED_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    CURRENT_USAGE_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    resource: str
    soft_limit: str
    hard_limit: str
    alert_at_percent: int
    alert_enabled: bool
    updated_at: _timestamp_pb2.Timestamp
    current_usage: str
    def __init__(self, org_id: _Optional[str] = ..., resource: _Optional[str] = ..., soft_limit: _Optional[str] = ..., hard_limit: _Optional[str] = ..., alert_at_percent: _Optional[int] = ..., alert_enabled: _Optional[bool] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., current_usage: _Optional[str] = ...) -> None: ...

class SetQuotaRequest(_message.Message):
    __slots__ = ("org_id", "resource", "soft_limit", "hard_limit", "alert_at_percent", "alert_enabled")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    SOFT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    HARD_LIMIT_FIELD_NUMBER: _ClassVar[int]
    ALERT_AT_PERCENT_FIELD_NUMBER: _ClassVar[int]
    ALERT_ENABLED_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    resource: str
    soft_limit: str
    hard_limit: str
    alert_at_percent: int
    alert_enabled: bool
    def __init__(self, org_id: _Optional[str] = ..., resource: _Optional[str] = ..., soft_limit: _Optional[str] = ..., hard_limit: _Optional[str] = ..., alert_at_percent: _Optional[int] = ..., alert_enabled: _Optional[bool] = ...) -> None: ...

class SetBudgetAlertRequest(_message.Message):
    __slots__ = ("org_id", "resource", "alert_at_percent", "alert_enabled")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    ALERT_AT_PERCENT_FIELD_NUMBER: _ClassVar[int]
    ALERT_ENABLED_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    resource: str
    alert_at_percent: int
    alert_enabled: bool
    def __init__(self, org_id: _Optional[str] = ..., resource: _Optional[str] = ..., alert_at_percent: _Optional[int] = ..., alert_enabled: _Optional[bool] = ...) -> None: ...

class ListQuotasRequest(_message.Message):
    __slots__ = ("org_id",)
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    def __init__(self, org_id: _Optional[str] = ...) -> None: ...

class ListQuotasResponse(_message.Message):
    __slots__ = ("quotas",)
    QUOTAS_FIELD_NUMBER: _ClassVar[int]
    quotas: _containers.RepeatedCompositeFieldContainer[Quota]
    def __init__(self, quotas: _Optional[_Iterable[_Union[Quota, _Mapping]]] = ...) -> None: ...

class Alert(_message.Message):
    __slots__ = ("org_id", "alert_id", "resource", "severity", "status", "current_usage", "quota_limit", "usage_percent", "threshold_percent", "message", "triggered_at", "resolved_at")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CURRENT_USAGE_FIELD_NUMBER: _ClassVar[int]
    QUOTA_LIMIT_FIELD_NUMBER: _ClassVar[int]
    USAGE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_PERCENT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TRIGGERED_AT_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_AT_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    alert_id: str
    resource: str
    severity: AlertSeverity
    status: AlertStatus
    current_usage: str
    quota_limit: str
    usage_percent: str
    threshold_percent: int
    message: str
    triggered_at: _timestamp_pb2.Timestamp
    resolved_at: _timestamp_pb2.Timestamp
    def __init__(self, org_id: _Optional[str] = ..., alert_id: _Optional[str] = ..., resource: _Optional[str] = ..., severity: _Optional[_Union[AlertSeverity, str]] = ..., status: _Optional[_Union[AlertStatus, str]] = ..., current_usage: _Optional[str] = ..., quota_limit: _Optional[str] = ..., usage_percent: _Optional[str] = ..., threshold_percent: _Optional[int] = ..., message: _Optional[str] = ..., triggered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListAlertsRequest(_message.Message):
    __slots__ = ("org_id", "severity", "status", "resource")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    severity: AlertSeverity
    status: AlertStatus
    resource: str
    def __init__(self, org_id: _Optional[str] = ..., severity: _Optional[_Union[AlertSeverity, str]] = ..., status: _Optional[_Union[AlertStatus, str]] = ..., resource: _Optional[str] = ...) -> None: ...

class ListAlertsResponse(_message.Message):
    __slots__ = ("alerts",)
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[Alert]
    def __init__(self, alerts: _Optional[_Iterable[_Union[Alert, _Mapping]]] = ...) -> None: ...

class SeverityChannels(_message.Message):
    __slots__ = ("severity", "channels")
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    severity: AlertSeverity
    channels: _containers.RepeatedScalarFieldContainer[AlertChannel]
    def __init__(self, severity: _Optional[_Union[AlertSeverity, str]] = ..., channels: _Optional[_Iterable[_Union[AlertChannel, str]]] = ...) -> None: ...

class AlertChannels(_message.Message):
    __slots__ = ("org_id", "routes", "email_recipients", "webhook_url", "webhook_secret_set")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    EMAIL_RECIPIENTS_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_URL_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_SECRET_SET_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    routes: _containers.RepeatedCompositeFieldContainer[SeverityChannels]
    email_recipients: _containers.RepeatedScalarFieldContainer[str]
    webhook_url: str
    webhook_secret_set: bool
    def __init__(self, org_id: _Optional[str] = ..., routes: _Optional[_Iterable[_Union[SeverityChannels, _Mapping]]] = ..., email_recipients: _Optional[_Iterable[str]] = ..., webhook_url: _Optional[str] = ..., webhook_secret_set: _Optional[bool] = ...) -> None: ...

class SetAlertChannelsRequest(_message.Message):
    __slots__ = ("org_id", "routes", "email_recipients", "webhook_url", "webhook_secret")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    EMAIL_RECIPIENTS_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_URL_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_SECRET_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    routes: _containers.RepeatedCompositeFieldContainer[SeverityChannels]
    email_recipients: _containers.RepeatedScalarFieldContainer[str]
    webhook_url: str
    webhook_secret: str
    def __init__(self, org_id: _Optional[str] = ..., routes: _Optional[_Iterable[_Union[SeverityChannels, _Mapping]]] = ..., email_recipients: _Optional[_Iterable[str]] = ..., webhook_url: _Optional[str] = ..., webhook_secret: _Optional[str] = ...) -> None: ...

class CreateOrganizationResponse(_message.Message):
    __slots__ = ("organization",)
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    organization: Organization
    def __init__(self, organization: _Optional[_Union[Organization, _Mapping]] = ...) -> None: ...

class GetOrganizationResponse(_message.Message):
    __slots__ = ("organization",)
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    organization: Organization
    def __init__(self, organization: _Optional[_Union[Organization, _Mapping]] = ...) -> None: ...

class UpdateOrganizationResponse(_message.Message):
    __slots__ = ("organization",)
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    organization: Organization
    def __init__(self, organization: _Optional[_Union[Organization, _Mapping]] = ...) -> None: ...

class CreateWorkspaceGroupResponse(_message.Message):
    __slots__ = ("workspace_group",)
    WORKSPACE_GROUP_FIELD_NUMBER: _ClassVar[int]
    workspace_group: WorkspaceGroup
    def __init__(self, workspace_group: _Optional[_Union[WorkspaceGroup, _Mapping]] = ...) -> None: ...

class CreateWorkspaceResponse(_message.Message):
    __slots__ = ("workspace",)
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    workspace: Workspace
    def __init__(self, workspace: _Optional[_Union[Workspace, _Mapping]] = ...) -> None: ...

class UpdateWorkspaceResponse(_message.Message):
    __slots__ = ("workspace",)
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    workspace: Workspace
    def __init__(self, workspace: _Optional[_Union[Workspace, _Mapping]] = ...) -> None: ...

class CreateUserResponse(_message.Message):
    __slots__ = ("user",)
    USER_FIELD_NUMBER: _ClassVar[int]
    user: User
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ...) -> None: ...

class RevokeApiKeyResponse(_message.Message):
    __slots__ = ("api_key",)
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    api_key: ApiKey
    def __init__(self, api_key: _Optional[_Union[ApiKey, _Mapping]] = ...) -> None: ...

class ChangePlanResponse(_message.Message):
    __slots__ = ("organization",)
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    organization: Organization
    def __init__(self, organization: _Optional[_Union[Organization, _Mapping]] = ...) -> None: ...

class RequestPlanChangeResponse(_message.Message):
    __slots__ = ("plan_change_request",)
    PLAN_CHANGE_REQUEST_FIELD_NUMBER: _ClassVar[int]
    plan_change_request: PlanChangeRequest
    def __init__(self, plan_change_request: _Optional[_Union[PlanChangeRequest, _Mapping]] = ...) -> None: ...

class SetLlmPriceResponse(_message.Message):
    __slots__ = ("llm_price",)
    LLM_PRICE_FIELD_NUMBER: _ClassVar[int]
    llm_price: LlmPrice
    def __init__(self, llm_price: _Optional[_Union[LlmPrice, _Mapping]] = ...) -> None: ...

class SetCreditRateResponse(_message.Message):
    __slots__ = ("credit_rate",)
    CREDIT_RATE_FIELD_NUMBER: _ClassVar[int]
    credit_rate: CreditRate
    def __init__(self, credit_rate: _Optional[_Union[CreditRate, _Mapping]] = ...) -> None: ...

class GrantBonusCreditsResponse(_message.Message):
    __slots__ = ("credit_grant", "replayed")
    CREDIT_GRANT_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    credit_grant: CreditGrant
    replayed: bool
    def __init__(self, credit_grant: _Optional[_Union[CreditGrant, _Mapping]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class SetSpendCapResponse(_message.Message):
    __slots__ = ("organization",)
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    organization: Organization
    def __init__(self, organization: _Optional[_Union[Organization, _Mapping]] = ...) -> None: ...

class MeterLimit(_message.Message):
    __slots__ = ("meter", "limit")
    METER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    meter: str
    limit: str
    def __init__(self, meter: _Optional[str] = ..., limit: _Optional[str] = ...) -> None: ...

class SetNegotiatedAllowanceRequest(_message.Message):
    __slots__ = ("org_id", "monthly_credits", "limits", "at_once")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_CREDITS_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    AT_ONCE_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    monthly_credits: str
    limits: _containers.RepeatedCompositeFieldContainer[MeterLimit]
    at_once: bool
    def __init__(self, org_id: _Optional[str] = ..., monthly_credits: _Optional[str] = ..., limits: _Optional[_Iterable[_Union[MeterLimit, _Mapping]]] = ..., at_once: _Optional[bool] = ...) -> None: ...

class SetNegotiatedAllowanceResponse(_message.Message):
    __slots__ = ("org_id", "effective_from", "monthly_credits", "limits")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_CREDITS_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    effective_from: _timestamp_pb2.Timestamp
    monthly_credits: str
    limits: _containers.RepeatedCompositeFieldContainer[MeterLimit]
    def __init__(self, org_id: _Optional[str] = ..., effective_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., monthly_credits: _Optional[str] = ..., limits: _Optional[_Iterable[_Union[MeterLimit, _Mapping]]] = ...) -> None: ...

class SetQuotaResponse(_message.Message):
    __slots__ = ("quota",)
    QUOTA_FIELD_NUMBER: _ClassVar[int]
    quota: Quota
    def __init__(self, quota: _Optional[_Union[Quota, _Mapping]] = ...) -> None: ...

class SetBudgetAlertResponse(_message.Message):
    __slots__ = ("quota",)
    QUOTA_FIELD_NUMBER: _ClassVar[int]
    quota: Quota
    def __init__(self, quota: _Optional[_Union[Quota, _Mapping]] = ...) -> None: ...

class SetAlertChannelsResponse(_message.Message):
    __slots__ = ("alert_channels",)
    ALERT_CHANNELS_FIELD_NUMBER: _ClassVar[int]
    alert_channels: AlertChannels
    def __init__(self, alert_channels: _Optional[_Union[AlertChannels, _Mapping]] = ...) -> None: ...
