"""The sidecar's OpenTelemetry: decisions counted by domain and state; a span per decision RPC
with its Redis commands as children."""

from __future__ import annotations

import json
import subprocess
import sys


def _probe(*args: str) -> list[dict]:
    done = subprocess.run([sys.executable, "-m", "tests.ratelimiter.otel_probe", *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    result: list[dict] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_decisions_are_counted_by_state_in_opentelemetry() -> None:
    points = [p for p in _probe("metrics") if p["name"] == "ratelimiter.decisions"]
    counted = {p["attributes"]["state"]: p["value"] for p in points}
    assert counted == {"ok": 2, "warning": 1, "limited": 1}
    assert all(p["attributes"]["domain"] == "api" and not p["attributes"]["degraded"] for p in points)


def test_a_traced_check_has_its_redis_script_call_as_a_child_span(prefix: str) -> None:
    spans = _probe("traces", prefix)
    rpc = [s for s in spans if s["name"] == "/ratelimiter.v1.RateLimiter/Check"]
    assert len(rpc) == 1 and rpc[0]["kind"] == "SERVER"
    children = [s for s in spans if s["parent"] == rpc[0]["id"] and s["kind"] == "CLIENT"]
    assert any("EVALSHA" in (s["statement"] or s["name"]) for s in children), spans
