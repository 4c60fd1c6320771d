"""Errors the domain raises about a caller's input; transports map them to status codes."""

from __future__ import annotations


class FieldError(ValueError):
    """A request field is malformed (INVALID_ARGUMENT)."""

    code = "INVALID_ARGUMENT"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def event_field(index: int, single: bool, name: str) -> str:
    """The path of a field of a RecordUsage event: `event.<name>` alone, `events[<i>].<name>` in a batch."""
    return f"event.{name}" if single else f"events[{index}].{name}"


def within_event(error: FieldError, index: int, single: bool) -> FieldError:
    """The same error, its field named within a RecordUsage event (see `event_field`). Paths are
    built only for the events that fail: a batch of valid events pays nothing."""
    return type(error)(event_field(index, single, error.field), error.reason)


class QuotaExceededError(FieldError):
    """Usage that would pass a hard limit (RESOURCE_EXHAUSTED)."""

    code = "RESOURCE_EXHAUSTED"


class NotFoundError(FieldError):
    """A request names an organization, meter, model or hold that does not exist (NOT_FOUND)."""

    code = "NOT_FOUND"


class StateConflictError(FieldError):
    """The request names something in a state that does not allow it, e.g. a request already
    decided (FAILED_PRECONDITION)."""

    code = "FAILED_PRECONDITION"


class RetryLater(Exception):
    """Nothing is wrong with the call, but it cannot be answered now (UNAVAILABLE): the caller
    retries with the same idempotency key."""
