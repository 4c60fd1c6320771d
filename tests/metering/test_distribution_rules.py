"""The schema and every named statement keep the rules that let the database be distributed by
org_id (Citus), checked on a freshly migrated plain PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

import services
from services.schema.distribution import DISTRIBUTION_COLUMN, REFERENCE_TABLES
from tests.metering.citus_rules import Statement, named_statements, refusals

TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1"""

ORG_ID_TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1"""

# Primary keys, unique constraints and unique indexes, with the first column of each.
UNIQUE_KEYS = """
SELECT t.relname AS table_name, k.relname AS key_name, a.attname AS first_column
FROM pg_index i
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_class k ON k.oid = i.indexrelid
LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
WHERE n.nspname = 'public' AND i.indisunique ORDER BY 1, 2"""

FOREIGN_KEYS = """
SELECT t.relname AS table_name, c.conname, r.relname AS referenced,
       ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(num, pos)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num ORDER BY k.pos)::text[]
           AS columns,
       ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(num, pos)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.num ORDER BY k.pos)::text[]
           AS referenced_columns,
       c.confupdtype::text AS on_update, c.confdeltype::text AS on_delete
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_class r ON r.oid = c.confrelid
WHERE n.nspname = 'public' AND c.contype = 'f' ORDER BY 1, 2"""


async def _tenant_tables(pool: asyncpg.Pool) -> set[str]:
    return {r["relname"] for r in await pool.fetch(TABLES)} - set(REFERENCE_TABLES)


async def test_every_table_is_a_listed_reference_table_or_a_tenant_table_with_org_id(
        pool: asyncpg.Pool) -> None:
    tables = {r["relname"] for r in await pool.fetch(TABLES)}
    with_org_id = {r["relname"] for r in await pool.fetch(ORG_ID_TABLES)}
    assert set(REFERENCE_TABLES) <= tables
    assert sorted(tables - set(REFERENCE_TABLES) - with_org_id) == []
    assert "organizations" in tables - set(REFERENCE_TABLES)


async def test_every_tenant_table_leads_its_primary_and_unique_keys_with_org_id(pool: asyncpg.Pool) -> None:
    tenant = await _tenant_tables(pool)
    keys = [r for r in await pool.fetch(UNIQUE_KEYS) if r["table_name"] in tenant]
    assert {r["table_name"] for r in keys} == tenant  # each has at least its primary key
    assert [(r["table_name"], r["key_name"]) for r in keys if r["first_column"] != DISTRIBUTION_COLUMN] == []


async def test_tenant_foreign_keys_point_at_colocated_tenant_tables_or_reference_tables(
        pool: asyncpg.Pool) -> None:
    tenant = await _tenant_tables(pool)
    wrong = []
    for fk in await pool.fetch(FOREIGN_KEYS):
        if fk["table_name"] not in tenant or fk["referenced"] in REFERENCE_TABLES:
            continue
        pairs = list(zip(fk["columns"], fk["referenced_columns"], strict=True))
        if (DISTRIBUTION_COLUMN, DISTRIBUTION_COLUMN) not in pairs:
            wrong.append(fk["conname"])
    assert wrong == []


async def test_foreign_keys_on_the_distribution_column_neither_cascade_updates_nor_set_it(
        pool: asyncpg.Pool) -> None:
    # Citus refuses ON UPDATE CASCADE / SET NULL / SET DEFAULT, and ON DELETE SET NULL / SET
    # DEFAULT, on a foreign key that includes the distribution column.
    wrong = [fk["conname"] for fk in await pool.fetch(FOREIGN_KEYS)
             if DISTRIBUTION_COLUMN in fk["columns"]
             and (fk["on_update"] not in ("a", "r") or fk["on_delete"] in ("n", "d"))]
    assert wrong == []


async def test_reference_tables_point_only_at_reference_tables(pool: asyncpg.Pool) -> None:
    wrong = [fk["conname"] for fk in await pool.fetch(FOREIGN_KEYS)
             if fk["table_name"] in REFERENCE_TABLES and fk["referenced"] not in REFERENCE_TABLES]
    assert wrong == []


def test_no_named_statement_uses_a_construct_a_distributed_schema_refuses() -> None:
    statements = list(named_statements())
    names = {s.where for s in statements}
    # The check sees the statements of every layer (a sample of each).
    assert {"services.metering.store.quota_limits.LOCK_COUNTERS",
            "services.reporting.service.exports.CLAIM_EXPORT",
            "services.metering.service.alert_delivery.CLAIM_DUE",
            "services.billing.store.rollup.INSERT_EVENTS_HOUR",
            "services.billing.store.accounts.SAVE_CUSTOMER"} <= names
    assert {s.where: refusals(s) for s in statements if refusals(s)} == {}


def _statement(sql: str, source: str = "") -> Statement:
    return Statement("example", "EXAMPLE", sql, source)


@pytest.mark.parametrize(("sql", "source", "refusal"), [
    ("""SELECT * FROM usage_exports WHERE status = 'processing' ORDER BY created_at LIMIT 1
        FOR NO KEY UPDATE SKIP LOCKED""", "", "row lock on a query not pinned to one org_id"),
    ("""SELECT q.* FROM unnest($1::text[], $2::text[]) AS k(org_id, resource)
        JOIN quotas q ON q.org_id = k.org_id AND q.resource = k.resource FOR UPDATE OF q""", "",
     "row lock on a query not pinned to one org_id"),
    ("""INSERT INTO usage_exports (org_id, export_id) VALUES ($1, $2)
        RETURNING *, statement_timestamp() AS now""", "", "volatile function in RETURNING"),
    ("""UPDATE api_keys SET revoked_at = coalesce(revoked_at, statement_timestamp()) WHERE key_id = $1""", "",
     "volatile function in coalesce(...) of an UPDATE SET"),
    ("""INSERT INTO billing_accounts (org_id, stripe_customer_id) VALUES ($1, $2)
        ON CONFLICT (org_id) DO UPDATE SET updated_at = now()""", "",
     "volatile function in ON CONFLICT ... DO UPDATE SET"),
    ("""SELECT CASE e.token_kind WHEN 'input' THEN 1 END FROM usage_events e""", "", "CASE x WHEN form"),
    ("""INSERT INTO rollup_dirty (org_id, hour_start) SELECT org_id, hour FROM usage_events
        ON CONFLICT DO NOTHING""", "    status = await conn.execute(EXAMPLE, since)\n",
     "affected-row count of INSERT ... SELECT"),
])
def test_the_statement_check_names_each_construct_a_distributed_schema_refuses(
        sql: str, source: str, refusal: str) -> None:
    found = refusals(_statement(sql, source))
    assert len(found) == 1
    assert found[0].startswith(refusal)


@pytest.mark.parametrize("sql", [
    "SELECT * FROM usage_exports WHERE org_id = $1 AND export_id = $2 FOR NO KEY UPDATE SKIP LOCKED",
    """INSERT INTO usage_exports (org_id, export_id, created_at) VALUES ($1, $2, now())
       RETURNING *, created_at""",
    "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $3) WHERE key_id = $1",
    """INSERT INTO billing_accounts (org_id, updated_at) VALUES ($1, now())
       ON CONFLICT (org_id) DO UPDATE SET updated_at = excluded.updated_at""",
    "SELECT CASE WHEN e.token_kind = 'input' THEN 1 END FROM usage_events e",
    """INSERT INTO rollup_dirty (org_id, hour_start) SELECT org_id, hour FROM usage_events
       ON CONFLICT DO NOTHING RETURNING 1""",
])
def test_the_statement_check_passes_the_forms_a_distributed_schema_takes(sql: str) -> None:
    assert refusals(_statement(sql, "    status = await conn.execute(EXAMPLE, since)\n")) == []


def test_multi_row_writes_are_one_statement_not_executemany() -> None:
    root = Path(services.__file__).parent
    users = [str(p.relative_to(root)) for p in root.rglob("*.py")
             if "gen" not in p.parts and ".executemany(" in p.read_text()]
    assert users == []
