"""API keys: created with their secret shown once, looked up by key id, revocable."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from services.kit.caller import Principal, Role
from services.kit.database import DATABASE_UNREACHABLE
from services.metering.domain.access import new_key, secret_matches, split_token

INSERT_API_KEY = """
INSERT INTO api_keys (key_id, prefix, org_id, role, name, secret_hash)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING key_id, prefix, org_id, role, name, created_at, revoked_at"""

SELECT_KEY_FOR_AUTH = "SELECT role, org_id, secret_hash, revoked_at FROM api_keys WHERE key_id = $1"

SELECT_TENANT_KEYS = """
SELECT key_id, prefix, org_id, role, name, created_at, revoked_at FROM api_keys
WHERE org_id = $1 ORDER BY created_at, key_id"""

SELECT_PLATFORM_KEYS = """
SELECT key_id, prefix, org_id, role, name, created_at, revoked_at FROM api_keys
WHERE org_id IS NULL ORDER BY created_at, key_id"""

REVOKE_KEY = """
UPDATE api_keys SET revoked_at = coalesce(revoked_at, $3)
WHERE key_id = $1 AND org_id IS NOT DISTINCT FROM $2
RETURNING key_id, prefix, org_id, role, name, created_at, revoked_at"""


@dataclass(frozen=True)
class ApiKeyRecord:
    key_id: str
    prefix: str
    org_id: str | None
    role: Role
    name: str
    created_at: datetime
    revoked_at: datetime | None


def _record(row: asyncpg.Record) -> ApiKeyRecord:
    return ApiKeyRecord(row["key_id"], row["prefix"], row["org_id"], Role(row["role"]), row["name"],
                        row["created_at"], row["revoked_at"])


async def create_api_key(conn: asyncpg.Connection, org_id: str | None, role: Role,
                         name: str) -> tuple[ApiKeyRecord, str]:
    """Stores a new key; returns it with the whole token, which is never readable again."""
    key = new_key()
    row = await conn.fetchrow(INSERT_API_KEY, key.key_id, key.prefix, org_id, role.value, name,
                              key.secret_hash)
    return _record(row), key.token


async def list_api_keys(conn: asyncpg.Connection, org_id: str | None) -> list[ApiKeyRecord]:
    rows = await (conn.fetch(SELECT_TENANT_KEYS, org_id) if org_id else conn.fetch(SELECT_PLATFORM_KEYS))
    return [_record(r) for r in rows]


async def revoke_api_key(conn: asyncpg.Connection, org_id: str | None, key_id: str) -> ApiKeyRecord | None:
    """The revoked key; None when the organization (or the platform) has no such key."""
    row = await conn.fetchrow(REVOKE_KEY, key_id, org_id, datetime.now(UTC))
    return None if row is None else _record(row)


STALE_SECONDS = 300.0


class KeyRing:
    """Resolves bearer tokens to principals, caching lookups briefly.

    A revocation reaches every replica within `ttl_seconds` (and this replica at once).
    """

    def __init__(self, pool: asyncpg.Pool, ttl_seconds: float = 5.0) -> None:
        self._pool = pool
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, asyncpg.Record | None]] = {}
        # Verified tokens, so the hot path hashes a secret once per TTL, not once per call.
        self._verified: dict[str, tuple[float, Principal | None]] = {}

    async def principal(self, token: str) -> Principal | None:
        seen = self._verified.get(token)
        if seen is not None and time.monotonic() - seen[0] < self._ttl:
            return seen[1]
        try:
            principal = await self._verify(token)
        except DATABASE_UNREACHABLE:
            # A key verified shortly before an outage keeps working through it: no revocation can
            # be recorded meanwhile anyway.
            if seen is not None and seen[1] is not None and time.monotonic() - seen[0] < STALE_SECONDS:
                return seen[1]
            raise
        if len(self._verified) > 10_000:
            self._verified.clear()
        self._verified[token] = (time.monotonic(), principal)
        return principal

    async def _verify(self, token: str) -> Principal | None:
        parts = split_token(token)
        if parts is None:
            return None
        key_id, secret = parts
        row = await self._lookup(key_id)
        if row is None or row["revoked_at"] is not None or not secret_matches(secret, row["secret_hash"]):
            return None
        return Principal(key_id, Role(row["role"]), row["org_id"])

    def forget(self, key_id: str) -> None:
        self._cache.pop(key_id, None)
        for token in [t for t in self._verified if (split_token(t) or ("",))[0] == key_id]:
            del self._verified[token]

    async def _lookup(self, key_id: str) -> asyncpg.Record | None:
        cached = self._cache.get(key_id)
        if cached is not None and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        row = await self._pool.fetchrow(SELECT_KEY_FOR_AUTH, key_id)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key_id] = (time.monotonic(), row)
        return row
