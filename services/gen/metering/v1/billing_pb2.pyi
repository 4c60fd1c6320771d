import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ResourceStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESOURCE_STATUS_UNSPECIFIED: _ClassVar[ResourceStatus]
    RESOURCE_STATUS_RUNNING: _ClassVar[ResourceStatus]
    RESOURCE_STATUS_DELETED: _ClassVar[ResourceStatus]

class InvoiceStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INVOICE_STATUS_UNSPECIFIED: _ClassVar[InvoiceStatus]
    INVOICE_STATUS_PAID: _ClassVar[InvoiceStatus]
    INVOICE_STATUS_PENDING: _ClassVar[InvoiceStatus]
    INVOICE_STATUS_OVERDUE: _ClassVar[InvoiceStatus]
    INVOICE_STATUS_VOID: _ClassVar[InvoiceStatus]

class PaymentMethodType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYMENT_METHOD_TYPE_UNSPECIFIED: _ClassVar[PaymentMethodType]
    PAYMENT_METHOD_TYPE_CARD: _ClassVar[PaymentMethodType]
    PAYMENT_METHOD_TYPE_US_BANK_ACCOUNT: _ClassVar[PaymentMethodType]

class CollectionMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COLLECTION_METHOD_UNSPECIFIED: _ClassVar[CollectionMethod]
    COLLECTION_METHOD_CHARGE_AUTOMATICALLY: _ClassVar[CollectionMethod]
    COLLECTION_METHOD_INVOICE: _ClassVar[CollectionMethod]
    COLLECTION_METHOD_WIRE: _ClassVar[CollectionMethod]

class SetupSessionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SETUP_SESSION_KIND_UNSPECIFIED: _ClassVar[SetupSessionKind]
    SETUP_SESSION_KIND_BILLING_PORTAL: _ClassVar[SetupSessionKind]
    SETUP_SESSION_KIND_SETUP_INTENT: _ClassVar[SetupSessionKind]
RESOURCE_STATUS_UNSPECIFIED: ResourceStatus
RESOURCE_STATUS_RUNNING: ResourceStatus
RESOURCE_STATUS_DELETED: ResourceStatus
INVOICE_STATUS_UNSPECIFIED: InvoiceStatus
INVOICE_STATUS_PAID: InvoiceStatus
INVOICE_STATUS_PENDING: InvoiceStatus
INVOICE_STATUS_OVERDUE: InvoiceStatus
INVOICE_STATUS_VOID: InvoiceStatus
PAYMENT_METHOD_TYPE_UNSPECIFIED: PaymentMethodType
PAYMENT_METHOD_TYPE_CARD: PaymentMethodType
PAYMENT_METHOD_TYPE_US_BANK_ACCOUNT: PaymentMethodType
COLLECTION_METHOD_UNSPECIFIED: CollectionMethod
COLLECTION_METHOD_CHARGE_AUTOMATICALLY: CollectionMethod
COLLECTION_METHOD_INVOICE: CollectionMethod
COLLECTION_METHOD_WIRE: CollectionMethod
SETUP_SESSION_KIND_UNSPECIFIED: SetupSessionKind
SETUP_SESSION_KIND_BILLING_PORTAL: SetupSessionKind
SETUP_SESSION_KIND_SETUP_INTENT: SetupSessionKind

class Resource(_message.Message):
    __slots__ = ("org_id", "resource_id", "kind", "name", "tier", "quantity", "user_id", "status", "created_at", "deleted_at", "hourly_usd", "billed_seconds", "cost_usd")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DELETED_AT_FIELD_NUMBER: _ClassVar[int]
    HOURLY_USD_FIELD_NUMBER: _ClassVar[int]
    BILLED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    COST_USD_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    resource_id: str
    kind: str
    name: str
    tier: str
    quantity: str
    user_id: str
    status: ResourceStatus
    created_at: _timestamp_pb2.Timestamp
    deleted_at: _timestamp_pb2.Timestamp
    hourly_usd: str
    billed_seconds: str
    cost_usd: str
    def __init__(self, org_id: _Optional[str] = ..., resource_id: _Optional[str] = ..., kind: _Optional[str] = ..., name: _Optional[str] = ..., tier: _Optional[str] = ..., quantity: _Optional[str] = ..., user_id: _Optional[str] = ..., status: _Optional[_Union[ResourceStatus, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deleted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., hourly_usd: _Optional[str] = ..., billed_seconds: _Optional[str] = ..., cost_usd: _Optional[str] = ...) -> None: ...

class CreateResourceRequest(_message.Message):
    __slots__ = ("org_id", "resource_id", "kind", "tier", "quantity", "name", "user_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    resource_id: str
    kind: str
    tier: str
    quantity: str
    name: str
    user_id: str
    def __init__(self, org_id: _Optional[str] = ..., resource_id: _Optional[str] = ..., kind: _Optional[str] = ..., tier: _Optional[str] = ..., quantity: _Optional[str] = ..., name: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class CreateResourceResponse(_message.Message):
    __slots__ = ("resource", "replayed")
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    resource: Resource
    replayed: bool
    def __init__(self, resource: _Optional[_Union[Resource, _Mapping]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class ResizeResourceRequest(_message.Message):
    __slots__ = ("org_id", "resource_id", "tier", "quantity")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    resource_id: str
    tier: str
    quantity: str
    def __init__(self, org_id: _Optional[str] = ..., resource_id: _Optional[str] = ..., tier: _Optional[str] = ..., quantity: _Optional[str] = ...) -> None: ...

class ResizeResourceResponse(_message.Message):
    __slots__ = ("resource", "replayed")
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    resource: Resource
    replayed: bool
    def __init__(self, resource: _Optional[_Union[Resource, _Mapping]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class DeleteResourceRequest(_message.Message):
    __slots__ = ("org_id", "resource_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    resource_id: str
    def __init__(self, org_id: _Optional[str] = ..., resource_id: _Optional[str] = ...) -> None: ...

class DeleteResourceResponse(_message.Message):
    __slots__ = ("resource", "replayed")
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    resource: Resource
    replayed: bool
    def __init__(self, resource: _Optional[_Union[Resource, _Mapping]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class GetResourceRequest(_message.Message):
    __slots__ = ("org_id", "resource_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    resource_id: str
    def __init__(self, org_id: _Optional[str] = ..., resource_id: _Optional[str] = ...) -> None: ...

class GetResourceResponse(_message.Message):
    __slots__ = ("resource",)
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    resource: Resource
    def __init__(self, resource: _Optional[_Union[Resource, _Mapping]] = ...) -> None: ...

class ListResourcesRequest(_message.Message):
    __slots__ = ("org_id", "kind", "include_deleted")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DELETED_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    kind: str
    include_deleted: bool
    def __init__(self, org_id: _Optional[str] = ..., kind: _Optional[str] = ..., include_deleted: _Optional[bool] = ...) -> None: ...

class ListResourcesResponse(_message.Message):
    __slots__ = ("resources",)
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    resources: _containers.RepeatedCompositeFieldContainer[Resource]
    def __init__(self, resources: _Optional[_Iterable[_Union[Resource, _Mapping]]] = ...) -> None: ...

class BillingCycle(_message.Message):
    __slots__ = ("current_period_start", "current_period_end")
    CURRENT_PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    CURRENT_PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    current_period_start: _timestamp_pb2.Timestamp
    current_period_end: _timestamp_pb2.Timestamp
    def __init__(self, current_period_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., current_period_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class BillingUsageMetric(_message.Message):
    __slots__ = ("name", "display_name", "usage", "unit", "price_per_unit", "cost_usd")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    PRICE_PER_UNIT_FIELD_NUMBER: _ClassVar[int]
    COST_USD_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    usage: str
    unit: str
    price_per_unit: str
    cost_usd: str
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., usage: _Optional[str] = ..., unit: _Optional[str] = ..., price_per_unit: _Optional[str] = ..., cost_usd: _Optional[str] = ...) -> None: ...

class GetBillingSubscriptionRequest(_message.Message):
    __slots__ = ("org_id",)
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    def __init__(self, org_id: _Optional[str] = ...) -> None: ...

class GetBillingSubscriptionResponse(_message.Message):
    __slots__ = ("org_id", "stripe_customer_id", "subscription_id", "plan", "status", "billing_cycle", "usage_based_metrics", "estimated_total_cost", "next_billing_date", "usage_as_of")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    STRIPE_CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BILLING_CYCLE_FIELD_NUMBER: _ClassVar[int]
    USAGE_BASED_METRICS_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    NEXT_BILLING_DATE_FIELD_NUMBER: _ClassVar[int]
    USAGE_AS_OF_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    stripe_customer_id: str
    subscription_id: str
    plan: str
    status: str
    billing_cycle: BillingCycle
    usage_based_metrics: _containers.RepeatedCompositeFieldContainer[BillingUsageMetric]
    estimated_total_cost: str
    next_billing_date: _timestamp_pb2.Timestamp
    usage_as_of: _timestamp_pb2.Timestamp
    def __init__(self, org_id: _Optional[str] = ..., stripe_customer_id: _Optional[str] = ..., subscription_id: _Optional[str] = ..., plan: _Optional[str] = ..., status: _Optional[str] = ..., billing_cycle: _Optional[_Union[BillingCycle, _Mapping]] = ..., usage_based_metrics: _Optional[_Iterable[_Union[BillingUsageMetric, _Mapping]]] = ..., estimated_total_cost: _Optional[str] = ..., next_billing_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., usage_as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class InvoiceLine(_message.Message):
    __slots__ = ("meter", "display_name", "service", "category", "quantity", "unit", "stripe_value", "stripe_scale", "stripe_delivered", "amount_usd")
    METER_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    STRIPE_VALUE_FIELD_NUMBER: _ClassVar[int]
    STRIPE_SCALE_FIELD_NUMBER: _ClassVar[int]
    STRIPE_DELIVERED_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_USD_FIELD_NUMBER: _ClassVar[int]
    meter: str
    display_name: str
    service: str
    category: str
    quantity: str
    unit: str
    stripe_value: int
    stripe_scale: int
    stripe_delivered: int
    amount_usd: str
    def __init__(self, meter: _Optional[str] = ..., display_name: _Optional[str] = ..., service: _Optional[str] = ..., category: _Optional[str] = ..., quantity: _Optional[str] = ..., unit: _Optional[str] = ..., stripe_value: _Optional[int] = ..., stripe_scale: _Optional[int] = ..., stripe_delivered: _Optional[int] = ..., amount_usd: _Optional[str] = ...) -> None: ...

class InvoiceServiceCost(_message.Message):
    __slots__ = ("service", "categories", "amount_usd")
    class CategoriesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_USD_FIELD_NUMBER: _ClassVar[int]
    service: str
    categories: _containers.ScalarMap[str, str]
    amount_usd: str
    def __init__(self, service: _Optional[str] = ..., categories: _Optional[_Mapping[str, str]] = ..., amount_usd: _Optional[str] = ...) -> None: ...

class InvoiceUserCost(_message.Message):
    __slots__ = ("user_id", "name", "cost_usd")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COST_USD_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    name: str
    cost_usd: str
    def __init__(self, user_id: _Optional[str] = ..., name: _Optional[str] = ..., cost_usd: _Optional[str] = ...) -> None: ...

class PreviewInvoiceRequest(_message.Message):
    __slots__ = ("org_id",)
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    def __init__(self, org_id: _Optional[str] = ...) -> None: ...

class PreviewInvoiceResponse(_message.Message):
    __slots__ = ("org_id", "period", "plan", "plan_price_usd", "lines", "by_service", "by_user", "usage_total_usd", "total_usd", "usage_as_of")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    PLAN_PRICE_USD_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    BY_SERVICE_FIELD_NUMBER: _ClassVar[int]
    BY_USER_FIELD_NUMBER: _ClassVar[int]
    USAGE_TOTAL_USD_FIELD_NUMBER: _ClassVar[int]
    TOTAL_USD_FIELD_NUMBER: _ClassVar[int]
    USAGE_AS_OF_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    period: BillingCycle
    plan: str
    plan_price_usd: str
    lines: _containers.RepeatedCompositeFieldContainer[InvoiceLine]
    by_service: _containers.RepeatedCompositeFieldContainer[InvoiceServiceCost]
    by_user: _containers.RepeatedCompositeFieldContainer[InvoiceUserCost]
    usage_total_usd: str
    total_usd: str
    usage_as_of: _timestamp_pb2.Timestamp
    def __init__(self, org_id: _Optional[str] = ..., period: _Optional[_Union[BillingCycle, _Mapping]] = ..., plan: _Optional[str] = ..., plan_price_usd: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[InvoiceLine, _Mapping]]] = ..., by_service: _Optional[_Iterable[_Union[InvoiceServiceCost, _Mapping]]] = ..., by_user: _Optional[_Iterable[_Union[InvoiceUserCost, _Mapping]]] = ..., usage_total_usd: _Optional[str] = ..., total_usd: _Optional[str] = ..., usage_as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class BillingInvoice(_message.Message):
    __slots__ = ("invoice_id", "number", "period_start", "period_end", "amount", "currency", "status", "due_date", "pdf_url", "hosted_url")
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    PDF_URL_FIELD_NUMBER: _ClassVar[int]
    HOSTED_URL_FIELD_NUMBER: _ClassVar[int]
    invoice_id: str
    number: str
    period_start: _timestamp_pb2.Timestamp
    period_end: _timestamp_pb2.Timestamp
    amount: str
    currency: str
    status: InvoiceStatus
    due_date: _timestamp_pb2.Timestamp
    pdf_url: str
    hosted_url: str
    def __init__(self, invoice_id: _Optional[str] = ..., number: _Optional[str] = ..., period_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., period_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ..., status: _Optional[_Union[InvoiceStatus, str]] = ..., due_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pdf_url: _Optional[str] = ..., hosted_url: _Optional[str] = ...) -> None: ...

class ListBillingInvoicesRequest(_message.Message):
    __slots__ = ("org_id",)
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    def __init__(self, org_id: _Optional[str] = ...) -> None: ...

class ListBillingInvoicesResponse(_message.Message):
    __slots__ = ("invoices",)
    INVOICES_FIELD_NUMBER: _ClassVar[int]
    invoices: _containers.RepeatedCompositeFieldContainer[BillingInvoice]
    def __init__(self, invoices: _Optional[_Iterable[_Union[BillingInvoice, _Mapping]]] = ...) -> None: ...

class PaymentMethod(_message.Message):
    __slots__ = ("payment_method_id", "type", "brand", "last4", "exp_month", "exp_year")
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    BRAND_FIELD_NUMBER: _ClassVar[int]
    LAST4_FIELD_NUMBER: _ClassVar[int]
    EXP_MONTH_FIELD_NUMBER: _ClassVar[int]
    EXP_YEAR_FIELD_NUMBER: _ClassVar[int]
    payment_method_id: str
    type: PaymentMethodType
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    def __init__(self, payment_method_id: _Optional[str] = ..., type: _Optional[_Union[PaymentMethodType, str]] = ..., brand: _Optional[str] = ..., last4: _Optional[str] = ..., exp_month: _Optional[int] = ..., exp_year: _Optional[int] = ...) -> None: ...

class ListPaymentMethodsRequest(_message.Message):
    __slots__ = ("org_id",)
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    def __init__(self, org_id: _Optional[str] = ...) -> None: ...

class ListPaymentMethodsResponse(_message.Message):
    __slots__ = ("payment_methods", "collection_method", "days_until_due")
    PAYMENT_METHODS_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_METHOD_FIELD_NUMBER: _ClassVar[int]
    DAYS_UNTIL_DUE_FIELD_NUMBER: _ClassVar[int]
    payment_methods: _containers.RepeatedCompositeFieldContainer[PaymentMethod]
    collection_method: CollectionMethod
    days_until_due: int
    def __init__(self, payment_methods: _Optional[_Iterable[_Union[PaymentMethod, _Mapping]]] = ..., collection_method: _Optional[_Union[CollectionMethod, str]] = ..., days_until_due: _Optional[int] = ...) -> None: ...

class CreatePaymentSetupSessionRequest(_message.Message):
    __slots__ = ("org_id", "kind", "return_url", "payment_method_types")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    RETURN_URL_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_TYPES_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    kind: SetupSessionKind
    return_url: str
    payment_method_types: _containers.RepeatedScalarFieldContainer[PaymentMethodType]
    def __init__(self, org_id: _Optional[str] = ..., kind: _Optional[_Union[SetupSessionKind, str]] = ..., return_url: _Optional[str] = ..., payment_method_types: _Optional[_Iterable[_Union[PaymentMethodType, str]]] = ...) -> None: ...

class CreatePaymentSetupSessionResponse(_message.Message):
    __slots__ = ("url", "client_secret", "session_id")
    URL_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    url: str
    client_secret: str
    session_id: str
    def __init__(self, url: _Optional[str] = ..., client_secret: _Optional[str] = ..., session_id: _Optional[str] = ...) -> None: ...

class SetCollectionMethodRequest(_message.Message):
    __slots__ = ("org_id", "collection_method", "days_until_due")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_METHOD_FIELD_NUMBER: _ClassVar[int]
    DAYS_UNTIL_DUE_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    collection_method: CollectionMethod
    days_until_due: int
    def __init__(self, org_id: _Optional[str] = ..., collection_method: _Optional[_Union[CollectionMethod, str]] = ..., days_until_due: _Optional[int] = ...) -> None: ...

class SetCollectionMethodResponse(_message.Message):
    __slots__ = ("collection_method", "days_until_due")
    COLLECTION_METHOD_FIELD_NUMBER: _ClassVar[int]
    DAYS_UNTIL_DUE_FIELD_NUMBER: _ClassVar[int]
    collection_method: CollectionMethod
    days_until_due: int
    def __init__(self, collection_method: _Optional[_Union[CollectionMethod, str]] = ..., days_until_due: _Optional[int] = ...) -> None: ...
