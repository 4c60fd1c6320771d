"""Reloading limits on SIGHUP or file change; a bad file never drops to no limits."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import grpc

from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2 as pb
from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2_grpc as pb_grpc
from tests.ratelimiter.harness import Sidecar, descriptor, wait_until


def limits(requests: int) -> str:
    return ("domain: api\ndescriptors:\n  - key: remote_address\n"
            f"    rate_limit: {{unit: minute, requests_per_unit: {requests}}}\n")


def limit_of(stub: pb_grpc.RateLimiterStub) -> int:
    answer = stub.Check(pb.CheckRequest(domain="api", hits=0,
                                        descriptors=[descriptor(("remote_address", "10.9.9.9"))]))
    return int(answer.limit.requests)


def test_sighup_and_file_changes_reload_and_a_bad_file_keeps_the_limits(
    tmp_path: Path, prefix: str, start_sidecar: Callable[..., Sidecar]
):
    config = tmp_path / "limits.yaml"
    config.write_text(limits(7))
    sidecar = start_sidecar(prefix, config=config,
                            extra_env={"RATELIMITER_RELOAD_INTERVAL_S": "0.2"})
    stub = pb_grpc.RateLimiterStub(grpc.insecure_channel(sidecar.grpc_addr))
    assert limit_of(stub) == 7

    config.write_text(limits(8))
    assert wait_until(lambda: limit_of(stub) == 8, timeout=5)

    config.write_text(limits(9) + "    rate_limit: {unit: aeon}\n")  # broken
    assert wait_until(lambda: "config reload rejected" in sidecar.log(), timeout=5)
    assert f"{config}:" in sidecar.log()
    assert limit_of(stub) == 8

    sidecar.extra_env.clear()
    config.write_text(limits(10))
    sidecar.signal(signal.SIGHUP)
    assert wait_until(lambda: limit_of(stub) == 10, timeout=5)
