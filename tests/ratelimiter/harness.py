"""Real processes for the sidecar tests: sidecars, private redis-servers, a Redis Cluster.

Only loopback addresses; every process started here is stopped by the same fixture.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import grpc
import redis
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2 as pb

LOCAL_REDIS = "redis://127.0.0.1:6379/0"
T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free and valid too."""
    for _ in range(200):
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair for a cluster node")


def unique_prefix(name: str) -> str:
    return f"test:{name}:{uuid.uuid4().hex[:8]}:"


def delete_prefix(url: str, prefix: str) -> None:
    """Deletes this test's keys, and only those."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def keys_with_prefix(url: str, prefix: str) -> list[bytes]:
    client = redis.Redis.from_url(url)
    try:
        return list(client.scan_iter(match=prefix + "*", count=1000))
    finally:
        client.close()


def descriptor(*entries: tuple[str, str], hits: int | None = None) -> pb.Descriptor:
    d = pb.Descriptor(entries=[pb.Entry(key=k, value=v) for k, v in entries])
    if hits is not None:
        d.hits = hits
    return d


@dataclass
class Sidecar:
    """A `python -m ratelimiter serve` subprocess on free loopback ports."""

    prefix: str
    redis_url: str = LOCAL_REDIS
    config: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    bootstrap: str | None = None
    grpc_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def grpc_addr(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def http_base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RATELIMITER_")}
        env.update({
            "RATELIMITER_REDIS_URL": self.redis_url,
            "RATELIMITER_GRPC_ADDR": self.grpc_addr,
            "RATELIMITER_HTTP_ADDR": f"127.0.0.1:{self.http_port}",
            "RATELIMITER_KEY_PREFIX": self.prefix,
            "PYTHONPATH": str(REPO),
        })
        if self.config is not None:
            env["RATELIMITER_CONFIG"] = str(self.config)
        # A loaded test machine can stall Redis replies past the 100 ms default; tests that are
        # about the timeout set their own.
        env["RATELIMITER_REDIS_TIMEOUT_MS"] = "2000"
        env.update(self.extra_env)
        return env

    def start(self, log_dir: Path, timeout: float = 20.0) -> Sidecar:
        self.log_path = log_dir / f"sidecar-{self.grpc_port}.log"
        cmd = [sys.executable, "-m", "ratelimiter", "serve"]
        if self.bootstrap is not None:
            cmd = [sys.executable, "-c", self.bootstrap, "serve"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(cmd, env=self.env(), stdout=log,
                                            stderr=subprocess.STDOUT, cwd=REPO)
        self.wait_serving(timeout)
        return self

    def wait_serving(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"sidecar exited {self.process.returncode}:\n{self.log()}")
            try:
                with grpc.insecure_channel(self.grpc_addr) as channel:
                    reply = health_pb2_grpc.HealthStub(channel).Check(
                        health_pb2.HealthCheckRequest(), timeout=0.5)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"sidecar not serving after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path and self.log_path.exists() else ""

    def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@dataclass
class RedisServer:
    """A private redis-server on a free loopback port (never the machine's 6379)."""

    workdir: Path
    port: int = field(default_factory=free_port)
    extra_args: tuple[str, ...] = ()
    password: str | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        cmd = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
               "--appendonly", "no", "--dir", str(self.workdir), *self.extra_args]
        if self.password is not None:
            cmd += ["--requirepass", self.password]
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, password=self.password, socket_timeout=0.5).ping():
                    return self
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def redis_time_ms(url: str = LOCAL_REDIS) -> int:
    seconds, micros = redis.Redis.from_url(url).time()
    return int(seconds) * 1000 + int(micros) // 1000


async def run_within(budget_ms: int, attempt: Callable[[int], Awaitable[T]], tries: int = 4) -> T:
    """Runs `attempt(n)` until one finishes within `budget_ms` of Redis time (e.g. before the
    next token comes back); a busy machine can stretch a burst, which proves nothing."""
    for n in range(tries):
        start = redis_time_ms()
        result = await attempt(n)
        if redis_time_ms() - start < budget_ms:
            return result
    raise AssertionError(f"no attempt finished within {budget_ms} ms: machine too busy")


def wait_until(predicate: object, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(interval)
    return False


@dataclass
class RedisClusterNodes:
    """Three `redis-server --cluster-enabled yes` primaries joined by `redis-cli --cluster`."""

    workdir: Path
    nodes: list[RedisServer] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}/0"

    def start(self) -> RedisClusterNodes:
        for i in range(3):
            node_dir = self.workdir / f"node{i}"
            node = RedisServer(node_dir, port=free_cluster_port(), extra_args=(
                "--cluster-enabled", "yes", "--cluster-config-file", str(node_dir / "nodes.conf"),
                "--cluster-node-timeout", "2000"))
            self.nodes.append(node.start())
        addresses = [f"127.0.0.1:{n.port}" for n in self.nodes]
        subprocess.run(["redis-cli", "--cluster", "create", *addresses, "--cluster-replicas", "0",
                        "--cluster-yes"], check=True, capture_output=True, timeout=60)

        def ready() -> bool:
            for node in self.nodes:
                info = redis.Redis(port=node.port).cluster("info")
                if info.get("cluster_state") != "ok":
                    return False
            return True

        if not wait_until(ready, timeout=30, interval=0.2):
            raise RuntimeError("redis cluster did not reach cluster_state:ok")
        return self

    def keys(self, prefix: str) -> list[bytes]:
        found: list[bytes] = []
        for node in self.nodes:
            found += redis.Redis(port=node.port).scan_iter(match=prefix + "*", count=1000)
        return found

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()
