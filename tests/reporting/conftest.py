"""Fixtures of the reporting tests: the metering fixtures (session database, server processes,
platform key), a rate-limiter sidecar, and a `metering serve` whose HTTP address is known."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from tests.metering.conftest import (  # noqa: F401  (fixtures)
    database_url,
    free_port,
    make_org,
    platform_key,
    pool,
    server_addrs,
    stubs,
)
from tests.ratelimiter.harness import LOCAL_REDIS, Sidecar, delete_prefix, unique_prefix


@pytest.fixture(scope="session")
def sidecar() -> Iterator[Sidecar]:
    """A rate-limiter sidecar with the built-in limits (API 100/min, webhooks 30/min per IP)."""
    prefix = unique_prefix("reporting")
    logs = Path(tempfile.mkdtemp(prefix="reporting-sidecar-"))
    started = Sidecar(prefix=prefix)
    try:
        started.start(logs, timeout=60.0)
        yield started
    finally:
        started.stop()
        delete_prefix(LOCAL_REDIS, prefix)


def start_http_server(
    dsn: str, sidecar_url: str, timeout: float = 60.0, output: IO[bytes] | None = None, **env: str
) -> tuple[str, str, subprocess.Popen[bytes]]:
    """A `metering serve` with its HTTP API on a known port: (grpc addr, http base URL, process).

    Ready when /healthz answers (the HTTP server starts after gRPC); killed if it never does."""
    grpc_addr, http = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.app.cli", "serve"],
        env={
            **os.environ,
            "METERING_DATABASE_URL": dsn,
            "METERING_GRPC_ADDR": grpc_addr,
            "METERING_HTTP_ADDR": http,
            "METERING_RATELIMITER_URL": sidecar_url,
            "METERING_EXPORT_POLL_SECONDS": "0.3",
            "METERING_METRICS_FLUSH_SECONDS": "0.3",
            "METERING_HOLD_SWEEP_SECONDS": "0.5",
            **env,
        },
        stdout=output,
        stderr=output,
    )
    base = f"http://{http}"
    try:
        _wait_http(base, proc, timeout)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return grpc_addr, base, proc


def _wait_http(base: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"metering serve exited with {proc.returncode}")
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"metering serve did not answer on {base} within {timeout:.0f}s")


@pytest.fixture(scope="session")
def http_server(database_url: str, sidecar: Sidecar) -> Iterator[tuple[str, str]]:  # noqa: F811
    """(gRPC address, HTTP base URL) of a server of its own on the session database."""
    addr, base, proc = start_http_server(database_url, sidecar.http_base)
    yield addr, base
    proc.terminate()
    proc.wait(timeout=15)


@pytest.fixture(scope="session")
def http_base(http_server: tuple[str, str]) -> str:
    return http_server[1]


ARTIFACTS = Path(os.environ.get("METERING_ARTIFACTS", Path(__file__).resolve().parents[2] / "artifacts"))
