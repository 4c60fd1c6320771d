"""A PostgreSQL and a Redis of our own on free loopback ports, for the tests, the soak and the
fault tests.

The machine's shared stores (5432, 6379) are never stopped: other work runs against them, and a
soak should neither load them for ten minutes nor depend on their state. These live in temp
folders, run the binaries of the `local` extra's wheels (else the machine's), run PostgreSQL as an
unprivileged account when we are root (PostgreSQL refuses to run as root), and are restarted,
crashed and stopped at will. Unlike the stores of `metering dev` (unix sockets, data kept between
runs), these listen on TCP, so any client and any child process reaches them by host and port.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import redis

from devstack.account import Account, give_to, make_reachable, postgres_account
from devstack.binaries import postgres_bin_dir, redis_program
from devstack.ports import free_port
from devstack.postgres import SUPERUSER, initdb_argv
from devstack.supervised import Supervised

STOP_SIGNALS = {"fast": signal.SIGINT, "immediate": signal.SIGQUIT}


@dataclass
class PrivatePostgres:
    """initdb once, then start / stop(mode) / start as often as a test likes, same port each time."""

    bin_dir: Path = field(default_factory=postgres_bin_dir)
    account: Account | None = field(default_factory=postgres_account)
    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="private-pg-")))
    server: Supervised | None = field(default=None, init=False)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / "postgres.log"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def init(self) -> PrivatePostgres:
        # mkdtemp makes a 0700 folder; the account must be able to enter it and reach the binaries.
        self.root.chmod(0o755)
        give_to(self.account, self.root)
        make_reachable(self.account, self.root, self.bin_dir / "postgres")
        account = self.account
        done = subprocess.run(initdb_argv(self.bin_dir, self.data_dir), capture_output=True, text=True,
                              timeout=120, user=None if account is None else account.uid,
                              group=None if account is None else account.gid,
                              extra_groups=None if account is None else [])
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return self

    def start(self, within: float = 60.0) -> PrivatePostgres:
        """Starts the postmaster as our own child and waits until it accepts connections."""
        if self.server is None:
            self.server = Supervised("PostgreSQL", [
                str(self.bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
                "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
                "-c", "max_connections=200",
                # Process crashes only: written WAL survives in the page cache, so skipping the
                # flush to disk loses nothing these tests can observe and spares the shared disk.
                "-c", "fsync=off",
            ], self._accepts, self.log_path, account=self.account, stop_signal=signal.SIGINT)
        self.server.start(within)
        return self

    def stop(self, mode: str = "fast", within: float = 60.0) -> None:
        """fast: SIGINT (sessions are told, then ended); immediate: SIGQUIT (no checkpoint: crash
        recovery at the next start); kill: SIGKILL of the postmaster alone is unsafe (orphan
        backends keep the shared memory), so it is not offered."""
        if self.server is not None:
            self.server.stop(within, STOP_SIGNALS[mode])

    def running(self) -> bool:
        return self.server is not None and self.server.alive()

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def _accepts(self) -> bool:
        """pg_isready: synchronous, so it also works from a thread beside a running event loop."""
        done = subprocess.run([str(self.bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p",
                               str(self.port), "-t", "2"], capture_output=True, timeout=10)
        return done.returncode == 0


class PrivateRedis:
    """A redis-server of our own on a free loopback port, no persistence: a restart starts empty."""

    def __init__(self, workdir: Path, port: int | None = None, extra_args: tuple[str, ...] = (),
                 password: str | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.password = password
        argv = [str(redis_program("redis-server")), "--bind", "127.0.0.1", "--port", str(self.port),
                "--save", "", "--appendonly", "no", "--dir", str(workdir), *extra_args]
        if password is not None:
            argv += ["--requirepass", password]
        self.server = Supervised(f"redis-server on port {self.port}", argv, self._answers_ping,
                                 workdir / "redis-server.log")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def proc(self) -> subprocess.Popen[bytes] | None:
        return self.server.proc

    @property
    def pid(self) -> int:
        return self.server.pid

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, password=self.password, socket_timeout=2)

    def start(self, within: float = 15.0) -> PrivateRedis:
        """Starts (or restarts, on the same port, empty) and waits until it answers PING."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.server.start(within)
        return self

    def kill(self) -> None:
        self.server.kill()

    def time_ms(self) -> int:
        """The server's clock: the sidecar's buckets run on it, not on ours."""
        with self.client() as client:
            seconds, micros = client.time()
        return int(seconds) * 1000 + int(micros) // 1000

    def _answers_ping(self) -> bool:
        try:
            with redis.Redis(port=self.port, password=self.password, socket_timeout=0.5) as client:
                return bool(client.ping())
        except redis.RedisError:
            return False
