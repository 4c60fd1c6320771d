"""Versioned SQL migrations: `NNNN_name.sql` files in this package's `migrations/` folder.

Safe to run from several replicas at once: a session-level advisory lock serializes runners and
each one applies only what is not yet recorded in `schema_migrations`, one transaction per file.
An applied file whose text has changed is refused (its checksum no longer matches).

Versions run without gaps. A new migration takes the next number, whatever context its tables
belong to, and is never edited once released: a change is a new file. Files once numbered
differently are listed in RENUMBERED, so a database that applied them under their former
version is recognised instead of migrated twice.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

from services.schema.citus import DISTRIBUTE_FUNCTION, Step, distribute

# An arbitrary, fixed key for pg_advisory_lock: "metering migrations".
MIGRATION_LOCK_KEY = 0x6D6574_6D6967

CREATE_LEDGER_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""
SELECT_APPLIED = "SELECT version, checksum FROM schema_migrations"
RENUMBER_APPLIED = "UPDATE schema_migrations SET version = $3 WHERE version = $1 AND name = $2"

# (former version, name) -> version: the numbering closed its gaps at 0006 and 0010. Listed in
# ascending order, so each row moves to a version the one before it has just freed.
RENUMBERED: tuple[tuple[str, str, str], ...] = (
    ("0007", "reporting", "0006"),
    ("0008", "usage_aggregation", "0007"),
    ("0009", "deductions_usage", "0008"),
    ("0010", "export_kinds", "0009"),
    ("0012", "replayed_requests", "0010"),
    ("0013", "api_keys_reference", "0011"),
    ("0014", "plan_change_decisions", "0012"),
)
INSERT_APPLIED = "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)"

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available_migrations() -> list[Migration]:
    folder = resources.files(__package__).joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            found.append(Migration(match[1], match[2], entry.read_text()))
    return sorted(found, key=lambda m: m.version)


async def migrate(dsn: str, through: str | None = None) -> list[str]:
    """Applies pending migrations (up to version `through` when given); returns the versions
    applied by this call."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        try:
            return await _apply_pending(conn, through)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
    finally:
        await conn.close()


async def _apply_pending(conn: asyncpg.Connection, through: str | None) -> list[str]:
    await conn.execute(CREATE_LEDGER_TABLE)
    await conn.execute(DISTRIBUTE_FUNCTION)
    async with conn.transaction():
        for former, name, version in RENUMBERED:
            await conn.execute(RENUMBER_APPLIED, former, name, version)
    applied = {r["version"]: r["checksum"] for r in await conn.fetch(SELECT_APPLIED)}
    done = []
    for migration in available_migrations():
        if through is not None and migration.version > through:
            break
        if migration.version in applied:
            if applied[migration.version] != migration.checksum:
                raise MigrationError(
                    f"migration {migration.version}_{migration.name} was edited after it was applied"
                )
            continue
        async with conn.transaction():
            await conn.execute(migration.sql)
            await conn.execute(INSERT_APPLIED, migration.version, migration.name, migration.checksum)
        done.append(migration.version)
    return done


async def distribute_schema(dsn: str) -> list[Step]:
    """Distributes what is not distributed yet on the Citus coordinator `dsn`, under the
    migrations' lock (services/schema/citus.py); returns what it distributed."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        try:
            return await distribute(conn)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
    finally:
        await conn.close()
