"""The SQL constructs a schema distributed by org_id on Citus refuses or answers wrongly, checked
statically over every named statement of the code (module-level string constants that are SQL)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import services

SQL_START = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b", re.IGNORECASE)
ROW_LOCK = re.compile(r"\bFOR\s+(NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b", re.IGNORECASE)
PINNED_TO_ONE_ORG = re.compile(r"\b(\w+\.)?org_id\s*=\s*\$\d+", re.IGNORECASE)
VOLATILE_CALL = re.compile(
    r"\b(now|statement_timestamp|clock_timestamp|transaction_timestamp|timeofday|random|gen_random_uuid)\s*\(",
    re.IGNORECASE)
UPSERT_SET = re.compile(r"\bDO\s+UPDATE\s+SET\b(?P<clause>.*?)(?=\bRETURNING\b|\bWHERE\b|$)",
                        re.IGNORECASE | re.DOTALL)
RETURNING = re.compile(r"\bRETURNING\b(?P<clause>.*)$", re.IGNORECASE | re.DOTALL)
UPDATE_SET = re.compile(
    r"\bUPDATE\s+\w+(\s+\w+)?\s+SET\b(?P<clause>.*?)(?=\bWHERE\b|\bFROM\b|\bRETURNING\b|$)",
    re.IGNORECASE | re.DOTALL)
SIMPLE_CASE = re.compile(r"\bCASE\s+(?!WHEN\b)", re.IGNORECASE)
INSERT_SELECT_DO_NOTHING = re.compile(
    r"\bINSERT\s+INTO\b(?:(?!\bVALUES\b).)*?\bSELECT\b.*\bON\s+CONFLICT\b.*\bDO\s+NOTHING\b",
    re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Statement:
    module: str
    name: str
    sql: str
    source: str  # the whole module's source, to see how the statement's result is used

    @property
    def where(self) -> str:
        return f"{self.module}.{self.name}"


def named_statements() -> Iterator[Statement]:
    """Every module-level string constant that is SQL, in every module of the services package."""
    for module in _modules():
        source = Path(module.__file__ or "").read_text()
        for name, value in vars(module).items():
            if name.isupper() and isinstance(value, str) and SQL_START.match(value):
                yield Statement(module.__name__, name, value, source)


def _modules() -> Iterator[ModuleType]:
    for info in pkgutil.walk_packages(services.__path__, "services."):
        if ".gen" in info.name or "stripe_test_server" in info.name:
            continue
        yield importlib.import_module(info.name)


def refusals(statement: Statement) -> list[str]:
    """What a distributed schema refuses in `statement` (empty when nothing)."""
    sql = statement.sql
    found = []
    if ROW_LOCK.search(sql) and not PINNED_TO_ONE_ORG.search(sql):
        found.append("row lock on a query not pinned to one org_id (a multi-shard lock)")
    for clause in _volatile_clauses(sql):
        found.append(f"volatile function in {clause}")
    if SIMPLE_CASE.search(sql):
        found.append("CASE x WHEN form (write CASE WHEN x = ...)")
    if _counts_insert_select(statement):
        found.append("affected-row count of INSERT ... SELECT ... ON CONFLICT DO NOTHING (use RETURNING)")
    return found


def _volatile_clauses(sql: str) -> Iterator[str]:
    for match in UPSERT_SET.finditer(sql):
        if VOLATILE_CALL.search(match["clause"]):
            yield "ON CONFLICT ... DO UPDATE SET"
    for match in RETURNING.finditer(sql):
        if VOLATILE_CALL.search(match["clause"]):
            yield "RETURNING"
    for match in UPDATE_SET.finditer(sql):
        if any(VOLATILE_CALL.search(args) for args in _coalesce_arguments(match["clause"])):
            yield "coalesce(...) of an UPDATE SET"


def _coalesce_arguments(clause: str) -> Iterator[str]:
    for match in re.finditer(r"\bcoalesce\s*\(", clause, re.IGNORECASE):
        depth, start = 1, match.end()
        for i in range(start, len(clause)):
            depth += {"(": 1, ")": -1}.get(clause[i], 0)
            if depth == 0:
                yield clause[start:i]
                break


def _counts_insert_select(statement: Statement) -> bool:
    """An INSERT ... SELECT ... ON CONFLICT DO NOTHING without RETURNING whose status string is
    kept (`x = await conn.execute(NAME, ...)`): the count a coordinator reports is rows attempted."""
    if not INSERT_SELECT_DO_NOTHING.search(statement.sql) or RETURNING.search(statement.sql):
        return False
    kept = re.compile(rf"=\s*await\s+[\w.]+\.execute\(\s*{re.escape(statement.name)}\b")
    return bool(kept.search(statement.source))
