"""Every metering.v1 RPC runs behind one guard: request id, authentication by bearer API key,
the access rule of its method, and the RPC count and duration metrics.

The guard is wrapped around each method handler once, when the servicers are registered, not by
grpc's aio interceptors: those run a chain of coroutines and a handler lookup per call, about
60 µs of Python on every RPC, a fifth of a Deduct's whole cost. Health and reflection are
registered on the server directly and stay open.
"""

from __future__ import annotations

import hmac
import inspect
import itertools
import logging
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import grpc

from services.kit.caller import CALLER, Principal, Role
from services.kit.database import DATABASE_UNREACHABLE
from services.kit.observability.logs import REQUEST_ID
from services.metering.domain.access_rules import RULES, Rule
from services.metering.service.instruments import RPC_DURATION, RPC_REQUESTS
from services.metering.store.api_keys import KeyRing
from services.metering.transport.request_stream import EOF, RequestStream

if TYPE_CHECKING:
    Handler = grpc.RpcMethodHandler[Any, Any]
    Context = grpc.aio.ServicerContext[Any, Any]

MAX_REQUEST_ID = 128
# Request ids made here: this process's random prefix and a counter, unique without a random
# draw (a system call) per RPC.
_PROCESS_ID = secrets.token_hex(4)
_NEXT_REQUEST = itertools.count(1)
log = logging.getLogger(__name__)
# Who a replica forwarding calls is: it acts for the organizations whose calls it received.
PEER = Principal("peer", Role.PLATFORM_ADMIN, None)


class Refused(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class GuardedServer:
    """Stands in for the grpc server while the generated `add_*Servicer_to_server` functions
    register a service, so that every method handler reaches the server already guarded."""

    def __init__(self, server: grpc.aio.Server, keys: KeyRing, peer_token: str = "") -> None:
        self._server = server
        self._keys = keys
        self._peer_token = peer_token
        self._generic: set[str] = set()
        self._guarded: set[str] = set()

    def add_generic_rpc_handlers(self, handlers: Iterable[grpc.GenericRpcHandler[Any, Any]]) -> None:
        # The generated code registers each service twice, as a generic handler and as its
        # method handlers; the guarded generic handler is built from the latter.
        for handler in handlers:
            if not isinstance(handler, grpc.ServiceRpcHandler):
                raise TypeError(f"cannot guard {handler!r}: not a service's handler")
            self._generic.add(handler.service_name())

    def add_registered_method_handlers(self, service: str, handlers: Mapping[str, Handler]) -> None:
        guarded = {name: guard(f"/{service}/{name}", handler, self._keys, self._peer_token)
                   for name, handler in handlers.items()}
        # Only as a generic handler: grpc's aio server keeps a task waiting per registered method
        # and waits on all of them for every call (with ~80 methods, 5-8 % of a Deduct's CPU),
        # while generic handlers share one.
        self._server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, guarded),))
        self._guarded.add(service)

    def check_complete(self) -> None:
        """Fails start-up if a service was registered in a way the guard did not see."""
        if unguarded := self._generic - self._guarded:
            raise RuntimeError(f"services registered without their method handlers: {sorted(unguarded)}")


def guard(method: str, handler: Handler, keys: KeyRing, peer_token: str = "") -> Handler:
    """The method's handler behind authentication, its access rule and its metrics."""
    if handler.stream_stream is not None:
        return guard_stream(method, handler, keys)
    inner: Any = handler.unary_unary
    if inner is None:
        raise TypeError(f"{method}: only unary and bidirectional streaming RPCs are served")
    rule = RULES.get(method)
    metrics = _Metrics(method)

    async def call(request: Any, context: Context) -> Any:
        started = time.perf_counter()
        token, request_id = _headers(context.invocation_metadata())
        REQUEST_ID.set(request_id)
        code = grpc.StatusCode.UNKNOWN
        try:
            try:
                CALLER.set(await _admit(keys, method, rule, token, request, peer_token))
            except Refused as refusal:
                await context.abort(refusal.code, refusal.message)
            response = await inner(request, context)
            code = context.code() or grpc.StatusCode.OK
            return response
        except BaseException:
            code = context.code() or grpc.StatusCode.UNKNOWN
            raise
        finally:
            metrics.record(code, started)

    return grpc.unary_unary_rpc_method_handler(
        call, request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


def guard_stream(method: str, handler: Handler, keys: KeyRing) -> Handler:
    """A bidirectional stream behind the same checks, made on its first message (which names
    the org_id); the metrics time the whole stream. The handler reads and writes with grpc's
    reader API: it gets the requests as a RequestStream, the first one included."""
    inner: Any = handler.stream_stream
    if not inspect.iscoroutinefunction(inner):
        raise TypeError(f"{method}: a streaming handler reads and writes through its context "
                        "(a coroutine taking a RequestStream), not as a generator")
    rule = RULES.get(method)
    metrics = _Metrics(method)

    async def call(_: Any, context: Context) -> None:
        started = time.perf_counter()
        token, request_id = _headers(context.invocation_metadata())
        REQUEST_ID.set(request_id)
        code = grpc.StatusCode.UNKNOWN
        try:
            first = await context.read()
            if first is EOF:
                code = grpc.StatusCode.OK
                return
            try:
                CALLER.set(await _admit(keys, method, rule, token, first))
            except Refused as refusal:
                await context.abort(refusal.code, refusal.message)
            await inner(RequestStream(context, first), context)
            code = context.code() or grpc.StatusCode.OK
        except BaseException:
            code = context.code() or grpc.StatusCode.CANCELLED
            raise
        finally:
            metrics.record(code, started)

    return grpc.stream_stream_rpc_method_handler(
        call, request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


async def _admit(keys: KeyRing, method: str, rule: Rule | None, token: str | None,
                 request: Any, peer_token: str = "") -> Principal:
    if rule is None:
        raise Refused(grpc.StatusCode.PERMISSION_DENIED, "no access rule for this method")
    if token is None:
        raise Refused(grpc.StatusCode.UNAUTHENTICATED, "missing 'authorization: Bearer <api key>' metadata")
    if rule.peer:
        if not peer_token or not hmac.compare_digest(token.encode(), peer_token.encode()):
            raise Refused(grpc.StatusCode.PERMISSION_DENIED, "only metering replicas may call this method")
        return PEER
    try:
        principal = await keys.principal(token)
    except DATABASE_UNREACHABLE:
        raise Refused(grpc.StatusCode.UNAVAILABLE,
                      "database unavailable; retry with the same idempotency key") from None
    if principal is None:
        raise Refused(grpc.StatusCode.UNAUTHENTICATED, "unknown or revoked API key")
    if principal.role not in rule.roles:
        raise Refused(grpc.StatusCode.PERMISSION_DENIED,
                      f"role {principal.role.value} may not call {method.rsplit('/', 1)[-1]}")
    if rule.tenant and not principal.may_act_for(getattr(request, "org_id", "")):
        raise Refused(grpc.StatusCode.PERMISSION_DENIED, "org_id: outside the caller's organization")
    return principal


def _headers(metadata: Any) -> tuple[str | None, str]:
    """The bearer token (None when absent) and the request id (the caller's, else a new one)."""
    token = request_id = None
    for key, value in metadata or ():
        if not isinstance(value, str):
            continue
        if key == "authorization" and token is None and value.startswith("Bearer "):
            token = value[len("Bearer "):].strip()
        elif key == "x-request-id" and request_id is None and value:
            request_id = value[:MAX_REQUEST_ID]
    return token, request_id or f"{_PROCESS_ID}-{next(_NEXT_REQUEST):x}"


class _Metrics:
    """The RPC count and duration of one method, with its attribute sets made once per code."""

    def __init__(self, method: str) -> None:
        self.name = method.rsplit("/", 1)[-1]
        self.service = method.strip("/").split("/", 1)[0]
        self._attributes: dict[grpc.StatusCode, dict[str, str]] = {}

    def record(self, code: grpc.StatusCode, started: float) -> None:
        elapsed_ms = (time.perf_counter() - started) * 1000
        attributes = self._attributes.get(code)
        if attributes is None:
            attributes = self._attributes[code] = {
                "rpc.service": self.service, "rpc.method": self.name, "rpc.grpc.status_code": code.name}
        RPC_REQUESTS.add(1, attributes)
        RPC_DURATION.record(elapsed_ms, attributes)
        log.debug("%s %s in %.1f ms", self.name, code.name, elapsed_ms)
