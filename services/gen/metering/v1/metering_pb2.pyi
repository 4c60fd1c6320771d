import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Source(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SOURCE_UNSPECIFIED: _ClassVar[Source]
    SOURCE_WEB: _ClassVar[Source]
    SOURCE_CLI: _ClassVar[Source]
    SOURCE_API: _ClassVar[Source]

class TokenKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TOKEN_KIND_UNSPECIFIED: _ClassVar[TokenKind]
    TOKEN_KIND_INPUT: _ClassVar[TokenKind]
    TOKEN_KIND_OUTPUT: _ClassVar[TokenKind]
    TOKEN_KIND_CACHE_READ: _ClassVar[TokenKind]
    TOKEN_KIND_CACHE_WRITE: _ClassVar[TokenKind]

class Unit(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNIT_UNSPECIFIED: _ClassVar[Unit]
    UNIT_CREDITS: _ClassVar[Unit]
    UNIT_USD: _ClassVar[Unit]

class EventStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_STATUS_UNSPECIFIED: _ClassVar[EventStatus]
    EVENT_STATUS_ACCEPTED: _ClassVar[EventStatus]
    EVENT_STATUS_DUPLICATE: _ClassVar[EventStatus]
    EVENT_STATUS_REJECTED: _ClassVar[EventStatus]

class DenialReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DENIAL_REASON_UNSPECIFIED: _ClassVar[DenialReason]
    DENIAL_REASON_INSUFFICIENT_CREDITS: _ClassVar[DenialReason]
    DENIAL_REASON_SPEND_CAP_REACHED: _ClassVar[DenialReason]
    DENIAL_REASON_HARD_LIMIT: _ClassVar[DenialReason]

class QuotaState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUOTA_STATE_UNSPECIFIED: _ClassVar[QuotaState]
    QUOTA_STATE_OK: _ClassVar[QuotaState]
    QUOTA_STATE_WARNING: _ClassVar[QuotaState]
    QUOTA_STATE_CRITICAL: _ClassVar[QuotaState]
    QUOTA_STATE_OVERAGE: _ClassVar[QuotaState]
SOURCE_UNSPECIFIED: Source
SOURCE_WEB: Source
SOURCE_CLI: Source
SOURCE_API: Source
TOKEN_KIND_UNSPECIFIED: TokenKind
TOKEN_KIND_INPUT: TokenKind
TOKEN_KIND_OUTPUT: TokenKind
TOKEN_KIND_CACHE_READ: TokenKind
TOKEN_KIND_CACHE_WRITE: TokenKind
UNIT_UNSPECIFIED: Unit
UNIT_CREDITS: Unit
UNIT_USD: Unit
EVENT_STATUS_UNSPECIFIED: EventStatus
EVENT_STATUS_ACCEPTED: EventStatus
EVENT_STATUS_DUPLICATE: EventStatus
EVENT_STATUS_REJECTED: EventStatus
DENIAL_REASON_UNSPECIFIED: DenialReason
DENIAL_REASON_INSUFFICIENT_CREDITS: DenialReason
DENIAL_REASON_SPEND_CAP_REACHED: DenialReason
DENIAL_REASON_HARD_LIMIT: DenialReason
QUOTA_STATE_UNSPECIFIED: QuotaState
QUOTA_STATE_OK: QuotaState
QUOTA_STATE_WARNING: QuotaState
QUOTA_STATE_CRITICAL: QuotaState
QUOTA_STATE_OVERAGE: QuotaState

class UsageEvent(_message.Message):
    __slots__ = ("idempotency_key", "meter", "quantity", "occurred_at", "workspace_id", "user_id", "source", "model", "token_kind")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    METER_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TOKEN_KIND_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    meter: str
    quantity: str
    occurred_at: _timestamp_pb2.Timestamp
    workspace_id: str
    user_id: str
    source: Source
    model: str
    token_kind: TokenKind
    def __init__(self, idempotency_key: _Optional[str] = ..., meter: _Optional[str] = ..., quantity: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., workspace_id: _Optional[str] = ..., user_id: _Optional[str] = ..., source: _Optional[_Union[Source, str]] = ..., model: _Optional[str] = ..., token_kind: _Optional[_Union[TokenKind, str]] = ...) -> None: ...

class RecordUsageRequest(_message.Message):
    __slots__ = ("org_id", "event", "events")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    event: UsageEvent
    events: _containers.RepeatedCompositeFieldContainer[UsageEvent]
    def __init__(self, org_id: _Optional[str] = ..., event: _Optional[_Union[UsageEvent, _Mapping]] = ..., events: _Optional[_Iterable[_Union[UsageEvent, _Mapping]]] = ...) -> None: ...

class FieldViolation(_message.Message):
    __slots__ = ("field", "description", "code")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    field: str
    description: str
    code: str
    def __init__(self, field: _Optional[str] = ..., description: _Optional[str] = ..., code: _Optional[str] = ...) -> None: ...

class EventResult(_message.Message):
    __slots__ = ("index", "status", "idempotency_key", "event_id", "recorded_at", "violation")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    VIOLATION_FIELD_NUMBER: _ClassVar[int]
    index: int
    status: EventStatus
    idempotency_key: str
    event_id: int
    recorded_at: _timestamp_pb2.Timestamp
    violation: FieldViolation
    def __init__(self, index: _Optional[int] = ..., status: _Optional[_Union[EventStatus, str]] = ..., idempotency_key: _Optional[str] = ..., event_id: _Optional[int] = ..., recorded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., violation: _Optional[_Union[FieldViolation, _Mapping]] = ...) -> None: ...

class RecordUsageResponse(_message.Message):
    __slots__ = ("results", "accepted", "duplicates", "rejected")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[EventResult]
    accepted: int
    duplicates: int
    rejected: int
    def __init__(self, results: _Optional[_Iterable[_Union[EventResult, _Mapping]]] = ..., accepted: _Optional[int] = ..., duplicates: _Optional[int] = ..., rejected: _Optional[int] = ...) -> None: ...

class LlmTokens(_message.Message):
    __slots__ = ("model", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_TOKENS_FIELD_NUMBER: _ClassVar[int]
    model: str
    input_tokens: str
    output_tokens: str
    cache_read_tokens: str
    cache_write_tokens: str
    def __init__(self, model: _Optional[str] = ..., input_tokens: _Optional[str] = ..., output_tokens: _Optional[str] = ..., cache_read_tokens: _Optional[str] = ..., cache_write_tokens: _Optional[str] = ...) -> None: ...

class Balance(_message.Message):
    __slots__ = ("unit", "monthly_remaining", "bonus_remaining", "reserved", "available")
    UNIT_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_REMAINING_FIELD_NUMBER: _ClassVar[int]
    BONUS_REMAINING_FIELD_NUMBER: _ClassVar[int]
    RESERVED_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    unit: Unit
    monthly_remaining: str
    bonus_remaining: str
    reserved: str
    available: str
    def __init__(self, unit: _Optional[_Union[Unit, str]] = ..., monthly_remaining: _Optional[str] = ..., bonus_remaining: _Optional[str] = ..., reserved: _Optional[str] = ..., available: _Optional[str] = ...) -> None: ...

class DeductRequest(_message.Message):
    __slots__ = ("org_id", "idempotency_key", "amount", "tokens", "hold_id", "workspace_id", "user_id", "source")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    idempotency_key: str
    amount: str
    tokens: LlmTokens
    hold_id: str
    workspace_id: str
    user_id: str
    source: Source
    def __init__(self, org_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., amount: _Optional[str] = ..., tokens: _Optional[_Union[LlmTokens, _Mapping]] = ..., hold_id: _Optional[str] = ..., workspace_id: _Optional[str] = ..., user_id: _Optional[str] = ..., source: _Optional[_Union[Source, str]] = ...) -> None: ...

class DeductResponse(_message.Message):
    __slots__ = ("granted", "denial_reason", "amount", "unit", "from_hold", "from_monthly", "from_bonus", "balance", "replayed", "created_at")
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    DENIAL_REASON_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    FROM_HOLD_FIELD_NUMBER: _ClassVar[int]
    FROM_MONTHLY_FIELD_NUMBER: _ClassVar[int]
    FROM_BONUS_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    granted: bool
    denial_reason: DenialReason
    amount: str
    unit: Unit
    from_hold: str
    from_monthly: str
    from_bonus: str
    balance: Balance
    replayed: bool
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, granted: _Optional[bool] = ..., denial_reason: _Optional[_Union[DenialReason, str]] = ..., amount: _Optional[str] = ..., unit: _Optional[_Union[Unit, str]] = ..., from_hold: _Optional[str] = ..., from_monthly: _Optional[str] = ..., from_bonus: _Optional[str] = ..., balance: _Optional[_Union[Balance, _Mapping]] = ..., replayed: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReserveRequest(_message.Message):
    __slots__ = ("org_id", "idempotency_key", "amount", "tokens", "ttl_seconds")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    idempotency_key: str
    amount: str
    tokens: LlmTokens
    ttl_seconds: int
    def __init__(self, org_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., amount: _Optional[str] = ..., tokens: _Optional[_Union[LlmTokens, _Mapping]] = ..., ttl_seconds: _Optional[int] = ...) -> None: ...

class ReserveResponse(_message.Message):
    __slots__ = ("hold_id", "granted", "denial_reason", "amount", "unit", "expires_at", "balance", "replayed")
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    DENIAL_REASON_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    hold_id: str
    granted: bool
    denial_reason: DenialReason
    amount: str
    unit: Unit
    expires_at: _timestamp_pb2.Timestamp
    balance: Balance
    replayed: bool
    def __init__(self, hold_id: _Optional[str] = ..., granted: _Optional[bool] = ..., denial_reason: _Optional[_Union[DenialReason, str]] = ..., amount: _Optional[str] = ..., unit: _Optional[_Union[Unit, str]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., balance: _Optional[_Union[Balance, _Mapping]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class ReleaseRequest(_message.Message):
    __slots__ = ("org_id", "hold_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    hold_id: str
    def __init__(self, org_id: _Optional[str] = ..., hold_id: _Optional[str] = ...) -> None: ...

class ReleaseResponse(_message.Message):
    __slots__ = ("released", "already_closed", "balance")
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    ALREADY_CLOSED_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    released: str
    already_closed: bool
    balance: Balance
    def __init__(self, released: _Optional[str] = ..., already_closed: _Optional[bool] = ..., balance: _Optional[_Union[Balance, _Mapping]] = ...) -> None: ...

class DeductSessionRequest(_message.Message):
    __slots__ = ("org_id", "open", "chunk", "close")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    CLOSE_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    open: DeductSessionOpen
    chunk: DeductSessionChunk
    close: DeductSessionClose
    def __init__(self, org_id: _Optional[str] = ..., open: _Optional[_Union[DeductSessionOpen, _Mapping]] = ..., chunk: _Optional[_Union[DeductSessionChunk, _Mapping]] = ..., close: _Optional[_Union[DeductSessionClose, _Mapping]] = ...) -> None: ...

class DeductSessionOpen(_message.Message):
    __slots__ = ("idempotency_key", "amount", "tokens", "ttl_seconds", "idle_timeout_seconds", "workspace_id", "user_id", "source")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    IDLE_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    amount: str
    tokens: LlmTokens
    ttl_seconds: int
    idle_timeout_seconds: int
    workspace_id: str
    user_id: str
    source: Source
    def __init__(self, idempotency_key: _Optional[str] = ..., amount: _Optional[str] = ..., tokens: _Optional[_Union[LlmTokens, _Mapping]] = ..., ttl_seconds: _Optional[int] = ..., idle_timeout_seconds: _Optional[int] = ..., workspace_id: _Optional[str] = ..., user_id: _Optional[str] = ..., source: _Optional[_Union[Source, str]] = ...) -> None: ...

class DeductSessionChunk(_message.Message):
    __slots__ = ("amount", "tokens")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    amount: str
    tokens: LlmTokens
    def __init__(self, amount: _Optional[str] = ..., tokens: _Optional[_Union[LlmTokens, _Mapping]] = ...) -> None: ...

class DeductSessionClose(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DeductSessionResponse(_message.Message):
    __slots__ = ("opened", "chunk", "settled")
    OPENED_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    SETTLED_FIELD_NUMBER: _ClassVar[int]
    opened: DeductSessionOpened
    chunk: DeductSessionChunkResult
    settled: DeductSessionSettled
    def __init__(self, opened: _Optional[_Union[DeductSessionOpened, _Mapping]] = ..., chunk: _Optional[_Union[DeductSessionChunkResult, _Mapping]] = ..., settled: _Optional[_Union[DeductSessionSettled, _Mapping]] = ...) -> None: ...

class DeductSessionOpened(_message.Message):
    __slots__ = ("hold_id", "granted", "denial_reason", "held", "unit", "expires_at", "balance")
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    DENIAL_REASON_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    hold_id: str
    granted: bool
    denial_reason: DenialReason
    held: str
    unit: Unit
    expires_at: _timestamp_pb2.Timestamp
    balance: Balance
    def __init__(self, hold_id: _Optional[str] = ..., granted: _Optional[bool] = ..., denial_reason: _Optional[_Union[DenialReason, str]] = ..., held: _Optional[str] = ..., unit: _Optional[_Union[Unit, str]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., balance: _Optional[_Union[Balance, _Mapping]] = ...) -> None: ...

class DeductSessionChunkResult(_message.Message):
    __slots__ = ("index", "granted", "denial_reason", "amount", "total", "hold_remaining", "available", "unit")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    DENIAL_REASON_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    HOLD_REMAINING_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    index: int
    granted: bool
    denial_reason: DenialReason
    amount: str
    total: str
    hold_remaining: str
    available: str
    unit: Unit
    def __init__(self, index: _Optional[int] = ..., granted: _Optional[bool] = ..., denial_reason: _Optional[_Union[DenialReason, str]] = ..., amount: _Optional[str] = ..., total: _Optional[str] = ..., hold_remaining: _Optional[str] = ..., available: _Optional[str] = ..., unit: _Optional[_Union[Unit, str]] = ...) -> None: ...

class DeductSessionSettled(_message.Message):
    __slots__ = ("charged", "unit", "from_hold", "from_monthly", "from_bonus", "balance", "replayed", "created_at")
    CHARGED_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    FROM_HOLD_FIELD_NUMBER: _ClassVar[int]
    FROM_MONTHLY_FIELD_NUMBER: _ClassVar[int]
    FROM_BONUS_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    charged: str
    unit: Unit
    from_hold: str
    from_monthly: str
    from_bonus: str
    balance: Balance
    replayed: bool
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, charged: _Optional[str] = ..., unit: _Optional[_Union[Unit, str]] = ..., from_hold: _Optional[str] = ..., from_monthly: _Optional[str] = ..., from_bonus: _Optional[str] = ..., balance: _Optional[_Union[Balance, _Mapping]] = ..., replayed: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class BillingPeriod(_message.Message):
    __slots__ = ("start", "end", "days_elapsed", "days_remaining")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    DAYS_ELAPSED_FIELD_NUMBER: _ClassVar[int]
    DAYS_REMAINING_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    days_elapsed: int
    days_remaining: int
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., days_elapsed: _Optional[int] = ..., days_remaining: _Optional[int] = ...) -> None: ...

class GetQuotaRequest(_message.Message):
    __slots__ = ("org_id", "meter")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    METER_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    meter: str
    def __init__(self, org_id: _Optional[str] = ..., meter: _Optional[str] = ...) -> None: ...

class GetQuotaResponse(_message.Message):
    __slots__ = ("org_id", "meter", "unit", "used", "limit", "unlimited", "percent", "state", "monthly_remaining", "bonus_remaining", "reserved", "period")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    METER_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    UNLIMITED_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_REMAINING_FIELD_NUMBER: _ClassVar[int]
    BONUS_REMAINING_FIELD_NUMBER: _ClassVar[int]
    RESERVED_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    meter: str
    unit: Unit
    used: str
    limit: str
    unlimited: bool
    percent: str
    state: QuotaState
    monthly_remaining: str
    bonus_remaining: str
    reserved: str
    period: BillingPeriod
    def __init__(self, org_id: _Optional[str] = ..., meter: _Optional[str] = ..., unit: _Optional[_Union[Unit, str]] = ..., used: _Optional[str] = ..., limit: _Optional[str] = ..., unlimited: _Optional[bool] = ..., percent: _Optional[str] = ..., state: _Optional[_Union[QuotaState, str]] = ..., monthly_remaining: _Optional[str] = ..., bonus_remaining: _Optional[str] = ..., reserved: _Optional[str] = ..., period: _Optional[_Union[BillingPeriod, _Mapping]] = ...) -> None: ...

class ProjectRequest(_message.Message):
    __slots__ = ("org_id", "meter")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    METER_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    meter: str
    def __init__(self, org_id: _Optional[str] = ..., meter: _Optional[str] = ...) -> None: ...

class ProjectResponse(_message.Message):
    __slots__ = ("org_id", "meter", "unit", "used", "limit", "unlimited", "average_per_day", "projected_period_end", "run_out_in_days", "will_exceed", "period")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    METER_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    UNLIMITED_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_PER_DAY_FIELD_NUMBER: _ClassVar[int]
    PROJECTED_PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    RUN_OUT_IN_DAYS_FIELD_NUMBER: _ClassVar[int]
    WILL_EXCEED_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    meter: str
    unit: Unit
    used: str
    limit: str
    unlimited: bool
    average_per_day: str
    projected_period_end: str
    run_out_in_days: str
    will_exceed: bool
    period: BillingPeriod
    def __init__(self, org_id: _Optional[str] = ..., meter: _Optional[str] = ..., unit: _Optional[_Union[Unit, str]] = ..., used: _Optional[str] = ..., limit: _Optional[str] = ..., unlimited: _Optional[bool] = ..., average_per_day: _Optional[str] = ..., projected_period_end: _Optional[str] = ..., run_out_in_days: _Optional[str] = ..., will_exceed: _Optional[bool] = ..., period: _Optional[_Union[BillingPeriod, _Mapping]] = ...) -> None: ...
