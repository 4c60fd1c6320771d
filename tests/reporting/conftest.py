"""Fixtures of the reporting tests: the metering fixtures (session database, server processes,
platform key), a rate-limiter sidecar, and a `metering serve` whose HTTP address is known."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from devstack.supervised import metering_server
from tests import stores
from tests.metering.conftest import (  # noqa: F401  (fixtures)
    database_url,
    make_org,
    platform_key,
    pool,
    server_addrs,
    stubs,
)
from tests.ratelimiter.harness import Sidecar, delete_prefix, unique_prefix


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
        delete_prefix(stores.redis_url(), prefix)


def start_http_server(
    dsn: str, sidecar_url: str, timeout: float = 60.0, output: IO[bytes] | None = None, **env: str
) -> tuple[str, str, subprocess.Popen[bytes]]:
    """A `metering serve` with its HTTP API on a known port: (grpc addr, http base URL, process).

    Ready when /healthz answers (the HTTP server starts after gRPC); killed if it never does."""
    server = metering_server("metering serve", dsn, output, ready_on_http="/healthz", **{
        "METERING_LOG_FORMAT": "json",
        "METERING_RATELIMITER_URL": sidecar_url,
        "METERING_EXPORT_POLL_SECONDS": "0.3",
        "METERING_METRICS_FLUSH_SECONDS": "0.3",
        "METERING_HOLD_SWEEP_SECONDS": "0.5",
        **env,
    })
    server.start(within=timeout)
    assert server.proc is not None
    return server.grpc_addr, server.http_base, server.proc


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
