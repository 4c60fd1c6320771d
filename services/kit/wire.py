"""Small conversions between domain values and protobuf wire values."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from google.protobuf.timestamp_pb2 import Timestamp

from services.kit.decimals import format_decimal


def timestamp(when: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(when.astimezone(UTC))
    return ts


def optional_timestamp(when: datetime | None) -> Timestamp | None:
    return None if when is None else timestamp(when)


def decimal_or_empty(value: Decimal | None) -> str:
    return "" if value is None else format_decimal(value)
