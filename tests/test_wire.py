"""Datetimes reach the wire as protobuf Timestamps: the same instant, whatever the time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given
from hypothesis import strategies as st

from services.kit.wire import timestamp


def test_an_instant_is_its_seconds_since_the_epoch_and_the_nanoseconds_of_its_second() -> None:
    # 1970-01-01 to 2026-01-01: 56 years of 365 days and 14 leap days (1972 to 2024), 20,454 days;
    # to 2026-11-29: 304 days to November 1 and 28 more, 20,786 days; 06:09 is 22,140 seconds.
    assert timestamp(datetime(2026, 11, 29, 6, 9, 0, 123_456, tzinfo=UTC)) == Timestamp(
        seconds=20_786 * 86_400 + 22_140, nanos=123_456_000)


def test_an_instant_before_the_epoch_counts_back_in_seconds_and_forward_in_nanoseconds() -> None:
    # Half a second before the epoch: -1 s + 500,000,000 ns, as protobuf normalizes it.
    assert timestamp(datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC)) == Timestamp(
        seconds=-1, nanos=500_000_000)


def test_the_same_instant_in_another_zone_is_the_same_timestamp() -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    assert timestamp(datetime(2026, 11, 29, 11, 39, tzinfo=india)) == timestamp(
        datetime(2026, 11, 29, 6, 9, tzinfo=UTC))


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                    timezones=st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-23),
                                                                max_value=timedelta(hours=23)))))
def test_any_aware_datetime_gives_what_protobufs_own_conversion_gives(when: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(when.astimezone(UTC))
    assert timestamp(when) == expected
