"""Many rows written by one statement, from one typed structure.

A frozen dataclass names the columns of the rows a statement writes and each column's SQL type
(`column("numeric")`). The same class yields the statement's `unnest($n::type[], ...)` source,
its column and value lists, and the argument arrays, so a column and its values cannot drift
apart, nor can the parameter numbers of several row sets in one statement.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

Row = TypeVar("Row")


def column(sql_type: str, *, cast: str | None = None, default: Any = dataclasses.MISSING) -> Any:
    """A dataclass field written as `sql_type[]` through unnest; `cast` converts it in the
    statement's value list (e.g. text sent as `jsonb`)."""
    return dataclasses.field(default=default, metadata={"sql_type": sql_type, "cast": cast})


class RowSet(Generic[Row]):
    """The rows of one dataclass type as parameters `$first ...` of a statement, named `alias`."""

    def __init__(self, row_type: type[Row], first_param: int, alias: str) -> None:
        self.row_type = row_type
        self.first_param = first_param
        self.alias = alias
        self._fields = dataclasses.fields(row_type)  # type: ignore[arg-type]

    @property
    def next_param(self) -> int:
        """The first parameter number after this row set's."""
        return self.first_param + len(self._fields)

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
        """`unnest($n::type[], ...) AS alias(column, ...)`, for a FROM clause."""
        params = ", ".join(f"${self.first_param + i}::{f.metadata['sql_type']}[]"
                           for i, f in enumerate(self._fields))
        return f"unnest({params}) AS {self.alias}({self.names})"

    def arguments(self, rows: Sequence[Row]) -> list[list[Any]]:
        """One array per column, in parameter order."""
        return [[getattr(row, f.name) for row in rows] for f in self._fields]
