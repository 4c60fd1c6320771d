"""Multi-row statements built from one typed structure: columns, types and parameters agree."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from services.kit.row_sets import RowSet, column
from services.metering.store import credit_books


@dataclass(frozen=True)
class Reading:
    meter: str = column("text")
    quantity: Decimal = column("numeric")
    tokens: str | None = column("text", cast="jsonb")


@dataclass(frozen=True)
class Stamp:
    label: str = column("text")
    amount: Decimal = column("numeric")
    at: datetime = column("timestamptz")
    granted: bool | None = column("bool")


def test_a_row_set_names_each_column_once_with_its_type_and_parameter() -> None:
    rows = RowSet(Reading, 4, "r")
    assert rows.names == "meter, quantity, tokens"
    assert rows.values == "r.meter, r.quantity, r.tokens::jsonb"
    assert rows.source == "unnest($4::text[], $5::numeric[], $6::text[]) AS r(meter, quantity, tokens)"
    assert rows.next_param == 7
    assert rows.arguments([Reading("queries", Decimal(2), None), Reading("seats", Decimal(5), "{}")]) == [
        ["queries", "seats"], [Decimal(2), Decimal(5)], [None, "{}"]]


def test_a_json_row_set_is_one_parameter_read_back_into_the_same_typed_columns() -> None:
    rows = RowSet(Reading, 4, "r", as_json=True)
    assert rows.values == "r.meter, r.quantity, r.tokens::jsonb"
    assert rows.source == (
        "(SELECT (row_set.value->>0)::text, (row_set.value->>1)::numeric, (row_set.value->>2)::text "
        "FROM jsonb_array_elements($4::jsonb) AS row_set) AS r(meter, quantity, tokens)")
    assert rows.next_param == 5


def test_a_json_row_sets_argument_keeps_decimals_exact_and_times_with_their_offset() -> None:
    rows = RowSet(Stamp, 1, "s", as_json=True)
    at = datetime(2026, 11, 29, 9, 30, 0, 250, tzinfo=timezone(timedelta(hours=-5)))
    stamped = "2026-11-29T09:30:00.000250-05:00"
    stamps = [Stamp("2.50", Decimal("2.50"), at, True), Stamp("", Decimal("1E+3"), at, None)]
    assert rows.arguments(stamps) == [f'[["2.50","2.50","{stamped}",true],["","1E+3","{stamped}",null]]']
    assert rows.arguments([]) == ["[]"]
    with pytest.raises(ValueError, match="aware"):
        rows.arguments([Stamp("x", Decimal(1), datetime(2026, 11, 29), None)])
    with pytest.raises(ValueError, match="finite"):
        rows.arguments([Stamp("x", Decimal("NaN"), at, None)])


def test_a_row_set_of_a_known_number_of_rows_sends_each_value_as_a_parameter_of_its_type() -> None:
    rows = RowSet(Reading, 4, "r", rows=2)
    assert rows.values == "r.meter, r.quantity, r.tokens::jsonb"
    assert rows.source == ("(VALUES ($4::text, $5::numeric, $6::text), ($7::text, $8::numeric, $9::text))"
                           " AS r(meter, quantity, tokens)")
    assert rows.next_param == 10
    readings = [Reading("queries", Decimal("2.50"), None), Reading("seats", Decimal(5), "{}")]
    assert rows.arguments(readings) == ["queries", Decimal("2.50"), None, "seats", Decimal(5), "{}"]


def test_a_row_set_of_no_rows_is_an_empty_set_of_the_same_typed_columns() -> None:
    rows = RowSet(Reading, 4, "r", rows=0)
    assert rows.source == ("(SELECT NULL::text, NULL::numeric, NULL::text WHERE false)"
                           " AS r(meter, quantity, tokens)")
    assert rows.next_param == 4
    assert rows.arguments([]) == []


def test_a_row_set_of_a_known_number_of_rows_refuses_another_number_and_values_json_refuses() -> None:
    rows = RowSet(Stamp, 1, "s", rows=1)
    at = datetime(2026, 11, 29, 9, 30, tzinfo=timezone(timedelta(hours=-5)))
    with pytest.raises(ValueError, match="of 1 rows was given 2"):
        rows.arguments([Stamp("x", Decimal(1), at, None)] * 2)
    with pytest.raises(ValueError, match="aware"):
        rows.arguments([Stamp("x", Decimal(1), datetime(2026, 11, 29), None)])
    with pytest.raises(ValueError, match="finite"):
        rows.arguments([Stamp("x", Decimal("Infinity"), at, None)])
    with pytest.raises(ValueError, match="not both"):
        RowSet(Stamp, 1, "s", as_json=True, rows=1)


def _parameters(statement: str) -> list[int]:
    return sorted({int(n) for n in re.findall(r"\$(\d+)", statement)})


def test_the_book_statements_number_their_parameters_without_gaps() -> None:
    # $1 organization, $2 time, one parameter per row set (six), then four balance figures.
    assert _parameters(credit_books.WRITE_BOOK) == list(range(1, 2 + 6 + 4 + 1))
    # The warm write: no holds or allocations, then the check's five.
    assert _parameters(credit_books.WRITE_WARM_BOOK) == list(range(1, 2 + 4 + 4 + 5 + 1))
    # The warm write of a batch that changes holds: all six row sets, the check's five, the keys
    # of the holds it opens, and whether it counts tokens.
    assert _parameters(credit_books.WRITE_WARM_BOOK_WITH_HOLDS) == list(range(1, 2 + 6 + 4 + 5 + 2 + 1))


@pytest.mark.parametrize(("entries", "grants", "usage", "tokens"), [
    (1, 1, 1, False), (2, 2, 1, False), (0, 0, 0, False), (1, 1, 3, True), (5, 5, 5, True)])
def test_a_lone_deductions_statement_numbers_a_parameter_per_value_without_gaps(
    entries: int, grants: int, usage: int, tokens: bool
) -> None:
    p, statement = credit_books.write_lone_deduction(credit_books.LoneShape(entries, grants, usage, tokens))
    # $1 organization, $2 time; a ledger entry has 6 values, a grant 2, the deduction 17, a
    # usage row 10; then the four balance figures and the check's five; counting tokens, the
    # keys of the holds it opens (none) and whether it counts tokens.
    values = entries * 6 + grants * 2 + 17 + usage * 10
    assert _parameters(statement) == list(range(1, 2 + values + 4 + 5 + 2 * tokens + 1))
    assert "EXISTS (SELECT FROM warm)" in statement
    assert (p.holds is not None) == tokens == ("llm_tokens" in statement)
