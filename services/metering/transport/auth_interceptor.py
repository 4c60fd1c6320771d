"""Authenticates every RPC by its bearer API key and enforces the access rules."""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc

from services.domain.access import Principal
from services.metering.store.api_keys import KeyRing
from services.metering.store.outage import DATABASE_UNREACHABLE
from services.metering.transport.access_rules import OPEN_PREFIXES, RULES

CALLER: contextvars.ContextVar[Principal] = contextvars.ContextVar("metering_caller")

if TYPE_CHECKING:
    Handler = grpc.RpcMethodHandler[Any, Any]
    Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]]


class AuthInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    def __init__(self, keys: KeyRing) -> None:
        self._keys = keys
        self._guarded: dict[tuple[str, Principal], Handler] = {}

    async def intercept_service(  # type: ignore[override]
        self, continuation: Continuation,
        details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        method: str = details.method  # type: ignore[attr-defined]
        handler = await continuation(details)
        if handler is None or method.startswith(OPEN_PREFIXES):
            return handler
        rule = RULES.get(method)
        if rule is None:
            return _refusal(handler, grpc.StatusCode.PERMISSION_DENIED, "no access rule for this method")
        token = _bearer(details.invocation_metadata)  # type: ignore[attr-defined]
        if token is None:
            return _refusal(handler, grpc.StatusCode.UNAUTHENTICATED,
                            "missing 'authorization: Bearer <api key>' metadata")
        try:
            principal = await self._keys.principal(token)
        except DATABASE_UNREACHABLE:
            return _refusal(handler, grpc.StatusCode.UNAVAILABLE,
                            "database unavailable; retry with the same idempotency key")
        if principal is None:
            return _refusal(handler, grpc.StatusCode.UNAUTHENTICATED, "unknown or revoked API key")
        if principal.role not in rule.roles:
            return _refusal(handler, grpc.StatusCode.PERMISSION_DENIED,
                            f"role {principal.role.value} may not call {method.rsplit('/', 1)[-1]}")
        guarded = self._guarded.get((method, principal))
        if guarded is None:
            if len(self._guarded) > 10_000:
                self._guarded.clear()
            guarded = self._guarded[(method, principal)] = _guarded(handler, principal, rule.tenant)
        return guarded


def _bearer(metadata: Any) -> str | None:
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
            return value[len("Bearer "):].strip()
    return None


def _guarded(handler: Handler, principal: Principal, tenant: bool) -> Handler:
    inner: Any = handler.unary_unary

    async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        if tenant and not principal.may_act_for(getattr(request, "org_id", "")):
            await context.abort(grpc.StatusCode.PERMISSION_DENIED,
                                "org_id: outside the caller's organization")
        CALLER.set(principal)
        return await inner(request, context)

    return grpc.unary_unary_rpc_method_handler(
        call, request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


def _refusal(handler: Handler, code: grpc.StatusCode, message: str) -> Handler:
    async def refuse(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await context.abort(code, message)

    return grpc.unary_unary_rpc_method_handler(
        refuse, request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )
