"""Migrations from several replicas at once; `metering` configuration errors in one line."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from services.metering.domain.usage_model import Aggregation
from services.metering.store import usage_figures
from services.schema import migrations
from services.schema.citus import distribution_plan
from tests import stores


@pytest.fixture
async def empty_database() -> str:
    name = f"metering_migrate_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(stores.admin_dsn())
    await admin.execute(f'CREATE DATABASE "{name}"')
    yield stores.database_url(name)
    await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    await admin.close()


async def test_concurrent_migrations_apply_each_version_once(empty_database: str) -> None:
    results = await asyncio.gather(*(migrations.migrate(empty_database) for _ in range(5)))
    versions = [m.version for m in migrations.available_migrations()]
    assert sorted(v for applied in results for v in applied) == versions
    conn = await asyncpg.connect(empty_database)
    assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == len(versions)
    assert await conn.fetchval("SELECT monthly_credits FROM plans WHERE plan_id = 'free'") == 500
    await conn.close()
    assert await migrations.migrate(empty_database) == []


def test_migration_versions_run_without_gaps() -> None:
    versions = [int(m.version) for m in migrations.available_migrations()]
    assert versions == list(range(1, len(versions) + 1))


async def test_a_database_that_applied_the_former_numbering_is_recognised_not_migrated_again(
        empty_database: str) -> None:
    await migrations.migrate(empty_database, through="0005")
    current = {m.name: m for m in migrations.available_migrations()}
    conn = await asyncpg.connect(empty_database)
    try:
        # Apply the later files by hand and book them under the versions they once had.
        for former, name, _ in migrations.RENUMBERED[:-1]:
            await conn.execute(current[name].sql)
            await conn.execute(migrations.INSERT_APPLIED, former, name, current[name].checksum)
        later = [m.version for m in migrations.available_migrations() if m.version >= "0012"]
        assert await migrations.migrate(empty_database) == later
        booked = dict(await conn.fetch("SELECT version, name FROM schema_migrations"))
        assert booked == {m.version: m.name for m in current.values()}
        assert await migrations.migrate(empty_database) == []
    finally:
        await conn.close()


async def test_an_applied_migration_that_was_edited_is_refused(empty_database: str) -> None:
    await migrations.migrate(empty_database)
    conn = await asyncpg.connect(empty_database)
    await conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = '0001'")
    await conn.close()
    with pytest.raises(migrations.MigrationError, match="0001_ledger was edited"):
        await migrations.migrate(empty_database)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "METERING_DATABASE_URL is not set"),
        ({"METERING_DATABASE_URL": "mysql://x"}, "must be a postgresql:// URL"),
        (
            # serve keeps trying for METERING_DB_CONNECT_SECONDS before it gives up
            {"METERING_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/x",
             "METERING_DB_CONNECT_SECONDS": "1"},
            "cannot reach the database",
        ),
        (
            {"METERING_DATABASE_URL": "postgresql://postgres@127.0.0.1/x", "METERING_DB_POOL_MAX": "many"},
            "METERING_DB_POOL_MAX must be a whole number",
        ),
        (
            {"METERING_DATABASE_URL": "postgresql://postgres@127.0.0.1/x",
             "METERING_PUBLIC_URL": "usage.example.com"},
            "METERING_PUBLIC_URL must be an http(s):// URL",
        ),
        (
            {"METERING_DATABASE_URL": "postgresql://postgres@127.0.0.1/x",
             "METERING_RATELIMITER_ADDR": "ratelimiter"},
            "METERING_RATELIMITER_ADDR must be host:port or an http(s):// URL",
        ),
        (
            {"METERING_DATABASE_URL": "postgresql://postgres@127.0.0.1/x",
             "METERING_PEER_ADDR": "10.0.0.7:50051"},
            "METERING_PEER_TOKEN must be at least 16 characters with METERING_PEER_ADDR",
        ),
        (
            {"METERING_DATABASE_URL": "postgresql://postgres@127.0.0.1/x",
             "METERING_PEER_ADDR": "replica-7", "METERING_PEER_TOKEN": "x" * 32},
            "METERING_PEER_ADDR must be host:port",
        ),
        (
            {"METERING_DATABASE_URL": "postgresql://postgres@127.0.0.1/x",
             "METERING_BATCH_WAIT_SECONDS": "-0.1"},
            "METERING_BATCH_WAIT_SECONDS must be 0 or more",
        ),
        (
            {"METERING_DATABASE_URL": "postgresql://postgres@127.0.0.1/x",
             "METERING_BATCH_HELPER_THREADS": "maybe"},
            "METERING_BATCH_HELPER_THREADS must be on or off (1/0, true/false, yes/no), got 'maybe'",
        ),
        (
            {"METERING_DATABASE_URL": "postgresql://postgres@127.0.0.1/x", "METERING_EVENT_LOOP": "tokio"},
            "METERING_EVENT_LOOP must be one of uvloop, asyncio, got 'tokio'",
        ),
    ],
)
def test_bad_configuration_is_one_clear_line(env: dict[str, str], message: str) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("METERING_")}
    for command in ("serve", "migrate"):
        done = subprocess.run(
            [sys.executable, "-m", "services.app.cli", command],
            env={**clean, **env},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode != 0
        lines = done.stderr.strip().splitlines()
        # Before giving up on an unreachable database, serve logs its retries (JSON lines).
        retries = [json.loads(line) for line in lines[:-1]]
        assert all(r["message"].startswith("database unreachable") for r in retries), done.stderr
        assert message in lines[-1] and "Traceback" not in done.stderr, done.stderr


async def test_usage_recorded_before_aggregation_kinds_reads_by_its_meter_kind(empty_database: str) -> None:
    applied = await migrations.migrate(empty_database, through="0006")
    assert applied[-1] == "0006"
    conn = await asyncpg.connect(empty_database)
    try:
        day = datetime(2026, 3, 4, tzinfo=UTC)
        old_rows = [
            ("s1", "storage_gb", 4, 1), ("s2", "storage_gb", 4, 2), ("s3", "storage_gb", 4, 3),
            ("q1", "queries", 10, 1), ("q2", "queries", 25, 2), ("n1", "seats", 2, 1), ("n2", "seats", 7, 3),
        ]
        for key, meter, quantity, hour in old_rows:
            await conn.execute(
                "INSERT INTO usage_events (org_id, idempotency_key, meter, quantity, occurred_at) "
                "VALUES ('old-org', $1, $2, $3, $4)", key, meter, quantity, day + timedelta(hours=hour))
        assert (await migrations.migrate(empty_database))[0] == "0007"
        kinds = await usage_figures.aggregations(conn)
        assert (kinds["storage_gb"], kinds["queries"], kinds["seats"]) == (
            Aggregation.PEAK, Aggregation.SUM, Aggregation.LEVEL)
        figures = await usage_figures.span_figures(conn, "old-org", day, day + timedelta(days=1))
        # storage: peak of 4, 4, 4 = 4; queries: 10 + 25 = 35; seats: the latest reading (03:00) = 7.
        assert {m: f.used for m, f in figures.items()} == {"storage_gb": 4, "queries": 35, "seats": 7}
    finally:
        await conn.close()


def test_the_citus_plan_distributes_reference_tables_then_organizations_then_tenant_tables() -> None:
    tables = ["usage_events", "plans", "plan_limits", "organizations", "balances", "meters"]
    # plan_limits points at plans and meters: both are reference tables before it.
    keys = [("plan_limits", "plans"), ("plan_limits", "meters"), ("usage_events", "organizations")]
    plan = distribution_plan(tables, [], keys)
    assert [(s.table, s.kind) for s in plan] == [
        ("plans", "reference"), ("meters", "reference"), ("plan_limits", "reference"),
        ("organizations", "organizations"), ("balances", "tenant"), ("usage_events", "tenant")]
    # Run again after a release: only the table the new migration created is left.
    again = distribution_plan(["plans", "organizations", "balances", "exports"],
                              ["plans", "organizations", "balances"])
    assert [(s.table, s.kind) for s in again] == [("exports", "tenant")]


async def test_metering_distribute_does_nothing_on_plain_postgresql(empty_database: str) -> None:
    await migrations.migrate(empty_database)
    conn = await asyncpg.connect(empty_database)
    try:
        await conn.execute("SELECT metering_distribute('organizations', 'tenant')")
        await conn.execute("SELECT metering_distribute('plans', 'reference')")
        with pytest.raises(asyncpg.RaiseError, match="how must be tenant or reference"):
            await conn.execute("SELECT metering_distribute('plans', 'sharded')")
    finally:
        await conn.close()


def test_migrate_citus_without_the_extension_applies_the_migrations_and_says_so_in_one_line(
        empty_database: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "services.app.cli", "migrate", "--citus"],
        env={**os.environ, "METERING_DATABASE_URL": empty_database},
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 1
    assert "applied" in done.stdout
    assert done.stderr.strip().splitlines() == [
        "metering migrate --citus: the citus extension is not installed in this database "
        "(CREATE EXTENSION citus on the coordinator, then add the workers)"]
