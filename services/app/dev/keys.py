"""API keys for the demo organizations, kept in the data folder so that `metering call` can use them.

A key's secret is shown only once when it is created, so `metering dev` writes the tokens to
`api-keys.json` in the data folder (readable by its owner only) and reuses them while the database
still knows them. The tokens are never printed or logged.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import asyncpg

from services.kit.caller import Role
from services.metering.domain.access import split_token
from services.metering.store.api_keys import create_api_key

PLATFORM_ADMIN = "platform_admin"
"""The entry of the file that holds the platform admin's key. An organization id's entry holds its
service key; `<org id>:<role>` entries the people's keys (PEOPLE_ROLES) of the first demo org."""
PEOPLE_ROLES = (Role.TENANT_ADMIN, Role.BILLING_CONTACT)

SELECT_LIVE_KEY = "SELECT 1 FROM api_keys WHERE key_id = $1 AND revoked_at IS NULL"


async def ensure_demo_keys(dsn: str, org_ids: list[str], path: Path) -> None:
    """A service key per demo organization, a tenant admin and a billing contact key of the first
    one, and one platform admin key, each created when missing."""
    tokens = read_keys(path)
    people = [person_entry(org_ids[0], role) for role in PEOPLE_ROLES] if org_ids else []
    conn = await asyncpg.connect(dsn)
    try:
        for entry in [PLATFORM_ADMIN, *org_ids, *people]:
            if not await _live(conn, tokens.get(entry)):
                tokens[entry] = await _create(conn, entry)
    finally:
        await conn.close()
    _write_private(path, json.dumps(tokens, indent=2) + "\n")


def read_keys(path: Path) -> dict[str, str]:
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in loaded.items() if isinstance(v, str)} if isinstance(loaded, dict) else {}


def dev_platform_key() -> str | None:
    """The platform admin key of the `metering dev` data folder in use, if there is one (and never
    in an image without the local development tools)."""
    try:
        from devstack.home import DevHome
    except ImportError:
        return None
    return read_keys(DevHome.choose(None).api_keys).get(PLATFORM_ADMIN)


def person_entry(org_id: str, role: Role) -> str:
    return f"{org_id}:{role.value}"


def token_for(keys: Mapping[str, str], org_id: str) -> str | None:
    """The organization's own service key, else the platform admin's."""
    return keys.get(org_id) or keys.get(PLATFORM_ADMIN)


async def _live(conn: asyncpg.Connection, token: str | None) -> bool:
    parts = split_token(token) if token else None
    return parts is not None and await conn.fetchval(SELECT_LIVE_KEY, parts[0]) is not None


async def _create(conn: asyncpg.Connection, entry: str) -> str:
    if entry == PLATFORM_ADMIN:
        _, token = await create_api_key(conn, None, Role.PLATFORM_ADMIN, "metering dev: platform admin")
    elif ":" in entry:
        org_id, role = entry.split(":", 1)
        name = f"metering dev: demo {role.replace('_', ' ')}"
        _, token = await create_api_key(conn, org_id, Role(role), name)
    else:
        _, token = await create_api_key(conn, entry, Role.SERVICE, "metering dev: demo service")
    return token


def _write_private(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    temporary.replace(path)
