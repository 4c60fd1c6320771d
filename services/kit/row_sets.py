"""Many rows written by one statement, from one typed structure.

A frozen dataclass names the columns of the rows a statement writes and each column's SQL type
(`column("numeric")`). The same class yields the statement's source of rows, its column and value
lists, and the argument, so a column and its values cannot drift apart, nor can the parameter
numbers of several row sets in one statement.

Three encodings, chosen per row set by how its batches are shaped:
- Long batches of few columns (usage events, a thousand at a time) send one typed array per
  column, which the statement reads with `unnest`: PostgreSQL receives arrays in binary, the
  cheapest for it per value.
- Short batches of many columns (a credit book's ledger entries, deductions and usage: tens of
  columns, one to a few dozen rows) send one `jsonb` parameter, an array of one array per row,
  read back into typed columns. There asyncpg's cost per parameter and per array element (a
  type check each) outweighs what PostgreSQL spends parsing the JSON. Decimals travel as
  strings, exact; times in ISO 8601 with their offset.
- A known, small number of rows (a lone deduction's ledger entry, grant, deduction and usage)
  send one parameter per value, in a `VALUES` list: PostgreSQL has no JSON to read and no
  function scan to set up, most of what such a write costs it. The statement is then one per
  number of rows.
"""

from __future__ import annotations

import dataclasses
import json
import operator
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

Row = TypeVar("Row")
V = TypeVar("V")


def column(sql_type: str, *, cast: str | None = None, default: Any = dataclasses.MISSING) -> Any:
    """A dataclass field of SQL type `sql_type` in the row set; `cast` converts it in the
    statement's value list (e.g. text sent as `jsonb`)."""
    return dataclasses.field(default=default, metadata={"sql_type": sql_type, "cast": cast})


class RowSet(Generic[Row]):
    """The rows of one dataclass type as parameters `$first ...` of a statement, named `alias`;
    with `as_json`, as the one parameter `$first`; with `rows`, exactly that many rows, a
    parameter per value."""

    def __init__(self, row_type: type[Row], first_param: int, alias: str, *, as_json: bool = False,
                 rows: int | None = None) -> None:
        if as_json and rows is not None:
            raise ValueError("a row set is sent as JSON or as a parameter per value, not both")
        self.row_type = row_type
        self.first_param = first_param
        self.alias = alias
        self.as_json = as_json
        self.rows = rows
        self._fields = dataclasses.fields(row_type)  # type: ignore[arg-type]
        values = operator.attrgetter(*(f.name for f in self._fields))
        self._values = values if len(self._fields) > 1 else lambda row: (values(row),)

    @property
    def next_param(self) -> int:
        """The first parameter number after this row set's."""
        if self.rows is not None:
            return self.first_param + self.rows * len(self._fields)
        return self.first_param + (1 if self.as_json else len(self._fields))

    @property
    def names(self) -> str:
        """The column names, for an INSERT's column list."""
        return ", ".join(f.name for f in self._fields)

    @property
    def values(self) -> str:
        """`alias.column` for each column (with its cast), for a SELECT list."""
        return ", ".join(f"{self.alias}.{f.name}" + (f"::{f.metadata['cast']}" if f.metadata["cast"] else "")
                         for f in self._fields)

    @property
    def source(self) -> str:
        """The rows as `alias(column, ...)` of typed columns, for a FROM clause."""
        if self.rows is not None:
            return f"{self._values_list()} AS {self.alias}({self.names})"
        if self.as_json:
            values = ", ".join(f"(row_set.value->>{i})::{f.metadata['sql_type']}"
                               for i, f in enumerate(self._fields))
            return (f"(SELECT {values} FROM jsonb_array_elements(${self.first_param}::jsonb) AS row_set)"
                    f" AS {self.alias}({self.names})")
        params = ", ".join(f"${self.first_param + i}::{f.metadata['sql_type']}[]"
                           for i, f in enumerate(self._fields))
        return f"unnest({params}) AS {self.alias}({self.names})"

    def _values_list(self) -> str:
        types = [f.metadata["sql_type"] for f in self._fields]
        if not self.rows:
            return f"(SELECT {', '.join(f'NULL::{t}' for t in types)} WHERE false)"
        first = self.first_param
        rows = (", ".join(f"${first + r * len(types) + i}::{t}" for i, t in enumerate(types))
                for r in range(self.rows))
        return f"(VALUES ({'), ('.join(rows)}))"

    def arguments(self, rows: Sequence[Row]) -> list[Any]:
        """The statement's arguments for these rows: one array per column in parameter order,
        with `as_json` the one JSON text, with `rows` each row's values in turn."""
        if self.rows is not None:
            if len(rows) != self.rows:
                raise ValueError(f"a row set of {self.rows} rows was given {len(rows)}")
            return [_checked(value) for row in rows for value in self._values(row)]
        if self.as_json:
            values = [self._values(row) for row in rows]
            return [json.dumps(values, default=_json_value, separators=(",", ":"))]
        return [[getattr(row, f.name) for row in rows] for f in self._fields]


def _json_value(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(_checked(value))
    if isinstance(value, datetime):
        return _checked(value).isoformat()
    raise TypeError(f"a row set cannot hold {type(value).__name__}")


def _checked(value: V) -> V:
    """The value, refused when it is a decimal that is not finite or a datetime without an offset."""
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"a row set holds only finite decimals, got {value}")
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError(f"a row set holds only aware datetimes, got {value!r}")
    return value
