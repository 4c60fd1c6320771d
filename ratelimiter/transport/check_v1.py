"""ratelimiter.v1 messages <-> the decision function's types."""

from __future__ import annotations

from google.protobuf.duration_pb2 import Duration

from ratelimiter.config import MAX_BUCKET_UNITS, MAX_REQUESTS, Limit
from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2 as pb
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

_STATES = {State.OK: pb.STATE_OK, State.WARNING: pb.STATE_WARNING,
           State.LIMITED: pb.STATE_LIMITED}


def override_limit(requests: int, window_ms: int, field: str) -> Limit:
    """A per-request limit, checked like a configured one."""
    if not 1 <= requests <= MAX_REQUESTS:
        raise InvalidArgument(f"{field}.requests", f"must be from 1 to {MAX_REQUESTS}")
    if window_ms < 1:
        raise InvalidArgument(f"{field}.window", "must be at least 1ms")
    if requests * window_ms > MAX_BUCKET_UNITS:
        raise InvalidArgument(f"{field}.window", "requests x window is too large")
    return Limit(requests=requests, window_ms=window_ms, burst=requests)


def parse(msg: pb.CheckRequest) -> CheckRequest:
    validate_domain(msg.domain)
    validate_descriptor_count(len(msg.descriptors))
    hits = validate_hits(msg.hits, "hits") if msg.HasField("hits") else 1
    descriptors = []
    for i, d in enumerate(msg.descriptors):
        field = f"descriptors[{i}]"
        entries = validate_entries([(e.key, e.value) for e in d.entries], field)
        own_hits = validate_hits(d.hits, f"{field}.hits") if d.HasField("hits") else None
        override = None
        if d.HasField("limit_override"):
            o = d.limit_override
            window_ms = o.window.seconds * 1000 + o.window.nanos // 1_000_000
            override = override_limit(o.requests, window_ms, f"{field}.limit_override")
        descriptors.append(Descriptor(entries=entries, hits=own_hits, override=override))
    return CheckRequest(domain=msg.domain, descriptors=tuple(descriptors), hits=hits)


def _set_duration(target: Duration, ms: int) -> None:
    target.seconds, target.nanos = divmod(ms, 1000)
    target.nanos *= 1_000_000


def _set_limit(target: pb.Limit, limit: Limit) -> None:
    target.name = limit.name
    target.requests = limit.requests
    target.burst = limit.burst
    _set_duration(target.window, limit.window_ms)


def _fill(target: pb.DescriptorStatus | pb.CheckResponse, s: LimitStatus, retry_ms: int) -> None:
    target.state = _STATES[s.state]
    if s.limit is not None:
        _set_limit(target.limit, s.limit)
    target.remaining = s.remaining
    _set_duration(target.reset_after, s.reset_ms)
    _set_duration(target.retry_after, retry_ms)


def render(decision: Decision) -> pb.CheckResponse:
    # Fields are set in place: building sub-messages and copying them costs twice as much.
    response = pb.CheckResponse(allowed=decision.allowed, degraded=decision.degraded)
    _fill(response, decision.headline,
          decision.headline.retry_after_ms if not decision.allowed else 0)
    for s in decision.statuses:
        status = response.statuses.add()
        _fill(status, s, s.retry_after_ms)
        status.shadow_mode = s.shadow_mode
    return response
