"""Faults the test server injects: 429 with Retry-After, 500, 503, a timeout after the request was
applied, and connections dropped before or after applying it."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

KINDS = ("429", "500", "503", "timeout", "drop_before", "drop_after")


@dataclass
class FaultPlan:
    rates: dict[str, float] = field(default_factory=dict)
    """Probability of each kind per request on a faulty path (they add up to at most 1)."""
    paths: tuple[str, ...] = ("/v1/billing/meter_events",)
    retry_after: int = 1
    """Seconds in the Retry-After header of a 429."""
    hang_seconds: float = 30.0
    """How long a `timeout` fault holds the response (longer than the client waits)."""
    seed: int = 0
    injected: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        unknown = set(self.rates) - set(KINDS)
        if unknown or sum(self.rates.values()) > 1:
            raise ValueError(f"fault rates must be of {KINDS} and add up to at most 1")
        self._rand = random.Random(self.seed)

    def draw(self, path: str) -> str | None:
        if not any(path.startswith(p) for p in self.paths):
            return None
        roll, edge = self._rand.random(), 0.0
        for kind in KINDS:
            edge += self.rates.get(kind, 0.0)
            if roll < edge:
                self.injected[kind] += 1
                return kind
        return None
