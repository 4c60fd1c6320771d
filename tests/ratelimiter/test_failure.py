"""Redis down or hung: the domain's failure policy answers within the timeout; Redis back:
limits enforced again without a restart. Uses a private redis-server, never the machine's."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
import redis

from devstack.private_stores import PrivateRedis
from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2 as pb
from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2_grpc as pb_grpc
from tests.ratelimiter.harness import Sidecar, descriptor, wait_until

TIMEOUT_MS = 100
LIMITS = """\
domain: api
descriptors:
  - key: remote_address
    rate_limit: {unit: minute, requests_per_unit: 3}
---
domain: strict
failure_mode: fail_closed
descriptors:
  - key: remote_address
    rate_limit: {unit: minute, requests_per_unit: 3}
"""


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path / "redis").start()
    yield server
    if server.proc is not None and server.proc.poll() is None:
        os.kill(server.proc.pid, signal.SIGCONT)
    server.kill()


@pytest.fixture
def sidecar_on_private_redis(tmp_path: Path, prefix: str, private_redis: PrivateRedis,
                             start_sidecar: Callable[..., Sidecar]) -> Sidecar:
    config = tmp_path / "limits.yaml"
    config.write_text(LIMITS)
    return start_sidecar(prefix, redis_url=private_redis.url, config=config,
                         extra_env={"RATELIMITER_REDIS_TIMEOUT_MS": str(TIMEOUT_MS)})


def timed_check(stub: pb_grpc.RateLimiterStub, domain: str, ip: str) -> tuple[pb.CheckResponse,
                                                                              float]:
    started = time.monotonic()
    answer = stub.Check(pb.CheckRequest(domain=domain,
                                        descriptors=[descriptor(("remote_address", ip))]),
                        timeout=5)
    return answer, time.monotonic() - started


def assert_enforced(stub: pb_grpc.RateLimiterStub, domain: str, ip: str) -> None:
    answers = [timed_check(stub, domain, ip)[0] for _ in range(4)]
    assert [a.allowed for a in answers] == [True, True, True, False]
    assert not any(a.degraded for a in answers)


def test_redis_killed_then_back_applies_policy_within_timeout_and_recovers(
    private_redis: PrivateRedis, sidecar_on_private_redis: Sidecar
):
    stub = pb_grpc.RateLimiterStub(grpc.insecure_channel(sidecar_on_private_redis.grpc_addr))
    assert_enforced(stub, "api", "10.1.0.1")

    private_redis.kill()
    for _ in range(5):
        opened, took = timed_check(stub, "api", "10.1.0.1")
        assert opened.allowed and opened.degraded and took < TIMEOUT_MS / 1000 + 0.4
        closed, took = timed_check(stub, "strict", "10.1.0.2")
        assert not closed.allowed and closed.degraded and closed.state == pb.STATE_LIMITED
        assert took < TIMEOUT_MS / 1000 + 0.4

    private_redis.start()  # same port, empty: the script cache is gone too
    assert wait_until(lambda: not timed_check(stub, "api", "10.1.0.3")[0].degraded, timeout=10)
    assert_enforced(stub, "api", "10.1.0.4")
    assert_enforced(stub, "strict", "10.1.0.5")

    log = sidecar_on_private_redis.log()
    assert log.count("store down:") == 1 and log.count("store up again:") == 1
    metrics = sidecar_metrics(sidecar_on_private_redis)
    assert 'ratelimiter_store_transitions_total{to="down"} 1.0' in metrics
    assert 'ratelimiter_store_transitions_total{to="up"} 1.0' in metrics
    assert 'ratelimiter_degraded_decisions_total{domain="strict",policy="fail_closed"}' in metrics


def test_hung_redis_never_holds_a_caller_longer_than_the_timeout(
    private_redis: PrivateRedis, sidecar_on_private_redis: Sidecar
):
    stub = pb_grpc.RateLimiterStub(grpc.insecure_channel(sidecar_on_private_redis.grpc_addr))
    assert_enforced(stub, "api", "10.2.0.1")
    assert private_redis.proc is not None
    os.kill(private_redis.proc.pid, signal.SIGSTOP)  # accepts connections, answers nothing
    try:
        for _ in range(5):
            answer, took = timed_check(stub, "api", "10.2.0.2")
            assert answer.allowed and answer.degraded
            assert took < TIMEOUT_MS / 1000 + 0.4
    finally:
        os.kill(private_redis.proc.pid, signal.SIGCONT)
    assert wait_until(lambda: not timed_check(stub, "api", "10.2.0.3")[0].degraded, timeout=10)
    assert_enforced(stub, "strict", "10.2.0.4")


def test_a_flushed_script_cache_is_reloaded_on_noscript(
    private_redis: PrivateRedis, sidecar_on_private_redis: Sidecar
):
    stub = pb_grpc.RateLimiterStub(grpc.insecure_channel(sidecar_on_private_redis.grpc_addr))
    assert timed_check(stub, "api", "10.3.0.1")[0].remaining == 2
    redis.Redis(port=private_redis.port).script_flush()  # private server: harms nobody
    answer, _ = timed_check(stub, "api", "10.3.0.1")
    assert answer.allowed and not answer.degraded and answer.remaining == 1


def sidecar_metrics(sidecar: Sidecar) -> str:
    import urllib.request

    with urllib.request.urlopen(f"{sidecar.http_base}/metrics", timeout=5) as response:
        return response.read().decode()



def test_a_redis_password_never_reaches_the_logs(
    tmp_path: Path, prefix: str, start_sidecar: Callable[..., Sidecar]
):
    secret = "s3cret-pw-4711"
    server = PrivateRedis(tmp_path / "auth", password=secret).start()
    try:
        sidecar = start_sidecar(prefix, redis_url=f"redis://:{secret}@127.0.0.1:{server.port}/0",
                                extra_env={"RATELIMITER_REDIS_TIMEOUT_MS": str(TIMEOUT_MS)})
        stub = pb_grpc.RateLimiterStub(grpc.insecure_channel(sidecar.grpc_addr))
        answer, _ = timed_check(stub, "api", "10.4.0.1")
        assert answer.allowed and not answer.degraded and answer.remaining == 99
        server.kill()
        assert timed_check(stub, "api", "10.4.0.1")[0].degraded
        assert wait_until(lambda: "store down:" in sidecar.log(), timeout=5)
        assert f"redis://***@127.0.0.1:{server.port}" in sidecar.log()  # the start line, redacted
        assert secret not in sidecar.log()
    finally:
        server.kill()
