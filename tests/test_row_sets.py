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


def test_the_book_statement_numbers_its_parameters_without_gaps() -> None:
    used = sorted({int(n) for n in re.findall(r"\$(\d+)", credit_books.WRITE_BOOK)})
    # $1 organization, $2 time, the six row sets' columns, then four balance figures.
    assert used == list(range(1, credit_books.USAGE.next_param + 4))
