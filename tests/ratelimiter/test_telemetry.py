"""Rate-limit decisions reach OpenTelemetry by domain and state."""

from __future__ import annotations

import json
import subprocess
import sys


def test_decisions_are_counted_by_state_in_opentelemetry() -> None:
    done = subprocess.run([sys.executable, "-m", "tests.ratelimiter.otel_probe"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    points = [p for p in json.loads(done.stdout) if p["name"] == "ratelimiter.decisions"]
    counted = {p["attributes"]["state"]: p["value"] for p in points}
    assert counted == {"ok": 2, "warning": 1, "limited": 1}
    assert all(p["attributes"]["domain"] == "api" and not p["attributes"]["degraded"] for p in points)
