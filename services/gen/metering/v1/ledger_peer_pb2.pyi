from services.gen.metering.v1 import metering_pb2 as _metering_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ApplyOperationsRequest(_message.Message):
    __slots__ = ("operations",)
    OPERATIONS_FIELD_NUMBER: _ClassVar[int]
    operations: _containers.RepeatedCompositeFieldContainer[ForwardedOperation]
    def __init__(self, operations: _Optional[_Iterable[_Union[ForwardedOperation, _Mapping]]] = ...) -> None: ...

class ForwardedOperation(_message.Message):
    __slots__ = ("deduct", "reserve", "release")
    DEDUCT_FIELD_NUMBER: _ClassVar[int]
    RESERVE_FIELD_NUMBER: _ClassVar[int]
    RELEASE_FIELD_NUMBER: _ClassVar[int]
    deduct: _metering_pb2.DeductRequest
    reserve: _metering_pb2.ReserveRequest
    release: _metering_pb2.ReleaseRequest
    def __init__(self, deduct: _Optional[_Union[_metering_pb2.DeductRequest, _Mapping]] = ..., reserve: _Optional[_Union[_metering_pb2.ReserveRequest, _Mapping]] = ..., release: _Optional[_Union[_metering_pb2.ReleaseRequest, _Mapping]] = ...) -> None: ...

class ApplyOperationsResponse(_message.Message):
    __slots__ = ("outcomes",)
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedCompositeFieldContainer[OperationOutcome]
    def __init__(self, outcomes: _Optional[_Iterable[_Union[OperationOutcome, _Mapping]]] = ...) -> None: ...

class OperationOutcome(_message.Message):
    __slots__ = ("deduct", "reserve", "release", "error", "not_applied")
    DEDUCT_FIELD_NUMBER: _ClassVar[int]
    RESERVE_FIELD_NUMBER: _ClassVar[int]
    RELEASE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    NOT_APPLIED_FIELD_NUMBER: _ClassVar[int]
    deduct: _metering_pb2.DeductResponse
    reserve: _metering_pb2.ReserveResponse
    release: _metering_pb2.ReleaseResponse
    error: OperationError
    not_applied: bool
    def __init__(self, deduct: _Optional[_Union[_metering_pb2.DeductResponse, _Mapping]] = ..., reserve: _Optional[_Union[_metering_pb2.ReserveResponse, _Mapping]] = ..., release: _Optional[_Union[_metering_pb2.ReleaseResponse, _Mapping]] = ..., error: _Optional[_Union[OperationError, _Mapping]] = ..., not_applied: _Optional[bool] = ...) -> None: ...

class OperationError(_message.Message):
    __slots__ = ("code", "field", "reason")
    CODE_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    code: str
    field: str
    reason: str
    def __init__(self, code: _Optional[str] = ..., field: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...
