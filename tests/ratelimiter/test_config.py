"""Limits from YAML: Envoy's reference format, our extensions, and errors with file:line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ratelimiter.config import FailureMode, Limit, load_limits
from ratelimiter.settings import load_settings
from services.kit.config import ConfigError
from tests.ratelimiter.harness import REPO

ENVOY_STYLE = """\
domain: mongo_cps
descriptors:
  - key: database
    value: users
    rate_limit:
      unit: second
      requests_per_unit: 500
  - key: database
    value: default
    rate_limit:
      unit: second
      requests_per_unit: 500
  - key: remote_address
    rate_limit:
      name: per_ip
      unit: minute
      requests_per_unit: 10
  - key: remote_address
    value: 10.0.0.1
    rate_limit:
      unlimited: true
  - key: path
    value: /upload*
    shadow_mode: true
    rate_limit: {unit: hour, requests_per_unit: 5}
  - key: client_id
    descriptors:
      - key: path
        value: /foo
        rate_limit:
          unit: day
          requests_per_unit: 7
          replaces:
            - name: per_ip
"""


def write(tmp_path: Path, text: str, name: str = "limits.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_builtin_defaults_are_100_per_minute_for_api_and_30_for_webhook_per_ip():
    limits = load_limits(None)
    api, webhook = limits.domains["api"], limits.domains["webhook"]
    per_ip = (("remote_address", "203.0.113.9"),)
    assert api.rule_for(per_ip).limits == (Limit(100, 60_000, 100, name="api_per_ip"),)
    assert webhook.rule_for(per_ip).limits == (Limit(30, 60_000, 30, name="webhook_per_ip"),)
    nested = (("generic_key", "webhook"), ("remote_address", "203.0.113.9"))
    assert api.rule_for(nested).limits[0].requests == 30
    assert api.failure_mode is FailureMode.FAIL_OPEN


def test_envoy_reference_format_matches_exact_wildcard_and_any_value(tmp_path: Path):
    domain = load_limits(write(tmp_path, ENVOY_STYLE)).domains["mongo_cps"]
    assert domain.rule_for((("database", "users"),)).limits[0] == Limit(500, 1000, 500)
    assert domain.rule_for((("database", "other"),)) is None
    assert domain.rule_for((("remote_address", "10.0.0.9"),)).limits[0].name == "per_ip"
    assert domain.rule_for((("remote_address", "10.0.0.1"),)).unlimited  # exact beats any value
    upload = domain.rule_for((("path", "/upload/big"),))
    assert upload.shadow_mode and upload.limits[0].window_ms == 3_600_000
    assert domain.rule_for((("path", "/download"),)) is None
    nested = domain.rule_for((("client_id", "c1"), ("path", "/foo")))
    assert nested.limits[0].replaces == ("per_ip",) and nested.limits[0].window_ms == 86_400_000
    # only a full match counts: a prefix of the descriptor has no limit of its own
    assert domain.rule_for((("client_id", "c1"),)) is None


def test_extensions_any_window_several_limits_and_burst(tmp_path: Path):
    text = """\
domain: ext
failure_mode: fail_closed
descriptors:
  - key: plan
    value: free
    rate_limits:
      - {requests_per_unit: 10, window: 1s}
      - {requests_per_unit: 100, window: 5m, burst: 150, name: five_minutes}
  - key: half
    rate_limit: {requests_per_unit: 50, window: 30s}
  - key: mixed
    rate_limit: {requests_per_unit: 1, window: 1h30m}
  - key: fast
    rate_limit: {requests_per_unit: 1, window: 250ms}
"""
    domain = load_limits(write(tmp_path, text)).domains["ext"]
    assert domain.failure_mode is FailureMode.FAIL_CLOSED
    assert domain.rule_for((("plan", "free"),)).limits == (
        Limit(10, 1_000, 10), Limit(100, 300_000, 150, name="five_minutes"))
    assert domain.rule_for((("half", "x"),)).limits[0].window_ms == 30_000
    assert domain.rule_for((("mixed", "x"),)).limits[0].window_ms == 5_400_000
    assert domain.rule_for((("fast", "x"),)).limits[0].window_ms == 250


def test_a_directory_of_files_and_multi_document_files_are_read(tmp_path: Path):
    write(tmp_path, "domain: a\n---\ndomain: b\n", "1.yaml")
    write(tmp_path, "domain: c\n", "2.yml")
    write(tmp_path, "not: yaml for us\n", "ignored.txt")
    assert set(load_limits(tmp_path).domains) == {"a", "b", "c"}


@pytest.mark.parametrize(("text", "line", "reason"), [
    ("domain: x\ndescriptors:\n  - key: k\n    rate_limit: {unit: fortnight, "
     "requests_per_unit: 1}\n", 4, "unknown unit"),
    ("domain: x\ndescriptors:\n  - key: k\n    rate_limit:\n      unit: second\n"
     "      requests_per_unit: -3\n", 6, "requests_per_unit"),
    ("domain: x\ndescriptors:\n  - key: k\n    rate_limit:\n      window: 5 minutes\n"
     "      requests_per_unit: 3\n", 5, "duration"),
    ("domain: x\ndescriptors:\n  - key: k\n    rate_limit:\n      requests_per_unit: 3\n", 5,
     "exactly one of `unit` or `window`"),
    ("domain: x\ndescriptors:\n  - key: k\n    colour: red\n", 4, "unknown setting 'colour'"),
    ("domain: x\ndescriptors:\n  - value: v\n", 3, "`key`"),
    ("domain: x\nfailure_mode: maybe\n", 2, "fail_open or fail_closed"),
    ("domain: x\ndescriptors:\n  - key: k\n  - key: k\n", 4, "duplicate descriptor"),
    ("domain: x\ndescriptors: [\n", 3, "invalid YAML"),
    ("domain: x\ndescriptors:\n  - key: k\n    shadow_mode: sometimes\n", 4, "true or false"),
])
def test_invalid_configuration_names_file_line_and_reason(
    tmp_path: Path, text: str, line: int, reason: str
):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_limits(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert reason in message


def test_a_domain_defined_twice_is_refused(tmp_path: Path):
    with pytest.raises(ConfigError, match="defined twice"):
        load_limits(write(tmp_path, "domain: a\n---\ndomain: a\n"))


@given(st.text(max_size=12).filter(lambda s: s.strip() and not s.strip().isdigit()))
def test_any_malformed_window_is_refused_with_its_line(window: str):
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "w.yaml"
        path.write_text("domain: x\ndescriptors:\n  - key: k\n    rate_limit:\n"
                        f"      requests_per_unit: 1\n      window: {window!r}\n")
        try:
            limit = load_limits(path).domains["x"].rule_for((("k", "v"),)).limits[0]
        except ConfigError as exc:
            assert str(exc).startswith(f"{path}:")
        else:  # whatever was accepted really is a positive whole number of milliseconds
            assert limit.window_ms >= 1


def test_settings_come_from_the_environment_with_documented_defaults():
    defaults = load_settings({})
    assert (defaults.grpc_addr, defaults.http_addr) == ("127.0.0.1:50052", "127.0.0.1:8081")
    assert defaults.config_path is None
    with pytest.raises(ConfigError, match="RATELIMITER_GRPC_ADDR"):
        load_settings({"RATELIMITER_GRPC_ADDR": "nonsense"})
    with pytest.raises(ConfigError, match="RATELIMITER_REDIS_URL"):
        load_settings({"RATELIMITER_REDIS_URL": "http://x"})
    cluster = load_settings({"RATELIMITER_REDIS_URL": "redis+cluster://127.0.0.1:7000"})
    assert cluster.redis_url.startswith("redis+cluster://")
    assert defaults.redis_timeout_s == 0.05
    assert defaults.batch_helper_threads
    assert not load_settings({"RATELIMITER_BATCH_HELPER_THREADS": "off"}).batch_helper_threads
    with pytest.raises(ConfigError, match="RATELIMITER_BATCH_HELPER_THREADS must be on or off"):
        load_settings({"RATELIMITER_BATCH_HELPER_THREADS": "maybe"})


def test_redis_urls_are_logged_without_their_password():
    from ratelimiter.store import redacted

    assert redacted("redis://:pw@10.0.0.1:6379/0") == "redis://***@10.0.0.1:6379/0"
    assert redacted("rediss+cluster://u:pw@h:7000") == "rediss+cluster://u:***@h:7000"
    assert redacted("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def serve_output(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO),
            "RATELIMITER_GRPC_ADDR": "127.0.0.1:1", "RATELIMITER_HTTP_ADDR": "127.0.0.1:1"}
    return subprocess.run([sys.executable, "-m", "ratelimiter", "serve"], env={**base, **env},
                          capture_output=True, text=True, timeout=30, cwd=REPO)


def test_a_bad_config_file_stops_the_start_with_one_line_naming_file_and_line(tmp_path: Path):
    path = write(tmp_path, "domain: x\ndescriptors:\n  - key: k\n    rate_limit: {unit: eon, "
                           "requests_per_unit: 1}\n")
    result = serve_output({"RATELIMITER_CONFIG": str(path)})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"ratelimiter: invalid configuration: {path}:4: unknown unit 'eon' (one of second, "
        "minute, hour, day, week, month, year)"]


def test_wrong_settings_stop_the_start_with_one_line_and_no_secret(tmp_path: Path):
    result = serve_output({"RATELIMITER_REDIS_URL": "http://user:hunter2@127.0.0.1"})
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "RATELIMITER_REDIS_URL" in result.stderr and "hunter2" not in result.stderr
    missing = serve_output({"RATELIMITER_CONFIG": str(tmp_path / "absent.yaml")})
    assert missing.returncode == 2 and "no such file" in missing.stderr
    assert "Traceback" not in missing.stderr + result.stderr
