"""Gives every RPC a request id (from `x-request-id` metadata, else a new one) for its log lines,
and records its count and duration by method and status code."""

from __future__ import annotations

import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

import grpc

from services.metering.instruments import RPC_DURATION, RPC_REQUESTS
from services.observability.logs import REQUEST_ID

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    Handler = grpc.RpcMethodHandler[Any, Any]
    Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]]

MAX_REQUEST_ID = 128
log = logging.getLogger(__name__)


class ObservingInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    def __init__(self) -> None:
        self._observed: dict[Handler, Handler] = {}

    async def intercept_service(  # type: ignore[override]
        self, continuation: Continuation, details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(details)
        method: str = details.method  # type: ignore[attr-defined]
        if handler is None or handler.unary_unary is None:
            return handler
        # Keyed by the handler itself: the AuthInterceptor after this one hands out a handler per
        # caller (it carries the caller's tenant check), so one per method would let every later
        # caller run with the first caller's rights.
        observed = self._observed.get(handler)
        if observed is None:
            if len(self._observed) > 10_000:
                self._observed.clear()
            observed = self._observed[handler] = _observed(handler, method)
        return observed


def _request_id(metadata: Any) -> str:
    for key, value in metadata or ():
        if key == "x-request-id" and isinstance(value, str) and value:
            return value[:MAX_REQUEST_ID]
    return uuid.uuid4().hex[:16]


def _observed(handler: Handler, method: str) -> Handler:
    inner: Any = handler.unary_unary
    name = method.rsplit("/", 1)[-1]
    service = method.strip("/").split("/", 1)[0]

    async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        started = time.perf_counter()
        REQUEST_ID.set(_request_id(context.invocation_metadata()))
        code = grpc.StatusCode.UNKNOWN
        try:
            response = await inner(request, context)
            code = context.code() or grpc.StatusCode.OK
            return response
        except BaseException:
            code = context.code() or grpc.StatusCode.UNKNOWN
            raise
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            attributes = {"rpc.service": service, "rpc.method": name, "rpc.grpc.status_code": code.name}
            RPC_REQUESTS.add(1, attributes)
            RPC_DURATION.record(elapsed_ms, attributes)
            log.debug("%s %s in %.1f ms", name, code.name, elapsed_ms)

    return grpc.unary_unary_rpc_method_handler(
        call, request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )
