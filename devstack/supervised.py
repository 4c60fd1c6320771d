"""Real processes for the soak and the fault tests: metering servers, rate-limiter sidecars,
each on free loopback ports with its output in a log file.

A process keeps its address across restarts, so clients reconnect to the same place after a
SIGKILL, as they would to a Kubernetes Service. Every `start` has a `stop`; callers put the stops
in `finally` blocks or fixture finalizers.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident set size (VmRSS) of a live process in MiB; NaN once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return float("nan")


class ServedProcess:
    """A gRPC server subprocess that answers grpc.health.v1 once it is ready."""

    def __init__(self, name: str, argv: list[str], grpc_addr: str, env: dict[str, str],
                 log_dir: Path, scrub_prefix: str | None = None) -> None:
        self.name = name
        self.scrub_prefix = scrub_prefix
        self.argv = argv
        self.grpc_addr = grpc_addr
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.name} was never started"
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, ready_within: float = 60.0) -> ServedProcess:
        """Starts (or restarts, on the same address) and waits until health says SERVING."""
        assert not self.alive(), f"{self.name} is already running"
        # Appending keeps the log of an earlier life (a SIGKILLed one) for the post-mortem.
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
                                         env=self._environment())
        self.starts += 1
        self.wait_serving(ready_within)
        return self

    def _environment(self) -> dict[str, str]:
        # The process must see only our settings of its kind, not one left in the caller's shell.
        inherited = {k: v for k, v in os.environ.items()
                     if not (self.scrub_prefix and k.startswith(self.scrub_prefix))}
        return {**inherited, **self.env}

    def wait_serving(self, within: float) -> None:
        deadline = time.monotonic() + within
        with grpc.insecure_channel(self.grpc_addr) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline:
                if not self.alive():
                    raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
                try:
                    reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} not serving after {within:.0f}s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no draining, no goodbye; in-flight calls die with the process."""
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if not self.alive():
            return
        assert self.proc is not None
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


def metering_server(name: str, database_url: str, log_dir: Path, argv: list[str] | None = None,
                    **env: str) -> ServedProcess:
    """`metering serve` (or `argv`) on free loopback ports (gRPC and HTTP); not started yet."""
    grpc_addr = f"127.0.0.1:{free_port()}"
    argv = argv or [sys.executable, "-m", "services.app.cli", "serve"]
    return ServedProcess(name, argv, grpc_addr, {
        "METERING_DATABASE_URL": database_url,
        "METERING_GRPC_ADDR": grpc_addr,
        "METERING_HTTP_ADDR": f"127.0.0.1:{free_port()}",
        # Plain lines: the logs are read by people after a failure, not shipped anywhere.
        "METERING_LOG_FORMAT": "text",
        **env,
    }, log_dir, scrub_prefix="METERING_")


def ratelimiter_sidecar(name: str, redis_url: str, log_dir: Path, prefix: str,
                        config: Path | None = None, **env: str) -> ServedProcess:
    """`ratelimiter serve` against `redis_url` with its own key prefix; not started yet."""
    grpc_addr = f"127.0.0.1:{free_port()}"
    settings = {
        "RATELIMITER_REDIS_URL": redis_url,
        "RATELIMITER_GRPC_ADDR": grpc_addr,
        "RATELIMITER_HTTP_ADDR": f"127.0.0.1:{free_port()}",
        "RATELIMITER_KEY_PREFIX": prefix,
        **({"RATELIMITER_CONFIG": str(config)} if config is not None else {}),
        **env,
    }
    return ServedProcess(name, [sys.executable, "-m", "ratelimiter", "serve"], grpc_addr, settings,
                         log_dir, scrub_prefix="RATELIMITER_")
