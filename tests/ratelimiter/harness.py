"""Real processes for the sidecar tests: sidecars, private redis-servers, a Redis Cluster (devstack's).

Only loopback addresses; every process started here is stopped by the same fixture.
"""

from __future__ import annotations

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

import redis

from devstack.binaries import redis_program
from devstack.ports import free_port
from devstack.private_stores import PrivateRedis
from devstack.supervised import ServedProcess, ratelimiter_sidecar
from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2 as pb
from tests import stores

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]


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
    """A `python -m ratelimiter serve` subprocess on free loopback ports (devstack's launcher)."""

    prefix: str
    redis_url: str = field(default_factory=stores.redis_url)
    config: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    bootstrap: str | None = None
    served: ServedProcess = field(init=False)

    def __post_init__(self) -> None:
        argv = None if self.bootstrap is None else [sys.executable, "-c", self.bootstrap, "serve"]
        self.served = ratelimiter_sidecar("sidecar", self.redis_url, None, self.prefix, self.config, argv,
                                          cwd=REPO, **{
                                              "PYTHONPATH": str(REPO),
                                              # A loaded test machine can stall Redis replies past the
                                              # 50 ms default; tests about the timeout set their own.
                                              "RATELIMITER_REDIS_TIMEOUT_MS": "2000",
                                              **self.extra_env,
                                          })

    @property
    def grpc_addr(self) -> str:
        return self.served.grpc_addr

    @property
    def grpc_port(self) -> int:
        return int(self.grpc_addr.rpartition(":")[2])

    @property
    def http_addr(self) -> str:
        return self.served.http_addr

    @property
    def http_base(self) -> str:
        return self.served.http_base

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        return self.served.proc

    @property
    def log_path(self) -> Path | None:
        return self.served.log_path

    def start(self, log_dir: Path, timeout: float = 20.0) -> Sidecar:
        self.served.output = log_dir / f"sidecar-{self.grpc_port}.log"
        self.served.start(timeout)
        return self

    def log(self) -> str:
        return self.served.log_text()

    def signal(self, sig: signal.Signals) -> None:
        self.served.send(sig)

    def stop(self) -> None:
        self.served.stop(within=10)


def redis_time_ms(url: str | None = None) -> int:
    seconds, micros = redis.Redis.from_url(url or stores.redis_url()).time()
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
    nodes: list[PrivateRedis] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}/0"

    def start(self) -> RedisClusterNodes:
        for i in range(3):
            node_dir = self.workdir / f"node{i}"
            node = PrivateRedis(node_dir, port=free_cluster_port(), extra_args=(
                "--cluster-enabled", "yes", "--cluster-config-file", str(node_dir / "nodes.conf"),
                "--cluster-node-timeout", "2000"))
            self.nodes.append(node.start())
        addresses = [f"127.0.0.1:{n.port}" for n in self.nodes]
        subprocess.run([str(redis_program("redis-cli")), "--cluster", "create", *addresses,
                        "--cluster-replicas", "0", "--cluster-yes"], check=True, capture_output=True,
                       timeout=60)

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
