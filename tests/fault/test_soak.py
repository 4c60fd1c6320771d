"""The soak (`bench.soak`): a short run in CI with a relaxed growth rule, the ten-minute run with
`-m slow` (or `make soak`). It runs as its own process, as a person would run it."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


# A metering server that keeps 64 KiB per GetQuota call: the leak the soak exists to catch (large
# enough to stand out even when a loaded machine serves few calls in the short window).
LEAKING_SERVER = """
import sys
from services.metering.transport.grpc_servicer import MeteringServicer
kept = []
get_quota = MeteringServicer.GetQuota
async def leaking_get_quota(self, request, context):
    kept.append(b"x" * 65536)
    return await get_quota(self, request, context)
MeteringServicer.GetQuota = leaking_get_quota
from services.app.cli import main
sys.argv = ["metering", "serve"]
main()
"""


def run_soak(tmp_path: Path, *args: str, within: float, passes: bool = True) -> dict[str, Any]:
    report = tmp_path / "soak.json"
    proc = subprocess.Popen([sys.executable, "-m", "bench.soak", *args, "--json", str(report)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = proc.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)  # unwinds like Ctrl-C: every process it started is stopped
        output, _ = proc.communicate(timeout=120)
        pytest.fail(f"the soak did not finish within {within:.0f}s:\n{output[-6000:]}")
    print(output)  # the tables, shown with -s and on a failure
    assert proc.returncode == (0 if passes else 1), output[-8000:]
    result: dict[str, Any] = json.loads(report.read_text())
    return result


def assert_soak_passed(result: dict[str, Any], min_samples: int) -> None:
    assert result["passed"]
    assert len(result["samples"]) >= min_samples
    assert {g["process"] for g in result["growth"]} == {"metering", "sidecar"}
    assert all(c["passed"] for c in result["checks"]), result["checks"]
    assert all(t["calls"] > 0 and t["errors"] == 0 for t in result["totals"].values()), result["totals"]


def test_short_soak_keeps_rss_flat_and_every_call_answered(tmp_path: Path) -> None:
    # 30 s of traffic; a 10 s warm-up and a 32 MiB allowance over the remaining 20 s catch a gross
    # leak (kilobytes per call), not a slow one: that is the ten-minute run's job.
    result = run_soak(tmp_path, "--minutes", "0.5", "--sample-seconds", "2", "--warmup-seconds", "10",
                      "--max-growth-mb", "32", within=240)
    assert_soak_passed(result, min_samples=12)


def test_soak_fails_on_a_leaking_server(tmp_path: Path) -> None:
    """The detector itself: the same short run against a server that leaks must fail on RSS."""
    leaking = shlex.join([sys.executable, "-c", LEAKING_SERVER])
    result = run_soak(tmp_path, "--minutes", "0.3", "--sample-seconds", "2", "--warmup-seconds", "6",
                      "--max-growth-mb", "32", "--server-cmd", leaking, within=240, passes=False)
    verdicts = {g["process"]: g for g in result["growth"]}
    assert verdicts["metering"]["growth_mb"] > 32 and verdicts["sidecar"]["growth_mb"] < 32
    assert all(c["passed"] for c in result["checks"])  # it failed on the leak, nothing else


@pytest.mark.slow
@pytest.mark.timeout(25 * 60)
def test_ten_minute_soak_keeps_rss_flat(tmp_path: Path) -> None:
    result = run_soak(tmp_path, "--minutes", "10", within=20 * 60)
    assert_soak_passed(result, min_samples=100)
