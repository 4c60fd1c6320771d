"""Benchmarks append their dated results to a results file: the entry's date, machine, figures."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bench.metering_cpu import CpuUse
from bench.metering_load import LoadResult
from bench.metering_report import Check, Report
from bench.ratelimiter import Figure
from bench.ratelimiter_report import Figures
from bench.results import Entry, Machine, append

MACHINE = Machine(cores=2, load_before=0.41, load_after=1.93, system="Linux 6.1 x86_64, Python 3.11.2")


def an_entry(rows: list[tuple[str, ...]]) -> Entry:
    return Entry(datetime(2026, 11, 28, 7, 5, 59, tzinfo=UTC), MACHINE, "b539380", "5 s per phase",
                 ("figure", "ours", "ceiling"), rows, ["group size, deduct: 12.0 rows per transaction"])


def test_an_entry_states_its_date_machine_code_run_and_figures() -> None:
    text = an_entry([("Deduct [deductions/s]", "1,930", "raw: 2,470")]).markdown()

    assert text == (
        "## 2026-11-28 07:05 UTC, 2 cores, load 0.41 → 1.93\n"
        "\n"
        "- machine: 2 cores, Linux 6.1 x86_64, Python 3.11.2; 1-minute load average 0.41 before, "
        "1.93 at the end\n"
        "- code: b539380\n"
        "- run: 5 s per phase\n"
        "\n"
        "| figure | ours | ceiling |\n"
        "| --- | --- | --- |\n"
        "| Deduct [deductions/s] | 1,930 | raw: 2,470 |\n"
        "\n"
        "- group size, deduct: 12.0 rows per transaction\n"
    )


def test_a_pipe_inside_a_figure_does_not_split_its_cell() -> None:
    assert "| a \\| b | 1 | 2 |" in an_entry([("a | b", "1", "2")]).markdown()


def test_entries_are_appended_newest_last_under_one_title(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks" / "metering-results.md"

    append(an_entry([("first", "1", "2")]), path, "Metering benchmark results")
    append(an_entry([("second", "3", "4")]), path, "Metering benchmark results")

    text = path.read_text()
    assert text.startswith("# Metering benchmark results\n")
    assert text.count("# Metering benchmark results") == 1
    assert text.count("## 2026-11-28 07:05 UTC") == 2
    assert text.index("| first |") < text.index("| second |")


def test_the_metering_entry_carries_the_printed_figures_as_plain_text() -> None:
    report = Report(client_procs=1, batch_callers=2, batch=1000, code="b539380",
                    load_before=0.5, load_after=1.5)
    # CPU in cores: server, PostgreSQL, client, server queued; then the phase's wall seconds.
    report.deduct[32] = LoadResult(seconds=2.0, items=4000, all_items=5000,
                                   cpu=CpuUse(1.0, 0.4, 0.5, 0.1, wall=2.5))
    report.raw_update = LoadResult(seconds=2.0, items=5000, cpu=CpuUse(0.0, 0.9, 0.3, 0.0, wall=2.5))
    report.peak_rss_mb = 93.0
    report.checks.append(Check("exactness", True, "granted = balance drop = ledger"))

    entry = report.entry("2 s per phase")

    assert ("Deduct, one hot org (32 callers) [deductions/s]", "2,000",
            "raw 1 UPDATE per deduction (32 conns): 2,500", "80%", ">= 150%", "NO",
            "1.00+0.10q / 0.40 / 0.50 (0.00+0.00q / 0.90 / 0.30)") in entry.rows
    assert ("Server peak RSS (VmHWM) [MB]", "93", "-", "-", "< 150", "yes", "") in entry.rows
    assert (entry.machine.load_before, entry.machine.load_after) == (0.5, 1.5)
    assert "server CPU per call, Deduct (32 callers): 500 us" in entry.notes
    assert "exactness: PASS (granted = balance drop = ledger)" in entry.notes


def test_the_scale_out_figures_set_each_hot_org_rate_beside_echo_servers_as_many() -> None:
    report = Report(client_procs=1, batch_callers=2, batch=1000)
    cpu = CpuUse(1.0, 0.0, 0.5, 0.0, wall=6.0)
    # Calls over 5 measured seconds: echo 4,000/s on one server, 6,000/s on two.
    report.scale_out_echo[(1, 64)] = LoadResult(seconds=5.0, items=20_000, cpu=cpu)
    report.scale_out_echo[(2, 64)] = LoadResult(seconds=5.0, items=30_000, cpu=cpu)
    # Deductions: 2,000/s on one server, 1,500/s on two routed to the owner.
    report.scale_out[("1", 64)] = LoadResult(seconds=5.0, items=10_000, cpu=cpu)
    report.scale_out[("2 routed", 64)] = LoadResult(seconds=5.0, items=7_500, cpu=cpu)

    entry = report.entry("5 s per phase")

    assert ("Scaling of grpc echo, 2 servers vs 1 (64 callers)", "6,000", "1 echo server (64 callers): 4,000",
            "150%", "-", "-", f"{cpu} ({cpu})") in entry.rows
    assert ("Scaling of one hot org, 2 servers routed to owners vs 1 (64 callers)", "1,500",
            "the same with 1 server (64 callers): 2,000", "75%", ">= 100%", "NO",
            f"{cpu} ({cpu})") in entry.rows
    # 2,000 / 4,000 and 1,500 / 6,000.
    assert ("Deduct against grpc echo with as many servers, 1 server (64 callers): 50% "
            "(2,000 against 4,000 calls/s)") in entry.notes
    assert ("Deduct against grpc echo with as many servers, 2 servers routed to owners (64 callers): 25% "
            "(1,500 against 6,000 calls/s)") in entry.notes


def test_one_callers_calls_are_set_beside_echo_and_beside_their_floors() -> None:
    report = Report(client_procs=1, batch_callers=2, batch=1000)
    cpu = CpuUse(0.5, 0.2, 0.2, 0.0, wall=6.0)
    # p50 and p99 in seconds: 98 of a phase's 100 calls take its p50, the slowest two its p99.
    def timed(p50: float, p99: float) -> LoadResult:
        return LoadResult(seconds=5.0, items=100, latencies=[p50] * 98 + [p99] * 2, cpu=cpu)

    report.echo[1] = timed(0.0005, 0.0008)
    report.deduct[1] = timed(0.0015, 0.003)
    report.quota[1] = timed(0.0008, 0.0012)
    report.floors["Deduct"] = timed(0.0009, 0.0011)  # echo plus one UPDATE that commits
    report.floors["GetQuota"] = timed(0.00064, 0.0009)  # echo plus GetQuota's read

    entry = report.entry("5 s per phase")

    # 1.5 / 0.5, 1.5 / 0.9, 0.8 / 0.5 and 0.8 / 0.64.
    assert ("Deduct p50 / p99 (1 caller) [ms]", "1.50 / 3.00", "grpc echo (1): 0.50 / 0.80", "x3.0",
            "-", "-", f"{cpu} ({cpu})") in entry.rows
    assert ("Deduct p50 / p99 (1 caller) against its floor [ms]", "1.50 / 3.00",
            "grpc echo + one UPDATE that commits (1): 0.90 / 1.10", "x1.7", "-", "-",
            f"{cpu} ({cpu})") in entry.rows
    assert ("GetQuota p50 / p99 (1 caller) [ms]", "0.80 / 1.20", "grpc echo (1): 0.50 / 0.80", "x1.6",
            "-", "-", f"{cpu} ({cpu})") in entry.rows
    assert ("GetQuota p50 / p99 (1 caller) against its floor [ms]", "0.80 / 1.20",
            "grpc echo + GetQuota's read (1): 0.64 / 0.90", "x1.2", "-", "-", f"{cpu} ({cpu})") in entry.rows


def test_the_rate_limiter_entry_gives_each_ratio_and_whether_its_target_is_met() -> None:
    def f(rate: float, p99: float = 1.0) -> Figure:
        return Figure("", rate, 0.5, p99)

    figures = Figures(raw={"raw64": f(20_000), "raw_pipe": f(60_000)}, moving=f(15_000),
                      engine=f(45_000), engine_trips=0.05, echo={1: f(2_000, 0.9), 32: f(6_000, 9.7)},
                      served={"check1": f(1_000, 1.6), "check32": f(4_800, 10.4), "check128": f(4_500),
                              "rls1": f(850), "rls32": f(3_800)},
                      rls_trips={1: 1.0, 32: 0.13})

    rows = {row[0] + " / " + row[2]: row for row in figures.rows()}

    assert rows["decision engine in-process, 64 concurrent / `limits` moving window, 64: 15,000/s"][3:] == (
        "3.00x", ">= 2.00x", "yes")
    assert rows["Check over gRPC, 32 callers / grpc echo, 32 callers: 6,000/s"][3:] == (
        "0.80x", ">= 0.70x", "yes")
    assert rows["Check p99, 1 caller / echo 0.90 ms"][1:] == ("1.60 ms", "echo 0.90 ms", "", "< 1.5 ms", "NO")
    assert rows["ShouldRateLimit, 2 descriptors, 1 / 32 callers / "
                "Redis round trips per call: 1.000 / 0.130"][4:] == ("<= 1 round trip", "yes")
