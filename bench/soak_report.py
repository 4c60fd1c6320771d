"""The soak's samples over time, the leak verdict per process, and their rich tables.

The leak rule: after the warm-up, fit RSS(t) = a + b*t by least squares over the samples; the
fitted growth b * (length of that window) must stay under the limit. A fit, rather than last
minus first, is not fooled by one allocation spike at either end, and a steady leak of a few
hundred bytes per request shows as a clear slope over minutes.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.table import Table
from rich.text import Text

from bench.soak_traffic import OPERATIONS


@dataclass(frozen=True)
class Sample:
    t: float  # seconds since the traffic started
    rate: float  # calls per second over the interval, all operations
    p99_ms: dict[str, float]  # per operation, over the interval (NaN: no call ended in it)
    errors: int  # over the interval
    rss_mb: dict[str, float]  # per process


@dataclass(frozen=True)
class Growth:
    process: str
    warm_mb: float  # fitted RSS where the window starts
    final_mb: float
    peak_mb: float
    slope_mb_per_min: float
    growth_mb: float  # fitted growth over the window
    limit_mb: float
    samples: int

    @property
    def passed(self) -> bool:
        return self.samples >= 3 and self.growth_mb <= self.limit_mb


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass
class SoakResult:
    minutes: float
    warmup_s: float
    samples: list[Sample] = field(default_factory=list)
    growth: list[Growth] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    totals: dict[str, dict[str, float]] = field(default_factory=dict)  # op -> calls, errors, p50, p99

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.growth) and all(c.passed for c in self.checks)

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares line through (t, y): returns (intercept, slope)."""
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    slope = sum((t - mean_t) * (y - mean_y) for t, y in points) / spread if spread else 0.0
    return mean_y - slope * mean_t, slope


def growth(samples: list[Sample], process: str, warmup_s: float, limit_mb: float) -> Growth:
    points = [(s.t, s.rss_mb[process]) for s in samples
              if s.t >= warmup_s and not math.isnan(s.rss_mb[process])]
    every = [s.rss_mb[process] for s in samples if not math.isnan(s.rss_mb[process])]
    if len(points) < 2:
        return Growth(process, math.nan, math.nan, max(every, default=math.nan), math.nan, math.nan,
                      limit_mb, len(points))
    intercept, slope = fit(points)
    start, end = points[0][0], points[-1][0]
    return Growth(process, intercept + slope * start, points[-1][1], max(every), slope * 60,
                  slope * (end - start), limit_mb, len(points))


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def _verdict(passed: bool) -> Text:
    return Text("PASS", style="green") if passed else Text("FAIL", style="bold red")


def over_time_table(result: SoakResult, processes: list[str], rows: int) -> Table:
    """At most `rows` rows: consecutive samples are merged (mean rate, worst p99, last RSS)."""
    table = Table(title=f"soak: throughput, p99 latency (ms) and RSS (MiB) over {result.minutes:g} min")
    for name in ("t (s)", "calls/s", *(f"p99 {op}" for op in OPERATIONS), "errors",
                 *(f"RSS {p}" for p in processes)):
        table.add_column(name, justify="right")
    per_row = max(1, math.ceil(len(result.samples) / rows))
    for i in range(0, len(result.samples), per_row):
        group = result.samples[i:i + per_row]
        last = group[-1]
        worst = {op: max((s.p99_ms[op] for s in group if not math.isnan(s.p99_ms[op])), default=math.nan)
                 for op in OPERATIONS}
        marker = "" if last.t >= result.warmup_s else " w"  # w: still warming up
        table.add_row(f"{last.t:.0f}{marker}", f"{sum(s.rate for s in group) / len(group):,.0f}",
                      *(_ms(worst[op]) for op in OPERATIONS), str(sum(s.errors for s in group)),
                      *(f"{last.rss_mb[p]:.1f}" for p in processes))
    return table


def verdict_table(result: SoakResult) -> Table:
    table = Table(title=f"soak: RSS growth after a {result.warmup_s:.0f} s warm-up (least-squares fit)")
    for name in ("process", "RSS warm", "RSS final", "RSS peak", "slope MiB/min", "fitted growth",
                 "limit", "verdict"):
        table.add_column(name, justify="left" if name == "process" else "right")
    for g in result.growth:
        table.add_row(g.process, f"{g.warm_mb:.1f}", f"{g.final_mb:.1f}", f"{g.peak_mb:.1f}",
                      f"{g.slope_mb_per_min:+.3f}", f"{g.growth_mb:+.1f} MiB", f"{g.limit_mb:.0f} MiB",
                      _verdict(g.passed))
    return table


def checks_table(result: SoakResult) -> Table:
    table = Table(title="soak: checks at the end")
    for name in ("check", "detail", "verdict"):
        table.add_column(name, justify="right" if name == "verdict" else "left")
    for check in result.checks:
        table.add_row(check.name, check.detail, _verdict(check.passed))
    return table


def totals_table(result: SoakResult) -> Table:
    table = Table(title="soak: every call of the run")
    for name in ("operation", "calls", "errors", "p50 ms", "p99 ms"):
        table.add_column(name, justify="left" if name == "operation" else "right")
    for op, t in result.totals.items():
        table.add_row(op, f"{t['calls']:,.0f}", f"{t['errors']:,.0f}", _ms(t["p50_ms"]), _ms(t["p99_ms"]))
    return table
