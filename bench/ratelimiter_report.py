"""The rate-limiter benchmark's figures beside their ceilings and targets, as a dated results entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.results import Entry, Machine, code_version, now

if TYPE_CHECKING:
    from bench.ratelimiter import Figure

TITLE = "Rate-limiter benchmark results"
COLUMNS = ("figure", "ours", "ceiling (same run)", "ratio", "target", "met")


@dataclass(frozen=True)
class Figures:
    raw: dict[str, Figure]  # raw EVALSHA: raw1, raw16, raw64, raw_pipe
    moving: Figure  # the `limits` library's moving window, 64 concurrent
    engine: Figure  # the decision engine in-process, 64 concurrent
    engine_trips: float  # Redis round trips per decision of the engine
    echo: dict[int, Figure]  # grpc echo by callers (1, 32)
    served: dict[str, Figure]  # check1, check32, check128, rls1, rls32
    rls_trips: dict[int, float]  # Redis round trips per ShouldRateLimit by callers (1, 32)

    def entry(self, load_before: float, run: str) -> Entry:
        return Entry(now(), Machine.measure(load_before), code_version(), run, COLUMNS, self.rows(),
                     [f"Redis round trips per decision, engine at 64 concurrent: {self.engine_trips:.3f}"])

    def rows(self) -> list[tuple[str, ...]]:
        engine, check1, check32 = self.engine, self.served["check1"], self.served["check32"]
        echo1, echo32 = self.echo[1], self.echo[32]
        rls1, rls32 = self.served["rls1"], self.served["rls32"]
        return [
            _ratio("decision engine in-process, 64 concurrent", engine, "`limits` moving window, 64",
                   self.moving, 2.0),
            _ratio("same", engine, "raw EVALSHA from redis-py, 64", self.raw["raw64"]),
            _ratio("same", engine, "raw EVALSHA, pipelined batches of 16", self.raw["raw_pipe"]),
            _ratio("Check over gRPC, 32 callers", check32, "grpc echo, 32 callers", echo32, 0.7),
            ("Check p99, 32 callers", f"{check32.p99_ms:.2f} ms", f"echo {echo32.p99_ms:.2f} ms", "",
             "< 12 ms", _met(check32.p99_ms < 12)),
            _ratio("Check over gRPC, 1 caller", check1, "grpc echo, 1 caller", echo1),
            ("Check p99, 1 caller", f"{check1.p99_ms:.2f} ms", f"echo {echo1.p99_ms:.2f} ms", "",
             "< 1.5 ms", _met(check1.p99_ms < 1.5)),
            ("Check over gRPC, 128 callers", _rate(self.served["check128"]), "", "", "", ""),
            ("ShouldRateLimit, 2 descriptors, 1 / 32 callers",
             f"{rls1.ops_per_s:,.0f}/s / {rls32.ops_per_s:,.0f}/s",
             f"Redis round trips per call: {self.rls_trips[1]:.3f} / {self.rls_trips[32]:.3f}", "",
             "<= 1 round trip", _met(max(self.rls_trips.values()) <= 1)),
        ]


def _ratio(name: str, ours: Figure, label: str, ceiling: Figure,
           target: float | None = None) -> tuple[str, ...]:
    ratio = ours.ops_per_s / ceiling.ops_per_s
    return (name, _rate(ours), f"{label}: {ceiling.ops_per_s:,.0f}/s", f"{ratio:.2f}x",
            "" if target is None else f">= {target:.2f}x", "" if target is None else _met(ratio >= target))


def _rate(figure: Figure) -> str:
    return f"{figure.ops_per_s:,.0f}/s (p50 {figure.p50_ms:.2f} ms, p99 {figure.p99_ms:.2f} ms)"


def _met(ok: bool) -> str:
    return "yes" if ok else "NO"
