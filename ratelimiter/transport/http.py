"""HTTP front door: a check endpoint for nginx `auth_request` or any gateway, /healthz, /metrics.

    GET|POST /v1/check?domain=api[&hits=N][&<key>=<value>...]
        Query parameters other than `domain` and `hits` form one descriptor, in order. Without
        any, the descriptor is remote_address=<client IP> (X-Real-IP, else the first
        X-Forwarded-For address, else the peer address).
    POST /v1/check with a JSON body {"domain": "api", "hits": 1,
        "descriptors": [{"entries": [{"key": "remote_address", "value": "203.0.113.7"}],
                         "hits": 1}]}
        Several descriptors, per-descriptor hits.
Answers 200 (allowed) or 429 (refused) with RateLimit-Policy/RateLimit, X-RateLimit-* and
Retry-After headers and a JSON body; 400 names the bad field.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ratelimiter.limiter import Limiter
from ratelimiter.metrics import Metrics
from ratelimiter.model import (
    CheckRequest,
    Decision,
    Descriptor,
    InvalidArgument,
    validate_descriptor_count,
    validate_domain,
    validate_entries,
    validate_hits,
)
from ratelimiter.store import RedisBuckets
from ratelimiter.transport.headers import ietf_headers, retry_after, x_ratelimit_headers

RESERVED = {"domain", "hits"}
MAX_BODY_BYTES = 64 * 1024


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise InvalidArgument(field, "must be a whole number")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidArgument(field, "must be a whole number") from None


def _client_ip(request: web.Request) -> str:
    real = request.headers.get("X-Real-IP")
    if real:
        return real.strip()
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return request.remote or ""


def _from_query(request: web.Request) -> CheckRequest:
    query = request.query
    domain = query.get("domain", "")
    validate_domain(domain)
    hits = validate_hits(_int(query["hits"], "hits"), "hits") if "hits" in query else 1
    pairs = [(k, v) for k, v in query.items() if k not in RESERVED]
    entries = validate_entries(pairs or [("remote_address", _client_ip(request))],
                               "descriptors[0]")
    return CheckRequest(domain=domain, descriptors=(Descriptor(entries=entries),), hits=hits)


def _from_json(body: Any) -> CheckRequest:
    if not isinstance(body, dict):
        raise InvalidArgument("body", "must be a JSON object")
    domain = body.get("domain")
    if not isinstance(domain, str):
        raise InvalidArgument("domain", "required")
    validate_domain(domain)
    hits = validate_hits(_int(body["hits"], "hits"), "hits") if "hits" in body else 1
    items = body.get("descriptors")
    if not isinstance(items, list):
        raise InvalidArgument("descriptors", "must be a list")
    validate_descriptor_count(len(items))
    descriptors = []
    for i, item in enumerate(items):
        field = f"descriptors[{i}]"
        raw = item.get("entries") if isinstance(item, dict) else None
        if not isinstance(raw, list) or not all(
            isinstance(e, dict) and isinstance(e.get("key"), str)
            and isinstance(e.get("value"), str) for e in raw
        ):
            raise InvalidArgument(f"{field}.entries", "must be a list of {key, value} strings")
        entries = validate_entries([(e["key"], e["value"]) for e in raw], field)
        own = item.get("hits")
        own_hits = None if own is None else validate_hits(_int(own, f"{field}.hits"),
                                                          f"{field}.hits")
        descriptors.append(Descriptor(entries=entries, hits=own_hits))
    return CheckRequest(domain=domain, descriptors=tuple(descriptors), hits=hits)


def _answer(decision: Decision) -> web.Response:
    top = decision.headline
    headers = ietf_headers(top) + x_ratelimit_headers(top) + retry_after(decision)
    body = {
        "allowed": decision.allowed,
        "state": top.state.name.lower(),
        "limit": top.limit.requests if top.limit else None,
        "window_seconds": top.limit.window_ms / 1000 if top.limit else None,
        "remaining": top.remaining,
        "reset_seconds": top.reset_ms / 1000,
        "retry_after_seconds": top.retry_after_ms / 1000 if not decision.allowed else 0,
        "degraded": decision.degraded,
    }
    return web.json_response(body, status=200 if decision.allowed else 429, headers=headers)


def build_app(limiter: Limiter, buckets: RedisBuckets, metrics: Metrics) -> web.Application:
    async def check(request: web.Request) -> web.Response:
        try:
            if request.method == "POST" and request.can_read_body:
                raw = await request.content.read(MAX_BODY_BYTES + 1)
                if len(raw) > MAX_BODY_BYTES:
                    raise InvalidArgument("body", f"larger than {MAX_BODY_BYTES} bytes")
                try:
                    parsed = _from_json(json.loads(raw))
                except json.JSONDecodeError:
                    raise InvalidArgument("body", "not valid JSON") from None
            else:
                parsed = _from_query(request)
            decision = await limiter.decide(parsed)
        except InvalidArgument as exc:
            return web.json_response({"error": str(exc), "field": exc.field}, status=400)
        return _answer(decision)

    async def healthz(_: web.Request) -> web.Response:
        store = "up" if buckets.up else "down"
        return web.json_response({"status": "serving", "store": store})

    async def metrics_page(_: web.Request) -> web.Response:
        return web.Response(body=metrics.render(),
                            headers={"Content-Type": "text/plain; version=0.0.4"})

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_route("GET", "/v1/check", check)
    app.router.add_route("POST", "/v1/check", check)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    return app
