"""Multi-row statements built from one typed structure: columns, types and parameters agree."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from services.kit.row_sets import RowSet, column
from services.metering.store import credit_books


@dataclass(frozen=True)
class Reading:
    meter: str = column("text")
    quantity: Decimal = column("numeric")
    tokens: str | None = column("text", cast="jsonb")


def test_a_row_set_names_each_column_once_with_its_type_and_parameter() -> None:
    rows = RowSet(Reading, 4, "r")
    assert rows.names == "meter, quantity, tokens"
    assert rows.values == "r.meter, r.quantity, r.tokens::jsonb"
    assert rows.source == "unnest($4::text[], $5::numeric[], $6::text[]) AS r(meter, quantity, tokens)"
    assert rows.next_param == 7
    assert rows.arguments([Reading("queries", Decimal(2), None), Reading("seats", Decimal(5), "{}")]) == [
        ["queries", "seats"], [Decimal(2), Decimal(5)], [None, "{}"]]


def _parameters(statement: str) -> list[int]:
    return sorted({int(n) for n in re.findall(r"\$(\d+)", statement)})


def test_the_book_statements_number_their_parameters_without_gaps() -> None:
    # $1 organization, $2 time, the six row sets' columns (6 + 2 + 12 + 3 + 17 + 10), then four
    # balance figures.
    assert _parameters(credit_books.WRITE_BOOK) == list(range(1, 2 + 50 + 4 + 1))
    # The warm write: no holds (12) or allocations (3), then the check's five.
    assert _parameters(credit_books.WRITE_WARM_BOOK) == list(range(1, 2 + 35 + 4 + 5 + 1))
    # The warm write of a batch that changes holds: all six row sets, the check's five, the keys
    # of the holds it opens, and whether it counts tokens.
    assert _parameters(credit_books.WRITE_WARM_BOOK_WITH_HOLDS) == list(range(1, 2 + 50 + 4 + 5 + 2 + 1))
