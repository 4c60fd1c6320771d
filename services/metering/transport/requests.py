"""Validation of incoming metering.v1 messages into domain values.

Each function raises FieldError naming the offending field path; nothing reaches the store
before its request has passed here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from google.protobuf.timestamp_pb2 import Timestamp

from services.gen.metering.v1 import metering_pb2 as pb
from services.kit import inputs
from services.kit.decimals import ZERO
from services.kit.errors import FieldError, within_event
from services.kit.inputs import enum_name, idempotency_key, meter, optional_name, org_id
from services.metering.domain.credits import Attribution, Cost, DeductOp, ReleaseOp, ReserveOp
from services.metering.domain.pricing import LlmUsage, TokenCounts
from services.metering.store.usage import NewEvent

MAX_BATCH = 5000
FUTURE_SKEW = timedelta(minutes=5)
OLDEST_EVENT = timedelta(days=90)
DEFAULT_HOLD_TTL = 300
MAX_HOLD_TTL = 86_400

SOURCES = {pb.SOURCE_WEB: "web", pb.SOURCE_CLI: "cli", pb.SOURCE_API: "api"}
TOKEN_KINDS = {
    pb.TOKEN_KIND_INPUT: "input",
    pb.TOKEN_KIND_OUTPUT: "output",
    pb.TOKEN_KIND_CACHE_READ: "cache_read",
    pb.TOKEN_KIND_CACHE_WRITE: "cache_write",
}


def occurred_at(ts: Timestamp, present: bool, now: datetime, field: str) -> datetime:
    if not present:
        return now
    when = inputs.timestamp(ts, field)
    if when > now + FUTURE_SKEW:
        raise FieldError(field, "is more than 5 minutes in the future")
    if when < now - OLDEST_EVENT:
        raise FieldError(field, "is more than 90 days in the past")
    return when


def usage_event(event: pb.UsageEvent, org: str, now: datetime) -> NewEvent:
    """One event; a FieldError names the field within the event (the caller adds the prefix)."""
    return NewEvent(
        org_id=org,
        idempotency_key=idempotency_key(event.idempotency_key),
        meter=meter(event.meter),
        quantity=inputs.decimal(event.quantity, "quantity"),
        occurred_at=occurred_at(event.occurred_at, event.HasField("occurred_at"), now, "occurred_at"),
        workspace_id=optional_name(event.workspace_id, "workspace_id"),
        user_id=optional_name(event.user_id, "user_id"),
        source=enum_name(event.source, SOURCES, "source"),
        model=optional_name(event.model, "model"),
        token_kind=enum_name(event.token_kind, TOKEN_KINDS, "token_kind"),
    )


def usage_events(request: pb.RecordUsageRequest, now: datetime) -> list[NewEvent | FieldError]:
    """The request's events, each parsed or replaced by the FieldError that rejects it."""
    if request.HasField("event") and request.events:
        raise FieldError("events", "set either event or events, not both")
    if request.HasField("event"):
        try:
            return [usage_event(request.event, request.org_id, now)]
        except FieldError as error:
            raise within_event(error, 0, True) from None
    if not request.events:
        raise FieldError("events", "at least one event is required")
    if len(request.events) > MAX_BATCH:
        raise FieldError("events", f"at most {MAX_BATCH} events per call")
    parsed: list[NewEvent | FieldError] = []
    org = request.org_id
    for i, event in enumerate(request.events):
        try:
            parsed.append(usage_event(event, org, now))
        except FieldError as error:
            parsed.append(within_event(error, i, False))
    return parsed


def cost(request: pb.DeductRequest | pb.ReserveRequest) -> Cost:
    which = request.WhichOneof("cost")
    if which == "amount":
        return inputs.decimal(request.amount, "amount", positive=True)
    if which == "tokens":
        return llm_usage(request.tokens)
    raise FieldError("amount", "set amount or tokens")


def llm_usage(tokens: pb.LlmTokens) -> LlmUsage:
    model = optional_name(tokens.model, "tokens.model")
    if model is None:
        raise FieldError("tokens.model", "is required")
    counts = TokenCounts(
        input=_token_count(tokens.input_tokens, "tokens.input_tokens"),
        output=_token_count(tokens.output_tokens, "tokens.output_tokens"),
        cache_read=_token_count(tokens.cache_read_tokens, "tokens.cache_read_tokens"),
        cache_write=_token_count(tokens.cache_write_tokens, "tokens.cache_write_tokens"),
    )
    if counts == TokenCounts():
        raise FieldError("tokens", "at least one token count must be greater than 0")
    return LlmUsage(model, counts)


def _token_count(raw: str, field: str) -> Decimal:
    return ZERO if raw == "" else inputs.decimal(raw, field, whole=True)


def deduct(request: pb.DeductRequest) -> DeductOp:
    org_id(request.org_id)
    return DeductOp(
        idempotency_key=idempotency_key(request.idempotency_key),
        cost=cost(request),
        hold_id=idempotency_key(request.hold_id, "hold_id") if request.hold_id else None,
        attribution=Attribution(
            workspace_id=optional_name(request.workspace_id, "workspace_id"),
            user_id=optional_name(request.user_id, "user_id"),
            source=enum_name(request.source, SOURCES, "source"),
        ),
    )


def reserve(request: pb.ReserveRequest) -> ReserveOp:
    org_id(request.org_id)
    ttl = request.ttl_seconds or DEFAULT_HOLD_TTL
    if not 1 <= ttl <= MAX_HOLD_TTL:
        raise FieldError("ttl_seconds", f"must be within 1..{MAX_HOLD_TTL}")
    return ReserveOp(idempotency_key(request.idempotency_key), cost(request), timedelta(seconds=ttl))


def release(request: pb.ReleaseRequest) -> ReleaseOp:
    org_id(request.org_id)
    return ReleaseOp(idempotency_key(request.hold_id, "hold_id"))


def optional_meter(raw: str) -> str:
    return meter(raw) if raw else ""
