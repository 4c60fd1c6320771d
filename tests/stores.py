"""The PostgreSQL and Redis the tests run against.

METERING_TEST_ADMIN_DSN (a superuser's DSN; the tests create and drop databases of their own) and
RATELIMITER_TEST_REDIS_URL (the tests use key prefixes of their own), by default the machine's
stores on 127.0.0.1:5432 and 127.0.0.1:6379. When nothing answers there, tests/conftest.py starts a
private PostgreSQL and Redis from the wheels of the `local` extra for the session and points both
settings at them. Read them through these functions, at call time: never copy them at import.
"""

from __future__ import annotations

import asyncio
import os

import asyncpg
import redis

ADMIN_DSN = "METERING_TEST_ADMIN_DSN"
REDIS_URL = "RATELIMITER_TEST_REDIS_URL"
DEFAULT_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def admin_dsn() -> str:
    return os.environ.get(ADMIN_DSN) or DEFAULT_ADMIN_DSN


def redis_url() -> str:
    return os.environ.get(REDIS_URL) or DEFAULT_REDIS_URL


def database_url(name: str) -> str:
    """The DSN of database `name` on the tests' PostgreSQL."""
    return f"{admin_dsn().rsplit('/', 1)[0]}/{name}"


def postgres_answers(dsn: str) -> bool:
    async def connect() -> None:
        conn = await asyncpg.connect(dsn, timeout=3)
        await conn.close()

    try:
        asyncio.run(connect())
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False
    return True


def redis_answers(url: str) -> bool:
    try:
        with redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False
