"""The test server's HTTP side (aiohttp): auth, form decoding, idempotency keys, faults, routes."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from devstack.stripe_test_server.faults import FaultPlan
from devstack.stripe_test_server.forms import FormError, decode
from devstack.stripe_test_server.state import Obj, StripeApiError, StripeState

Route = Callable[[web.Request, Obj], Obj]
FORM = "application/x-www-form-urlencoded"
MAX_IDEMPOTENCY_KEY = 255
# The window during which a meter event counts as in flight for its (customer, meter).
PROCESSING_SECONDS = 0.005


@dataclass
class _Saved:
    fingerprint: str
    status: int
    body: Obj


class StripeTestServer:
    def __init__(self, api_key: str, faults: FaultPlan | None = None) -> None:
        self.api_key = api_key
        self.state = StripeState()
        self.faults = faults or FaultPlan()
        self.requests = 0
        self._saved: dict[str, _Saved] = {}
        self._running_keys: set[str] = set()
        self._in_flight: set[tuple[str, str]] = set()
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.base_url = ""

    # --- lifecycle ------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/v1/{tail:.*}", self._api)
        app.router.add_post("/_test/faults", self._set_faults)
        app.router.add_get("/_test/state", self._dump)
        app.router.add_post("/_test/invoices", self._test_object(self.state.add_invoice))
        app.router.add_post("/_test/payment_methods", self._test_object(self.state.attach_payment_method))
        app.router.add_post("/_test/subscriptions",
                            self._test_object(lambda f: self.state.add_subscription(f["customer"])))
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self.base_url = f"http://{bound[0]}:{bound[1]}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def start_in_thread(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Runs on a loop of its own, so tests may block (subprocesses, sleeps) meanwhile."""
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self.start(host, port))
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self.stop())

        self._thread = threading.Thread(target=run, name="stripe-test-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the Stripe test server did not start")
        return self.base_url

    def stop_thread(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    # --- the API --------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        try:
            self._authenticate(request)
            params = await self._params(request)
            route = self._route(request)
            return await self._with_idempotency(request, params, route)
        except StripeApiError as error:
            return _json(error.status, error.body())
        except FormError as error:
            return _json(400, StripeApiError(400, str(error), param=error.param).body())

    def _authenticate(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        key = header[len("Bearer "):] if header.startswith("Bearer ") else ""
        if not key:
            raise StripeApiError(401, "You did not provide an API key. You need to provide your API key in "
                                      "the Authorization header, using Bearer auth.")
        if not secrets.compare_digest(key, self.api_key):
            raise StripeApiError(401, f"Invalid API Key provided: {_masked(key)}")

    async def _params(self, request: web.Request) -> Obj:
        if request.method == "GET":
            return decode(request.query_string)
        if request.content_type != FORM:
            raise StripeApiError(400, f"Invalid request: the body must be {FORM}, got {request.content_type}")
        return decode(await request.text())

    def _route(self, request: web.Request) -> Route:
        path, method, state = request.path, request.method, self.state
        parts = path.strip("/").split("/")[1:]
        table: dict[tuple[str, tuple[str, ...]], Route] = {
            ("POST", ("customers",)): lambda r, p: state.create_customer(p),
            ("GET", ("billing", "meters")): lambda r, p: state.list_meters(p),
            ("POST", ("billing", "meters")): lambda r, p: state.create_meter(p),
            ("POST", ("billing", "meter_events")): lambda r, p: state.create_meter_event(p, time.time()),
            ("POST", ("setup_intents",)): lambda r, p: state.create_setup_intent(p),
            ("POST", ("billing_portal", "sessions")): lambda r, p: state.create_portal_session(p),
            ("GET", ("invoices",)): lambda r, p: state.list_invoices(p),
        }
        if (method, tuple(parts)) in table:
            return table[(method, tuple(parts))]
        if method == "GET" and len(parts) == 2 and parts[0] == "customers":
            return lambda r, p: state.customer(parts[1])
        if method == "GET" and len(parts) == 3 and parts[0] == "customers" and parts[2] == "payment_methods":
            return lambda r, p: state.list_payment_methods(parts[1], p)
        if method == "GET" and len(parts) == 4 and parts[:2] == ["billing", "meters"] \
                and parts[3] == "event_summaries":
            return lambda r, p: state.event_summary(parts[2], p)
        if len(parts) == 2 and parts[0] == "subscriptions":
            if method == "GET":
                return lambda r, p: state.update_subscription(parts[1], {})
            if method == "POST":
                return lambda r, p: state.update_subscription(parts[1], p)
        raise StripeApiError(404, f"Unrecognized request URL ({method}: {path}).")

    async def _with_idempotency(self, request: web.Request, params: Obj, route: Route) -> web.StreamResponse:
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
            raise StripeApiError(400, "Idempotency-Key must be 1 to 255 characters.",
                                 kind="idempotency_error")
        canonical = f"{request.path}?{json.dumps(params, sort_keys=True)}"
        fingerprint = hashlib.sha256(canonical.encode()).hexdigest()
        if key is not None and key in self._saved:
            saved = self._saved[key]
            if saved.fingerprint != fingerprint:
                raise StripeApiError(400, "Keys for idempotent requests can only be used with the same "
                                          f"parameters they were first used with. Try using a key other than "
                                          f"'{key}' if you meant to execute a different request.",
                                     kind="idempotency_error")
            return _json(saved.status, saved.body, replayed=True)
        if key is not None and key in self._running_keys:
            raise StripeApiError(409, "There is currently another in-progress request using this "
                                      "Idempotent Key (that probably means you submitted twice, and the "
                                      "other request is still going through): " + key,
                                 kind="idempotency_error")
        if request.path == "/v1/billing/meter_events":
            self.state.attempts[str(params.get("identifier"))] += 1
        fault = self.faults.draw(request.path)
        if fault in ("429", "500", "503", "drop_before"):
            return await self._fault_before(request, fault)
        if key is not None:
            self._running_keys.add(key)
        try:
            body = await self._execute(request, params, route)
        finally:
            self._running_keys.discard(key or "")
        if key is not None:
            self._saved[key] = _Saved(fingerprint, 200, body)
        if fault == "timeout":
            await asyncio.sleep(self.faults.hang_seconds)
        elif fault == "drop_after":
            return _drop(request)
        return _json(200, body)

    async def _execute(self, request: web.Request, params: Obj, route: Route) -> Obj:
        if request.path != "/v1/billing/meter_events":
            return route(request, params)
        now = time.time()
        _, customer, _ = self.state.check_meter_event(params, now)
        lane = (customer, str(params.get("event_name")))
        if lane in self._in_flight:
            self.state.violations.append(f"concurrent meter events for {lane}")
            raise StripeApiError(429, "Too many concurrent requests for this customer and meter.",
                                 code="rate_limit", kind="invalid_request_error")
        self._in_flight.add(lane)
        try:
            await asyncio.sleep(PROCESSING_SECONDS)
            return self.state.create_meter_event(params, now)
        finally:
            self._in_flight.discard(lane)

    async def _fault_before(self, request: web.Request, fault: str) -> web.StreamResponse:
        if fault == "429":
            response = _json(429, StripeApiError(429, "Request rate limit exceeded. Please retry later.",
                                                 code="rate_limit").body())
            response.headers["Retry-After"] = str(self.faults.retry_after)
            return response
        if fault == "drop_before":
            return _drop(request)
        error = StripeApiError(int(fault), "An unknown error occurred.", kind="api_error")
        return _json(error.status, error.body())

    # --- test control (not Stripe endpoints; the worker never calls them) -----------------

    async def _set_faults(self, request: web.Request) -> web.Response:
        fields = await request.json()
        self.faults = FaultPlan(rates=fields.get("rates", {}),
                                paths=tuple(fields.get("paths", FaultPlan.paths)),
                                retry_after=int(fields.get("retry_after", 1)),
                                hang_seconds=float(fields.get("hang_seconds", 30.0)),
                                seed=int(fields.get("seed", 0)))
        return web.json_response({"ok": True})

    async def _dump(self, request: web.Request) -> web.Response:
        state = self.state
        return web.json_response({
            "customers": list(state.customers.values()), "meters": list(state.meters.values()),
            "meter_events": state.meter_events, "violations": state.violations,
            "invoices": state.invoices, "setup_intents": state.setup_intents,
            "portal_sessions": state.portal_sessions, "subscriptions": list(state.subscriptions.values()),
            "faults_injected": dict(self.faults.injected), "requests": self.requests,
            "attempts": dict(state.attempts),
        })

    def _test_object(self, make: Callable[[Obj], Obj]) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            try:
                return web.json_response(make(await request.json()))
            except StripeApiError as error:
                return _json(error.status, error.body())

        return handler


def _json(status: int, body: Obj, replayed: bool = False) -> web.Response:
    response = web.json_response(body, status=status)
    response.headers["Request-Id"] = f"req_{secrets.token_hex(8)}"
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _drop(request: web.Request) -> web.StreamResponse:
    """Closes the connection without an answer, as a network failure would."""
    transport: Any = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=500)


def _masked(key: str) -> str:
    return f"{key[:8]}{'*' * 4}{key[-4:]}" if len(key) > 12 else "****"
