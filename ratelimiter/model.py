"""The decision function's input and output, shared by every front door.

Values, not entities: nothing mutates them after construction (they are not frozen only because
frozen dataclasses cost a measurable share of a decision on the hot path)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ratelimiter.config import Limit

MAX_DESCRIPTORS = 32
MAX_ENTRIES = 16
MAX_KEY_BYTES = 128
MAX_VALUE_BYTES = 512
MAX_DOMAIN_BYTES = 128
MAX_HITS = 2**32 - 1
WARNING_USED_FRACTION = 0.8


class InvalidArgument(ValueError):
    """Bad input; `field` is the offending field path, e.g. `descriptors[0].entries[1].value`."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class State(Enum):
    OK = 1
    WARNING = 2
    LIMITED = 3


@dataclass(slots=True)
class Descriptor:
    """One descriptor of a request."""

    entries: tuple[tuple[str, str], ...]
    """Ordered (key, value) pairs."""
    hits: int | None = None
    """This descriptor's own hits (0: check only); None falls back to the request's."""
    override: Limit | None = None
    """A limit sent with the request, replacing the configured one."""


@dataclass(slots=True)
class CheckRequest:
    """A validated request: take `hits` tokens from every bucket the descriptors match."""

    domain: str
    """A configured domain."""
    descriptors: tuple[Descriptor, ...]
    """At least one descriptor."""
    hits: int = 1
    """Default hits per descriptor."""


@dataclass(slots=True)
class LimitStatus:
    """The outcome for one limit (one bucket), or for a descriptor without a limit."""

    state: State
    """ok, warning or limited."""
    limit: Limit | None
    """The limit, None when the descriptor matched no (or an unlimited) rule."""
    remaining: int = 0
    """Whole tokens left after this request."""
    reset_ms: int = 0
    """Until the bucket is full again."""
    retry_after_ms: int = 0
    """Until the hits would be admitted (0 when admitted)."""
    shadow_mode: bool = False
    """A refusal here is reported but not enforced."""

    @property
    def enforced_refusal(self) -> bool:
        return self.state is State.LIMITED and not self.shadow_mode


@dataclass(slots=True)
class Decision:
    """The answer to a CheckRequest."""

    allowed: bool
    """False when any enforced limit refused."""
    statuses: tuple[LimitStatus, ...]
    """One per request descriptor, in order: its most constrained limit."""
    degraded: bool = False
    """The store was unreachable and the domain's failure policy decided."""
    headline: LimitStatus = field(init=False)
    """The status a single-answer consumer shows: the refusal that lasts longest, else the
    limit with the fewest tokens left."""

    def __post_init__(self) -> None:
        self.headline = most_constrained(self.statuses)


def most_constrained(statuses: tuple[LimitStatus, ...] | list[LimitStatus]) -> LimitStatus:
    if len(statuses) == 1:
        return statuses[0]
    limited = [s for s in statuses if s.limit is not None]
    if not limited:
        return statuses[0] if statuses else LimitStatus(State.OK, None)
    refused = [s for s in limited if s.enforced_refusal]
    if refused:
        return max(refused, key=lambda s: s.retry_after_ms)
    return min(limited, key=lambda s: (s.remaining / s.limit.burst if s.limit else 1.0,
                                        s.remaining))


def state_for(remaining: int, burst: int, admitted: bool) -> State:
    if not admitted:
        return State.LIMITED
    used = burst - remaining
    return State.WARNING if used > WARNING_USED_FRACTION * burst else State.OK


def validate_domain(domain: str) -> None:
    if not domain:
        raise InvalidArgument("domain", "required")
    if len(domain.encode()) > MAX_DOMAIN_BYTES:
        raise InvalidArgument("domain", f"longer than {MAX_DOMAIN_BYTES} bytes")


def validate_hits(hits: int, field: str) -> int:
    if hits < 0:
        raise InvalidArgument(field, "must not be negative")
    if hits > MAX_HITS:
        raise InvalidArgument(field, f"must be at most {MAX_HITS}")
    return hits


def validate_entries(entries: list[tuple[str, str]], field: str) -> tuple[tuple[str, str], ...]:
    """Checks one descriptor's entries; `field` is the descriptor's path."""
    if not entries:
        raise InvalidArgument(f"{field}.entries", "at least one entry is required")
    if len(entries) > MAX_ENTRIES:
        raise InvalidArgument(f"{field}.entries", f"more than {MAX_ENTRIES} entries")
    for i, (key, value) in enumerate(entries):
        if not key:
            raise InvalidArgument(f"{field}.entries[{i}].key", "required")
        if len(key.encode()) > MAX_KEY_BYTES:
            raise InvalidArgument(f"{field}.entries[{i}].key", f"longer than {MAX_KEY_BYTES} bytes")
        if len(value.encode()) > MAX_VALUE_BYTES:
            raise InvalidArgument(f"{field}.entries[{i}].value",
                                  f"longer than {MAX_VALUE_BYTES} bytes")
    return tuple(entries)


def validate_descriptor_count(count: int) -> None:
    if count == 0:
        raise InvalidArgument("descriptors", "at least one descriptor is required")
    if count > MAX_DESCRIPTORS:
        raise InvalidArgument("descriptors", f"more than {MAX_DESCRIPTORS} descriptors")
