"""Validation of DeductSession messages into domain values; each FieldError names the field path
within the stream: `open.ttl_seconds`, `chunks[3].tokens.input_tokens`."""

from __future__ import annotations

from datetime import timedelta

from services.gen.metering.v1 import metering_pb2 as pb
from services.kit import inputs
from services.kit.errors import FieldError
from services.metering.domain.credits import Attribution, Cost
from services.metering.domain.sessions import SessionOpening
from services.metering.transport import requests
from services.metering.transport.requests import DEFAULT_HOLD_TTL, MAX_HOLD_TTL

DEFAULT_IDLE_TIMEOUT = 30
MAX_IDLE_TIMEOUT = 300
# The hold outlives the idle bound with room to spare: renewed after half its TTL at the latest,
# it cannot lapse under a session that is still receiving or settling.
TTL_PER_IDLE_TIMEOUT = 3


def within(error: FieldError, prefix: str) -> FieldError:
    return type(error)(f"{prefix}.{error.field}", error.reason)


def opening(message: pb.DeductSessionRequest) -> SessionOpening:
    if message.WhichOneof("step") != "open":
        raise FieldError("open", "the first message of a session must be open")
    try:
        return _opening(message.open)
    except FieldError as error:
        raise within(error, "open") from None


def _opening(m: pb.DeductSessionOpen) -> SessionOpening:
    key = inputs.idempotency_key(m.idempotency_key)
    expected = _cost(m, m.WhichOneof("expected"))
    idle = m.idle_timeout_seconds or DEFAULT_IDLE_TIMEOUT
    if not 1 <= idle <= MAX_IDLE_TIMEOUT:
        raise FieldError("idle_timeout_seconds", f"must be within 1..{MAX_IDLE_TIMEOUT}")
    ttl = m.ttl_seconds or max(DEFAULT_HOLD_TTL, TTL_PER_IDLE_TIMEOUT * idle)
    if not TTL_PER_IDLE_TIMEOUT * idle <= ttl <= MAX_HOLD_TTL:
        raise FieldError("ttl_seconds", f"must be within {TTL_PER_IDLE_TIMEOUT} times idle_timeout_seconds "
                                        f"({TTL_PER_IDLE_TIMEOUT * idle})..{MAX_HOLD_TTL}")
    attribution = Attribution(
        workspace_id=inputs.optional_name(m.workspace_id, "workspace_id"),
        user_id=inputs.optional_name(m.user_id, "user_id"),
        source=inputs.enum_name(m.source, requests.SOURCES, "source"),
    )
    return SessionOpening(key, expected, timedelta(seconds=ttl), timedelta(seconds=idle), attribution)


def chunk(message: pb.DeductSessionChunk) -> Cost:
    """The chunk's cost; a FieldError names the field within the chunk (`amount`), which the
    servicer places under `chunks[i]` together with what charging the chunk refuses."""
    return _cost(message, message.WhichOneof("cost"))


def chunk_field(index: int) -> str:
    return f"chunks[{index}]"


def _cost(message: pb.DeductSessionOpen | pb.DeductSessionChunk, which: str | None) -> Cost:
    if which == "amount":
        return inputs.decimal(message.amount, "amount", positive=True)
    if which == "tokens":
        return requests.llm_usage(message.tokens)
    raise FieldError("amount", "set amount or tokens")


def same_org(message: pb.DeductSessionRequest, org_id: str) -> None:
    if message.org_id and message.org_id != org_id:
        raise FieldError("org_id", "differs from the org_id that opened the session")
