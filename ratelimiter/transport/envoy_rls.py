"""envoy.service.ratelimit.v3 messages <-> the decision function's types."""

from __future__ import annotations

import json

from google.protobuf.duration_pb2 import Duration

from ratelimiter.config import UNITS_MS
from ratelimiter.gen.envoy.config.core.v3.base_pb2 import HeaderValue
from ratelimiter.gen.envoy.service.ratelimit.v3 import rls_pb2 as rls
from ratelimiter.model import (
    CheckRequest,
    Decision,
    Descriptor,
    InvalidArgument,
    LimitStatus,
    State,
    validate_descriptor_count,
    validate_domain,
    validate_entries,
    validate_hits,
)
from ratelimiter.transport.check_v1 import override_limit
from ratelimiter.transport.headers import ietf_headers, retry_after

Unit = rls.RateLimitResponse.RateLimit.Unit
# envoy.type.v3.RateLimitUnit numbers (requests' overrides)
_OVERRIDE_UNITS = {1: "second", 2: "minute", 3: "hour", 4: "day", 5: "month", 6: "year"}
# Response units, shortest first, to express any window as a whole-unit limit.
_UNITS = [(UNITS_MS["second"], Unit.SECOND), (UNITS_MS["minute"], Unit.MINUTE),
          (UNITS_MS["hour"], Unit.HOUR), (UNITS_MS["day"], Unit.DAY),
          (UNITS_MS["week"], Unit.WEEK), (UNITS_MS["month"], Unit.MONTH),
          (UNITS_MS["year"], Unit.YEAR)]
OK, OVER_LIMIT = rls.RateLimitResponse.OK, rls.RateLimitResponse.OVER_LIMIT


def parse(msg: rls.RateLimitRequest) -> CheckRequest:
    validate_domain(msg.domain)
    validate_descriptor_count(len(msg.descriptors))
    descriptors = []
    for i, d in enumerate(msg.descriptors):
        field = f"descriptors[{i}]"
        entries = validate_entries([(e.key, e.value) for e in d.entries], field)
        hits = (validate_hits(d.hits_addend.value, f"{field}.hits_addend")
                if d.HasField("hits_addend") else None)
        override = None
        if d.HasField("limit"):
            unit = _OVERRIDE_UNITS.get(d.limit.unit)
            if unit is None:
                raise InvalidArgument(f"{field}.limit.unit", "must be SECOND..YEAR")
            override = override_limit(d.limit.requests_per_unit, UNITS_MS[unit], f"{field}.limit")
        descriptors.append(Descriptor(entries=entries, hits=hits, override=override))
    return CheckRequest(domain=msg.domain, descriptors=tuple(descriptors),
                        hits=msg.hits_addend or 1)


def _current_limit(s: LimitStatus) -> rls.RateLimitResponse.RateLimit | None:
    """Envoy only knows whole units: a 30s window of 50 is reported as 100 per minute."""
    if s.limit is None:
        return None
    window = s.limit.window_ms
    unit_ms, unit = next(((ms, u) for ms, u in _UNITS if ms >= window), _UNITS[-1])
    per_unit = s.limit.requests * unit_ms // window
    return rls.RateLimitResponse.RateLimit(name=s.limit.name, unit=unit,
                                           requests_per_unit=min(per_unit, 2**32 - 1))


def _status(s: LimitStatus) -> rls.RateLimitResponse.DescriptorStatus:
    return rls.RateLimitResponse.DescriptorStatus(
        code=OVER_LIMIT if s.enforced_refusal else OK,
        current_limit=_current_limit(s), limit_remaining=min(s.remaining, 2**32 - 1),
        # Envoy reads whole seconds only: round up so a client never comes back early.
        duration_until_reset=Duration(seconds=-(-s.reset_ms // 1000)))


def render(decision: Decision) -> rls.RateLimitResponse:
    top = decision.headline
    headers = [HeaderValue(key=k.lower(), value=v)
               for k, v in ietf_headers(top) + retry_after(decision)]
    body = b""
    if not decision.allowed:
        body = json.dumps({"error": "rate limited", "state": State.LIMITED.name.lower(),
                           "retry_after_seconds": max(1, -(-top.retry_after_ms // 1000))}).encode()
    return rls.RateLimitResponse(
        overall_code=OK if decision.allowed else OVER_LIMIT,
        statuses=[_status(s) for s in decision.statuses],
        response_headers_to_add=headers, raw_body=body)
