"""Which replica owns an organization's credit operations: the rendezvous (highest random weight)
hash of the organization over the live replicas.

Every replica that sees the same live replicas names the same owner, and when a replica joins or
leaves only the organizations it wins or held move. Ownership groups calls into one batch; it
decides nothing about balances, so replicas that briefly disagree stay correct."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def _weight(org_id: str, replica: str) -> bytes:
    return hashlib.blake2b(f"{org_id}\x00{replica}".encode(), digest_size=8).digest()


def owner_of(org_id: str, replicas: Iterable[str]) -> str | None:
    """The replica (its address) that owns `org_id`; None when there is none."""
    return max(replicas, key=lambda replica: _weight(org_id, replica), default=None)
