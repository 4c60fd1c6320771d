"""API keys: how a key is made, stored as a hash and recognised when presented."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

KEY_PREFIX = "mk"
_KEY_ID_BYTES = 6  # 12 hex characters: the part of the key that identifies it
_SECRET_BYTES = 32


@dataclass(frozen=True)
class NewKey:
    key_id: str
    prefix: str
    secret_hash: str
    token: str  # the whole key, shown once


def new_key() -> NewKey:
    key_id = secrets.token_hex(_KEY_ID_BYTES)
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    prefix = f"{KEY_PREFIX}_{key_id}"
    return NewKey(key_id, prefix, hash_secret(secret), f"{prefix}_{secret}")


def hash_secret(secret: str) -> str:
    # The secret has 256 bits of entropy, so a plain SHA-256 cannot be brute-forced.
    return hashlib.sha256(secret.encode()).hexdigest()


def split_token(token: str) -> tuple[str, str] | None:
    """(key_id, secret) of a well-formed key, else None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != _KEY_ID_BYTES * 2 or not parts[2]:
        return None
    return parts[1], parts[2]


def secret_matches(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), secret_hash)
