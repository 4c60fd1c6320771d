"""A row set reaches PostgreSQL as the values it was given, in each encoding: decimals to the
last digit, instants with their offset, text as written, NULLs as NULLs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import asyncpg
import pytest

from services.kit.row_sets import RowSet, column


@dataclass(frozen=True)
class Entry:
    label: str | None = column("text")
    amount: Decimal | None = column("numeric")
    at: datetime | None = column("timestamptz")
    granted: bool | None = column("bool")
    grant_id: int | None = column("bigint")


AT = datetime(2026, 11, 29, 9, 30, 0, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))
ENTRIES = [
    Entry("plain", Decimal("1"), AT, True, 1),
    Entry('quotes " and \\ backslash', Decimal("0.000000000000000000000000000001"), AT, False, 2**62),
    Entry("naïve 日本 🚀", Decimal("1234567890123456789012345678.01234567890123456789012"), AT, None, None),
    Entry(None, Decimal("-42.50"), datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), None, -7),
    Entry("", Decimal("1E+3"), None, None, 0),
    Entry("null", None, None, None, None),
]


ENCODINGS = pytest.mark.parametrize("encoding", ["arrays", "json", "values"])


def _row_set(encoding: str, rows: int) -> RowSet[Entry]:
    return RowSet(Entry, 1, "e", as_json=encoding == "json", rows=rows if encoding == "values" else None)


@ENCODINGS
async def test_every_value_arrives_as_given(pool: asyncpg.Pool, encoding: str) -> None:
    rows = _row_set(encoding, len(ENTRIES))
    async with pool.acquire() as conn:
        got = await conn.fetch(f"SELECT {rows.values} FROM {rows.source}", *rows.arguments(ENTRIES))
    assert [Entry(*r) for r in got] == ENTRIES
    assert got[1]["amount"].as_tuple().exponent == -30  # the scale as written, not rounded
    assert got[3]["amount"] == Decimal("-42.50") and str(got[3]["amount"]) == "-42.50"


@ENCODINGS
async def test_no_rows_is_an_empty_set(pool: asyncpg.Pool, encoding: str) -> None:
    rows = _row_set(encoding, 0)
    async with pool.acquire() as conn:
        assert await conn.fetch(f"SELECT {rows.values} FROM {rows.source}", *rows.arguments([])) == []
