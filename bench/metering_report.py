"""The metering benchmark's figures, their ceilings and targets, as a rich table."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from rich.table import Table
from rich.text import Text

from bench.metering_load import LoadResult, percentile
from bench.results import Entry, Machine, now

RSS_TARGET_MB = 150.0
# One caller's floors (bench.grpc_floor), by the call each is under: its load kind, what it stands for.
FLOORS = {"GetQuota": ("floor_read", "GetQuota's read"), "Deduct": ("floor_write", "one UPDATE that commits")}
COLUMNS = ("figure", "service", "ceiling", "ratio", "target", "met", "CPU srv/pg/cli (cores)")


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass
class Report:
    client_procs: int
    batch_callers: int
    batch: int
    code: str = ""
    raw_insert: LoadResult | None = None
    raw_update: LoadResult | None = None
    echo: dict[int, LoadResult] = field(default_factory=dict)
    usage_batch: LoadResult | None = None
    usage_one: LoadResult | None = None
    deduct: dict[int, LoadResult] = field(default_factory=dict)
    quota: dict[int, LoadResult] = field(default_factory=dict)
    floors: dict[str, LoadResult] = field(default_factory=dict)  # by the call each is under, 1 caller
    # (servers, callers): "1", "2" (each applying what it receives), "2 routed" (to owners),
    # "2 apart" (each on an organization of its own: the bound)
    scale_out: dict[tuple[str, int], LoadResult] = field(default_factory=dict)
    # (echo servers K, callers): the transport's own scaling, one client process per server
    scale_out_echo: dict[tuple[int, int], LoadResult] = field(default_factory=dict)
    per_commit: dict[str, float] = field(default_factory=dict)  # rows written per transaction
    peak_rss_mb: float | None = None
    checks: list[Check] = field(default_factory=list)
    load_before: float = 0.0  # 1-minute load average: other work on the machine skews every figure
    load_after: float = 0.0
    rows: list[tuple[str | Text, ...]] = field(default_factory=list)

    def table(self) -> Table:
        self.rows = []
        self._throughput_rows()
        self._latency_rows()
        self._other_rows()
        table = Table(title="metering benchmark (service vs. ceiling measured in the same run)")
        for name in COLUMNS:
            table.add_column(name, justify="left" if name in ("figure", "ceiling") else "right")
        for row in self.rows:
            table.add_row(*row)
        return table

    def notes(self) -> str:
        lines = [
            f"code: {self.code}",
            f"client: {self.client_procs} process(es), grpc.aio, one channel per process, N concurrent "
            "coroutines in a closed loop; raw baselines: asyncpg from the orchestrating process.",
            "latency rows: ratio = service p50 / echo p50 at the same concurrency (lower is better); "
            "against its floor: / the p50 of an echo call plus the call's one database step alone.",
            "CPU: cores used on average during the phase by the server under test (metering or echo), "
            "this database's PostgreSQL backends, and the client(s) (ceiling's CPU in brackets); "
            "+Nq: the server's event-loop thread runnable but waiting for a CPU.",
            f"machine: {os.cpu_count()} CPUs, 1-min load average {self.load_before:.2f} before, "
            f"{self.load_after:.2f} at the end (includes this benchmark).",
        ]
        return "\n".join(lines + self._measured())

    def entry(self, run: str) -> Entry:
        """The dated results entry of this run (figures as in `table()`, measured notes)."""
        self.table()
        rows = [tuple(cell.plain if isinstance(cell, Text) else cell for cell in row) for row in self.rows]
        return Entry(now(), Machine.measure(self.load_before, self.load_after), self.code, run, COLUMNS,
                     rows, self._measured())

    def _measured(self) -> list[str]:
        lines = [f"group size, {name}: {rows:.1f} rows per transaction"
                  for name, rows in self.per_commit.items()]
        lines += [f"server CPU per call, {name}: {r.server_us_per_item:,.0f} us"
                  for name, r in self._served()]
        lines += self._budgets()
        lines += self._against_echo()
        lines += [f"{c.name}: {'PASS' if c.passed else 'FAIL'} ({c.detail})" for c in self.checks]
        return lines

    def _budgets(self) -> list[str]:
        """Whether a throughput target fits this machine at all: the CPU per call it leaves to
        client, server and PostgreSQL together, beside what a bare echo call and the service took."""
        echo = self.echo.get(32)
        targets = [("RecordUsage single (32 callers)", self.usage_one, echo, 0.6),
                   ("Deduct (32 callers)", self.deduct.get(32), self.raw_update, 1.5)]
        lines = []
        for name, service, ceiling, ratio in targets:
            if service is None or ceiling is None or echo is None:
                continue
            rate = ratio * ceiling.rate
            allowed = (os.cpu_count() or 1) / rate * 1e6
            lines.append(f"CPU budget, {name}: the target {rate:,.0f}/s leaves {allowed:,.0f} us per call "
                         "for client + server + PostgreSQL; a bare echo call took "
                         f"{_all_cpu_us(echo):,.0f} us, this phase {_all_cpu_us(service):,.0f} us")
        return lines

    def _against_echo(self) -> list[str]:
        """Each hot-organization rate against the echo servers at the same K and callers."""
        lines = []
        for (servers, callers), result in self.scale_out.items():
            echo = self.scale_out_echo.get((ECHO_SERVERS[servers], callers))
            if echo is not None:
                lines.append(f"Deduct against grpc echo with as many servers, {SERVERS[servers]} ({callers} "
                             f"callers): {result.rate / echo.rate:.0%} ({result.rate:,.0f} against "
                             f"{echo.rate:,.0f} calls/s)")
        return lines

    def _served(self) -> list[tuple[str, LoadResult]]:
        named = [("grpc echo (32 callers)", self.echo.get(32)),
                 ("RecordUsage batch, per event", self.usage_batch),
                 ("RecordUsage single (32 callers)", self.usage_one)]
        named += [(f"Deduct ({n} callers)", r) for n, r in self.deduct.items()]
        named += [(f"GetQuota ({n} callers)", r) for n, r in self.quota.items()]
        return [(name, r) for name, r in named if r is not None]

    def _throughput_rows(self) -> None:
        if self.usage_batch:
            self._ratio_row(f"RecordUsage, batches of {self.batch:,}, idempotent ({self.batch_callers} "
                            "callers) [events/s]", self.usage_batch, self.raw_insert,
                            f"raw asyncpg batched insert ({self.batch_callers} conns)", 0.6)
        if self.usage_one:
            self._ratio_row("RecordUsage, 1 event per call (32 callers) [calls/s]", self.usage_one,
                            self.echo.get(32), "grpc echo (32 callers)", 0.6)
        for callers in (32, 64):
            if callers in self.deduct:
                self._ratio_row(f"Deduct, one hot org ({callers} callers) [deductions/s]",
                                self.deduct[callers], self.raw_update,
                                "raw 1 UPDATE per deduction (32 conns)", 1.5)
        self._scale_out_rows()

    def _scale_out_rows(self) -> None:
        for (servers, callers), result in self.scale_out.items():
            if servers == APART:
                continue  # a bound, not the organization's rate
            self._ratio_row(f"Deduct, one hot org, {SERVERS[servers]} ({callers} callers) "
                            "[deductions/s]", result, self.raw_update,
                            "raw 1 UPDATE per deduction (32 conns)", 1.2)
        for callers in (32, 64):
            self._echo_scaling_row(callers)
            one = self.scale_out.get(("1", callers))
            for servers in ("2", "2 routed"):
                two = self.scale_out.get((servers, callers))
                if one is not None and two is not None:
                    self._ratio_row(f"Scaling of one hot org, {SERVERS[servers]} vs 1 ({callers} callers)",
                                    two, one, f"the same with 1 server ({callers} callers)", 1.0)
            apart = self.scale_out.get((APART, callers))
            if one is not None and apart is not None:
                self.rows.append((f"Bound: {SERVERS[APART]} vs 1 ({callers} callers)", f"{apart.rate:,.0f}",
                                  f"1 server, one org ({callers} callers): {one.rate:,.0f}",
                                  f"{apart.rate / one.rate:.0%}", "-", Text("-"), _cpu(apart, one)))
        grouped = self.per_commit.get(GROUPED_SCALE_OUT)
        if grouped is not None:
            self.rows.append((f"Deductions per transaction, {GROUPED_SCALE_OUT}", f"{grouped:.1f}", "-", "-",
                              f">= {GROUP_TARGET}", _met(grouped >= GROUP_TARGET), ""))

    def _echo_scaling_row(self, callers: int) -> None:
        """What two servers that do nothing but answer do against one: the machine's own bound."""
        one, two = self.scale_out_echo.get((1, callers)), self.scale_out_echo.get((2, callers))
        if one is not None and two is not None:
            self.rows.append((f"Scaling of grpc echo, 2 servers vs 1 ({callers} callers)", f"{two.rate:,.0f}",
                              f"1 echo server ({callers} callers): {one.rate:,.0f}",
                              f"{two.rate / one.rate:.0%}", "-", Text("-"), _cpu(two, one)))

    def _ratio_row(self, name: str, service: LoadResult, ceiling: LoadResult | None, label: str,
                   target: float) -> None:
        if ceiling is None:  # its phase was not run
            self.rows.append((name, f"{service.rate:,.0f}", "-", "-", f">= {target:.0%}", Text("?"),
                              _cpu(service, None)))
            return
        ratio = service.rate / ceiling.rate
        self.rows.append((name, f"{service.rate:,.0f}", f"{label}: {ceiling.rate:,.0f}", f"{ratio:.0%}",
                          f">= {target:.0%}", _met(ratio >= target), _cpu(service, ceiling)))

    def _latency_rows(self) -> None:
        for rpc, results in (("Deduct", self.deduct), ("GetQuota", self.quota)):
            for callers in (1, 32):
                if callers not in results:
                    continue
                self._latency_row(f"{rpc} p50 / p99 ({callers} caller{'s' * (callers > 1)}) [ms]",
                                  results[callers], self.echo.get(callers), f"grpc echo ({callers})")
                floor = self.floors.get(rpc) if callers == 1 else None
                if floor is not None:
                    self._latency_row(f"{rpc} p50 / p99 (1 caller) against its floor [ms]", results[1], floor,
                                      f"grpc echo + {FLOORS[rpc][1]} (1)")

    def _latency_row(self, name: str, service: LoadResult, ceiling: LoadResult | None, label: str) -> None:
        p50, p99 = percentile(service.latencies, 50), percentile(service.latencies, 99)
        shown, ratio = "-", "-"
        if ceiling is not None:
            c50, c99 = percentile(ceiling.latencies, 50), percentile(ceiling.latencies, 99)
            shown, ratio = f"{label}: {c50 * 1e3:.2f} / {c99 * 1e3:.2f}", f"x{p50 / c50:.1f}"
        self.rows.append((name, f"{p50 * 1e3:.2f} / {p99 * 1e3:.2f}", shown, ratio, "-", Text("-"),
                          _cpu(service, ceiling)))

    def _other_rows(self) -> None:
        if self.peak_rss_mb is not None:
            self.rows.append(("Server peak RSS (VmHWM) [MB]", f"{self.peak_rss_mb:.0f}", "-", "-",
                              f"< {RSS_TARGET_MB:.0f}", _met(self.peak_rss_mb < RSS_TARGET_MB), ""))
        for check in self.checks:
            self.rows.append((check.name, "PASS" if check.passed else "FAIL", "-", "-",
                              "exact, no overdraft", _met(check.passed), ""))


# The scale-out phase's bound: two servers, each deducting from an organization of its own, so that
# the balance row costs them nothing. It is what two servers can do for one organization when they
# share no row on its hot path, as with a slice of the balance held by each replica (escrow).
APART = "2 apart"
SERVERS = {"1": "1 server", "2": "2 servers each alone", "2 routed": "2 servers routed to owners",
           APART: "2 servers, an org each"}
# How many echo servers each kind of scale-out phase is set beside.
ECHO_SERVERS = {"1": 1, "2": 2, "2 routed": 2, APART: 2}
GROUPED_SCALE_OUT = "Deduct K=2 routed (64 callers)"
GROUP_TARGET = 50


def _cpu(service: LoadResult, ceiling: LoadResult | None) -> str:
    return f"{service.cpu}" + (f" ({ceiling.cpu})" if ceiling else "")


def _all_cpu_us(result: LoadResult) -> float:
    """CPU of every process in the phase (server, PostgreSQL, clients) per call, in microseconds."""
    if result.cpu is None or not result.all_items:
        return float("nan")
    cores = result.cpu.server + result.cpu.postgres + result.cpu.client
    return cores * result.cpu.wall / result.all_items * 1e6


def _met(ok: bool) -> Text:
    return Text("yes", style="green") if ok else Text("NO", style="bold red")
