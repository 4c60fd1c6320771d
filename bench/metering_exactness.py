"""Whether a benchmark phase was exact: what its clients were granted, against the drop of the
organizations' balances and the credits the database recorded as taken meanwhile, with no call
failing. Checked phase by phase, so that two phases whose errors cancel out still fail."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bench.metering_load import LoadResult
from bench.metering_report import Check


@dataclass(frozen=True)
class Books:
    """What the organizations hold together, and what the database recorded as taken from them."""

    available: Decimal
    taken: Decimal
    deductions: int  # granted deductions stored


@dataclass(frozen=True)
class PhaseExactness:
    """One phase's figures, between the books before and after it."""

    label: str
    granted: Decimal
    drop: Decimal
    taken: Decimal
    deductions: int
    errors: int
    taken_by: str = "ledger"  # what recorded `taken`: the ledger's `deduct` entries, or stored deductions

    @classmethod
    def of(cls, label: str, before: Books, after: Books, result: LoadResult,
           taken_by: str = "ledger") -> PhaseExactness:
        return cls(label, result.granted, before.available - after.available, after.taken - before.taken,
                   after.deductions - before.deductions, result.errors, taken_by)

    @property
    def passed(self) -> bool:
        return self.errors == 0 and self.drop == self.granted == self.taken

    @property
    def detail(self) -> str:
        return (f"granted to clients {self.granted:,}, balance drop {self.drop:,}, "
                f"{self.taken_by} {self.taken:,} in {self.deductions:,} deductions, {self.errors} errors")


def every_phase(name: str, phases: list[PhaseExactness]) -> Check:
    """The phases of a group checked one by one, reported together."""
    failed = [p for p in phases if not p.passed]
    if failed:
        return Check(name, False, "; ".join(f"{p.label}: {p.detail}" for p in failed))
    total = PhaseExactness("all", sum((p.granted for p in phases), Decimal(0)),
                           sum((p.drop for p in phases), Decimal(0)),
                           sum((p.taken for p in phases), Decimal(0)), sum(p.deductions for p in phases), 0,
                           phases[0].taken_by if phases else "ledger")
    return Check(name, True, f"each of {len(phases)} phases: {total.detail} in all")
