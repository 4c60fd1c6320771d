"""What a request field may hold, for gRPC and HTTP alike.

Every caller-supplied id, name, decimal string and timestamp passes one of these checks before
anything reaches the store; each raises FieldError naming the field.

- ids: 1-64 ASCII letters, digits or . _ : - starting with a letter or digit; meters lowercase.
- idempotency keys: 1-255 printable ASCII characters without spaces.
- free text (names, models, notes): no control characters (C0, DEL, C1), no null bytes and no
  lone surrogates, which PostgreSQL text cannot hold.
- decimals: ASCII digits with an optional fraction ("12", "0.25"); no sign, exponent or spaces.
- timestamps: within 1970-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z, plus each field's own rule.
- enum values: a known value, or 0 for none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from services.kit.errors import FieldError

MAX_INTEGER_DIGITS = 20
MAX_FRACTION_DIGITS = 18
MAX_KEY_LENGTH = 255
MAX_NAME_LENGTH = 128
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
_EARLIEST_SECONDS = 0
_LATEST_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z
RANGE_TEXT = "must be within 1970-01-01T00:00:00Z .. 9999-12-31T23:59:59Z"

_DECIMAL = re.compile(r"\A[0-9]+(?:\.[0-9]+)?\Z")
_COUNT = re.compile(r"\A[0-9]{1,9}\Z")
_SLUG = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z")
_METER = re.compile(r"\A[a-z][a-z0-9_]{0,63}\Z")
_PRINTABLE = re.compile(r"\A[\x21-\x7e]+\Z")
_UNSTORABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def slug(raw: str, field: str) -> str:
    """An identifier: 1-64 letters, digits or . _ : - starting with a letter or digit."""
    if not raw:
        raise FieldError(field, "is required")
    if not _SLUG.match(raw):
        raise FieldError(field, "must be 1-64 letters, digits or . _ : - (starting with a letter or digit)")
    return raw


def org_id(raw: str, field: str = "org_id") -> str:
    return slug(raw, field)


def meter(raw: str, field: str = "meter") -> str:
    if not raw:
        raise FieldError(field, "is required")
    if not _METER.match(raw):
        raise FieldError(field, "must be 1-64 lowercase letters, digits or _ starting with a letter")
    return raw


def key(raw: str, field: str) -> str:
    """An idempotency key or hold id: 1-255 printable ASCII characters without spaces."""
    if not raw:
        raise FieldError(field, "is required")
    if len(raw) > MAX_KEY_LENGTH:
        raise FieldError(field, f"must be at most {MAX_KEY_LENGTH} characters")
    if not _PRINTABLE.match(raw):
        raise FieldError(field, "must be printable ASCII without spaces")
    return raw


def idempotency_key(raw: str, field: str = "idempotency_key") -> str:
    return key(raw, field)


def text(raw: str, field: str, max_length: int) -> str:
    """Free text as given (may be empty): at most max_length characters, nothing PostgreSQL refuses."""
    if len(raw) > max_length:
        raise FieldError(field, f"must be at most {max_length} characters")
    if _UNSTORABLE.search(raw):
        raise FieldError(field, "must not contain control characters")
    return raw


def optional_name(raw: str, field: str) -> str | None:
    """A workspace, user or model name as given, None when empty."""
    return text(raw, field, MAX_NAME_LENGTH) or None


def enum_name(value: int, names: Mapping[Any, str], field: str) -> str | None:
    """The name of a protobuf enum value; None for 0 (unset)."""
    if value == 0:
        return None
    if value not in names:
        raise FieldError(field, f"unknown value {value}")
    return names[value]


def decimal(raw: str, field: str, *, positive: bool = False, whole: bool = False) -> Decimal:
    """A non-negative decimal string such as "12" or "0.25": ASCII digits only, no sign, exponent,
    NaN or infinity."""
    if raw == "":
        raise FieldError(field, "is required")
    if len(raw) > MAX_INTEGER_DIGITS + MAX_FRACTION_DIGITS + 1 or not _DECIMAL.match(raw):
        raise FieldError(field, f"must be a non-negative decimal string like '12.5', got {raw[:40]!r}")
    integer, _, fraction = raw.partition(".")
    if len(integer.lstrip("0")) > MAX_INTEGER_DIGITS:
        raise FieldError(field, f"has more than {MAX_INTEGER_DIGITS} integer digits")
    if len(fraction) > MAX_FRACTION_DIGITS:
        raise FieldError(field, f"has more than {MAX_FRACTION_DIGITS} fraction digits")
    value = Decimal(raw)
    if whole and value != value.to_integral_value():
        raise FieldError(field, "must be a whole number")
    if positive and value == 0:
        raise FieldError(field, "must be greater than 0")
    return value


def count(raw: str, field: str) -> int:
    """A whole number written in ASCII digits (query parameters)."""
    if not _COUNT.match(raw):
        raise FieldError(field, "must be a whole number")
    return int(raw)


def instant(when: datetime, field: str) -> datetime:
    """A time zone-aware moment within the accepted range, in UTC."""
    if when.tzinfo is None:
        raise FieldError(field, "must carry a time zone (e.g. Z)")
    try:
        when = when.astimezone(UTC)
    except OverflowError:
        raise FieldError(field, RANGE_TEXT) from None
    if not EARLIEST <= when <= LATEST:
        raise FieldError(field, RANGE_TEXT)
    return when


def timestamp(ts: Timestamp, field: str) -> datetime:
    """A protobuf Timestamp within the accepted range."""
    if not 0 <= ts.nanos < 1_000_000_000:
        raise FieldError(field, "nanos must be within 0..999999999")
    if not _EARLIEST_SECONDS <= ts.seconds <= _LATEST_SECONDS:
        raise FieldError(field, RANGE_TEXT)
    return instant(ts.ToDatetime(tzinfo=UTC), field)


def moment(ts: Timestamp, present: bool, field: str, default: datetime | None = None) -> datetime:
    """A protobuf Timestamp field: required unless a default stands in for it."""
    if not present:
        if default is None:
            raise FieldError(field, "is required")
        return default
    return timestamp(ts, field)


def rfc3339(raw: str, field: str) -> datetime:
    """An RFC 3339 timestamp string such as 2024-11-01T00:00:00Z within the accepted range."""
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw.isascii() else None
    except ValueError:
        when = None
    if when is None:
        raise FieldError(field, "must be an RFC 3339 timestamp like 2024-11-01T00:00:00Z")
    return instant(when, field)


def row_id(raw: str, field: str) -> int:
    """A generated row id (a positive bigint) written in ASCII digits."""
    if not raw:
        raise FieldError(field, "is required")
    value = count(raw, field)
    if not 0 < value < 2**63:
        raise FieldError(field, "is not an id that exists")
    return value
