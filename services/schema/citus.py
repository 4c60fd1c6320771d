"""Distributing the schema by organization on a Citus coordinator (`metering migrate --citus`).

The order is the one Citus accepts: reference tables first (copied to every node), then
`organizations` distributed by `org_id`, then every other tenant table colocated with it, so each
foreign key already points at a reference table or a colocated one when its table is distributed.
Tables distributed earlier are skipped, so the command is safe to run again after each release.

A migration that creates a table on a distributed schema distributes it before adding its foreign
keys, with `SELECT metering_distribute('<table>', 'tenant' | 'reference')`: a function the
migration runner installs, which does nothing on plain PostgreSQL or before the schema is
distributed (this command then distributes the table with the rest).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from graphlib import TopologicalSorter

import asyncpg

from services.schema.distribution import DISTRIBUTION_COLUMN, REFERENCE_TABLES

ORGANIZATIONS = "organizations"

CITUS_INSTALLED = "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')"
SELECT_TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY c.relname"""
SELECT_DISTRIBUTED = "SELECT logicalrelid::regclass::text FROM pg_dist_partition"
SELECT_FOREIGN_KEYS = """
SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent
FROM pg_constraint WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"""
# A session setting: without it, making the catalogue reference tables first would turn every
# table pointing at them into a Citus-local table, which then refuses to be distributed.
NO_LOCAL_REFERENCE_KEYS = "SET citus.enable_local_reference_table_foreign_keys = off"
CREATE_REFERENCE_TABLE = "SELECT create_reference_table($1)"
CREATE_ORGANIZATIONS = "SELECT create_distributed_table($1, $2)"
CREATE_TENANT_TABLE = "SELECT create_distributed_table($1, $2, colocate_with => $3)"

# Installed by the migration runner (CREATE OR REPLACE: every run, any database).
DISTRIBUTE_FUNCTION = """
CREATE OR REPLACE FUNCTION metering_distribute(tbl regclass, how text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    IF how NOT IN ('tenant', 'reference') THEN
        RAISE EXCEPTION 'metering_distribute: how must be tenant or reference, not %', how;
    END IF;
    -- Plain PostgreSQL, or a schema not distributed yet: `metering migrate --citus` does it later.
    IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'organizations'::regclass)
       OR EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = tbl) THEN
        RETURN;
    END IF;
    -- The foreign keys the migration adds next, in the same transaction, need sequential mode.
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
    IF how = 'reference' THEN
        PERFORM create_reference_table(tbl);
    ELSE
        PERFORM create_distributed_table(tbl, 'org_id', colocate_with => 'organizations');
    END IF;
END
$fn$"""


class DistributionError(RuntimeError):
    pass


@dataclass(frozen=True)
class Step:
    table: str
    kind: str  # "reference", "organizations" or "tenant"


def distribution_plan(tables: Iterable[str], distributed: Iterable[str],
                      foreign_keys: Iterable[tuple[str, str]] = ()) -> list[Step]:
    """What to distribute, in order: reference tables (each after those it points at, by the
    (table, referenced table) pairs of `foreign_keys`), `organizations`, then the tenant tables;
    tables distributed already are left out."""
    present, done = set(tables), set(distributed)
    keys = list(foreign_keys)
    references = _parents_first([t for t in REFERENCE_TABLES if t in present], keys)
    tenants = _parents_first(sorted(present - set(REFERENCE_TABLES) - {ORGANIZATIONS}), keys)
    steps = [Step(t, "reference") for t in references]
    if ORGANIZATIONS in present:
        steps.append(Step(ORGANIZATIONS, "organizations"))
    steps += [Step(t, "tenant") for t in tenants]
    return [s for s in steps if s.table not in done]


def _parents_first(tables: list[str], foreign_keys: list[tuple[str, str]]) -> list[str]:
    """`tables` with each after the ones of them it points at, otherwise in the given order."""
    order: TopologicalSorter[str] = TopologicalSorter({t: [] for t in tables})
    for child, parent in foreign_keys:
        if child in tables and parent in tables and child != parent:
            order.add(child, parent)
    ranked = list(order.static_order())
    return sorted(tables, key=ranked.index)


async def distribute(conn: asyncpg.Connection) -> list[Step]:
    """Distributes what is not distributed yet on the coordinator `conn`; returns what it did."""
    if not await conn.fetchval(CITUS_INSTALLED):
        raise DistributionError("the citus extension is not installed in this database "
                                "(CREATE EXTENSION citus on the coordinator, then add the workers)")
    tables = [r["relname"] for r in await conn.fetch(SELECT_TABLES)]
    distributed = [r[0] for r in await conn.fetch(SELECT_DISTRIBUTED)]
    foreign_keys = [(r["child"], r["parent"]) for r in await conn.fetch(SELECT_FOREIGN_KEYS)]
    plan = distribution_plan(tables, distributed, foreign_keys)
    await conn.execute(NO_LOCAL_REFERENCE_KEYS)
    for step in plan:
        if step.kind == "reference":
            await conn.execute(CREATE_REFERENCE_TABLE, step.table)
        elif step.kind == "organizations":
            await conn.execute(CREATE_ORGANIZATIONS, step.table, DISTRIBUTION_COLUMN)
        else:
            await conn.execute(CREATE_TENANT_TABLE, step.table, DISTRIBUTION_COLUMN, ORGANIZATIONS)
    return plan
