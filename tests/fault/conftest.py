"""Fixtures of the fault suite: a PostgreSQL of its own and the metering database in it.

Nothing here touches the machine's shared PostgreSQL (5432) or Redis (6379): the stores these
tests restart and crash are started by the suite itself, on free loopback ports, and every
fixture that starts a process stops it in its finalizer, also when a test fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from devstack.private_stores import PrivatePostgres
from tests.fault.store import create_metering_database


@dataclass(frozen=True)
class MeteringDatabase:
    dsn: str
    platform_key: str


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster only this suite uses, so it may be restarted under load."""
    pg = PrivatePostgres()
    try:
        yield pg.init().start()
    finally:
        pg.destroy()


@pytest.fixture(scope="session")
def metering_db(private_postgres: PrivatePostgres) -> MeteringDatabase:
    dsn, key = asyncio.run(create_metering_database(private_postgres.dsn(), "metering"))
    return MeteringDatabase(dsn, key)
