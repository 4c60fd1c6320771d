"""Processes of the system started for tests, benchmarks and the soak: each on free loopback ports,
its output in a log file, ready once its probe says so, stopped (or killed) at will.

A process keeps its address across restarts, so clients reconnect to the same place after a
SIGKILL, as they would to a Kubernetes Service. Every `start` has a `stop`; callers put the stops
in `finally` blocks or fixture finalizers. (`metering dev` supervises its children with asyncio, in
`devstack.processes`.)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from devstack.account import Account
from devstack.ports import free_addr

Probe = Callable[[], bool]
Output = Path | IO[Any] | int | None
"""A log file (appended to), an open file, subprocess.DEVNULL, or None for the caller's stdout and stderr."""


class NotReady(RuntimeError):
    """The process exited, or did not become ready in time; the message ends with its log."""


def grpc_serving(addr: str) -> Probe:
    """grpc.health.v1 says SERVING on `addr`."""

    def probe() -> bool:
        with grpc.insecure_channel(addr) as channel:
            try:
                reply = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=""), timeout=1)
            except grpc.RpcError:
                return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    return probe


def http_answers(url: str) -> Probe:
    """A GET of `url` answers with a success status."""

    def probe() -> bool:
        try:
            urllib.request.urlopen(url, timeout=1).close()
        except OSError:
            return False
        return True

    return probe


def tcp_accepts(addr: str) -> Probe:
    """Something accepts TCP connections on `addr` (host:port): for servers without a health check."""

    def probe() -> bool:
        host, _, port = addr.rpartition(":")
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=1).close()
        except OSError:
            return False
        return True

    return probe


class Supervised:
    """One child process: started (again) by `start`, which returns once `ready` is true."""

    def __init__(self, name: str, argv: Sequence[str], ready: Probe, output: Output = None, *,
                 env: Mapping[str, str] | None = None, cwd: Path | None = None,
                 account: Account | None = None, stop_signal: signal.Signals = signal.SIGTERM) -> None:
        self.name = name
        self.argv = list(argv)
        self.ready = ready
        self.output = output
        self.env = None if env is None else dict(env)
        self.cwd = cwd
        self.account = account
        self.stop_signal = stop_signal
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.name} was never started"
        return self.proc.pid

    @property
    def log_path(self) -> Path | None:
        return self.output if isinstance(self.output, Path) else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, within: float = 60.0) -> Supervised:
        """Starts (or restarts, on the same address) and waits until it is ready."""
        assert not self.alive(), f"{self.name} is already running"
        account = self.account
        # Appending keeps the log of an earlier life (a SIGKILLed one) for the post-mortem.
        log = self.log_path.open("ab") if self.log_path is not None else None
        out = log if log is not None or isinstance(self.output, Path) else self.output
        try:
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=out,
                stderr=None if out is None else subprocess.STDOUT, cwd=self.cwd, env=self.env,
                user=None if account is None else account.uid,
                group=None if account is None else account.gid,
                extra_groups=None if account is None else [])
        finally:
            if log is not None:
                log.close()
        self.starts += 1
        try:
            self.wait_ready(within)
        except BaseException:
            self.stop(within=10)  # its own stop signal first: a postmaster must not be SIGKILLed alone
            raise
        return self

    def wait_ready(self, within: float) -> None:
        deadline = time.monotonic() + within
        while not self.ready():
            if not self.alive():
                assert self.proc is not None
                raise NotReady(f"{self.name} exited early ({self.proc.returncode}):\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise NotReady(f"{self.name} not ready after {within:.0f}s:\n{self.log_tail()}")
            time.sleep(0.1)

    def send(self, sig: signal.Signals) -> None:
        assert self.proc is not None, f"{self.name} was never started"
        self.proc.send_signal(sig)

    def stop(self, within: float = 20.0, sig: signal.Signals | None = None) -> None:
        """Asks it to stop (its stop signal, or `sig`); kills it if it has not within `within`."""
        if not self.alive():
            return
        assert self.proc is not None
        self.proc.send_signal(sig or self.stop_signal)
        try:
            self.proc.wait(timeout=within)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL: no draining, no goodbye; in-flight calls die with the process."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def log_text(self) -> str:
        path = self.log_path
        return path.read_text(errors="replace") if path is not None and path.exists() else ""

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_text()
        return "\n".join(text.splitlines()[-lines:]) if text else "(see the test output)"


class ServedProcess(Supervised):
    """A server of the system on loopback addresses of its own, kept across restarts."""

    def __init__(self, name: str, argv: Sequence[str], grpc_addr: str, http_addr: str,
                 settings: Mapping[str, str], output: Output, *, scrub_prefix: str,
                 ready_on_http: str | None = None, cwd: Path | None = None) -> None:
        # The process must see only our settings of its kind, not one left in the caller's shell.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(scrub_prefix)}
        ready = grpc_serving(grpc_addr) if ready_on_http is None else http_answers(
            f"http://{http_addr}{ready_on_http}")
        super().__init__(name, argv, ready, output, env={**inherited, **settings}, cwd=cwd)
        self.grpc_addr = grpc_addr
        self.http_addr = http_addr

    @property
    def http_base(self) -> str:
        return f"http://{self.http_addr}"


def metering_server(name: str, database_url: str, output: Output, argv: Sequence[str] | None = None, *,
                    ready_on_http: str | None = None, peer_token: str | None = None,
                    **env: str) -> ServedProcess:
    """`metering serve` (or `argv`) on free loopback ports (gRPC and HTTP); not started yet.

    Ready once gRPC health says SERVING, or once `ready_on_http` (a path such as /healthz) answers.
    With `peer_token`, it is one of the replicas that route each organization's credit calls to
    its owner (METERING_PEER_ADDR is its gRPC address)."""
    grpc_addr, http_addr = free_addr(), free_addr()
    if peer_token is not None:
        env = {"METERING_PEER_ADDR": grpc_addr, "METERING_PEER_TOKEN": peer_token, **env}
    return ServedProcess(name, argv or [sys.executable, "-m", "services.app.cli", "serve"], grpc_addr,
                         http_addr, {
                             "METERING_DATABASE_URL": database_url,
                             "METERING_GRPC_ADDR": grpc_addr,
                             "METERING_HTTP_ADDR": http_addr,
                             # Plain lines: the logs are read by people after a failure.
                             "METERING_LOG_FORMAT": "text",
                             **env,
                         }, output, scrub_prefix="METERING_", ready_on_http=ready_on_http)


def ratelimiter_sidecar(name: str, redis_url: str, output: Output, prefix: str, config: Path | None = None,
                        argv: Sequence[str] | None = None, cwd: Path | None = None,
                        **env: str) -> ServedProcess:
    """`ratelimiter serve` (or `argv`) against `redis_url` with its own key prefix; not started yet."""
    grpc_addr, http_addr = free_addr(), free_addr()
    return ServedProcess(name, argv or [sys.executable, "-m", "ratelimiter", "serve"], grpc_addr, http_addr, {
        "RATELIMITER_REDIS_URL": redis_url,
        "RATELIMITER_GRPC_ADDR": grpc_addr,
        "RATELIMITER_HTTP_ADDR": http_addr,
        "RATELIMITER_KEY_PREFIX": prefix,
        **({"RATELIMITER_CONFIG": str(config)} if config is not None else {}),
        **env,
    }, output, scrub_prefix="RATELIMITER_", cwd=cwd)


def rss_mb(pid: int) -> float:
    """Resident set size (VmRSS) of a live process in MiB; NaN once it is gone."""
    return status_kb(pid, "VmRSS") / 1024


def status_kb(pid: int, field: str) -> float:
    """A kB figure of /proc/<pid>/status (VmRSS, VmHWM, ...); NaN once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return float(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return float("nan")
