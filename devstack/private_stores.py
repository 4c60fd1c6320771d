"""A PostgreSQL cluster of our own on a free loopback port, for the soak and the fault tests.

The machine's shared PostgreSQL (5432) must never be stopped: other tests run against it, and a
soak should neither load it for ten minutes nor depend on its state. This one lives in a temp
folder, uses the system's binaries (else those of the `pgserver` wheel of the `local` extra), runs
as an unprivileged account when we are root (PostgreSQL refuses to run as root), and is
restarted, crashed and stopped at will.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from devstack.supervised import free_port

ACCOUNT = "metering-dev"  # made by `metering dev` as root; created here when missing
SUPERUSER = "postgres"


def postgres_bin_dir() -> Path | None:
    """The newest system PostgreSQL's binaries, else the pgserver wheel's, else None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if found:
        return found[-1].parent
    try:
        from devstack.postgres import postgres_bin_dir as wheel_bin_dir

        return wheel_bin_dir()
    except Exception:  # DevError: the local extra is not installed
        return None


def unprivileged_account() -> str | None:
    """The account PostgreSQL runs as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(ACCOUNT)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        ACCOUNT], check=True, capture_output=True)
    return ACCOUNT


@dataclass
class PrivatePostgres:
    """initdb once, then start / stop(mode) / start as often as a test likes, same port each time."""

    bin_dir: Path
    account: str | None
    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="private-pg-")))
    proc: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / "postgres.log"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def init(self) -> PrivatePostgres:
        # mkdtemp makes a 0700 folder; the account must be able to enter it. /tmp itself is
        # world-searchable and the system binaries are too.
        self.root.chmod(0o755)
        self._give(self.root)
        self._run([str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER,
                   "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-instructions"])
        return self

    def start(self, within: float = 60.0) -> PrivatePostgres:
        """Starts the postmaster as our own child and waits until it accepts connections."""
        assert not self.running(), "PostgreSQL is already running"
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(self.bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
                 "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
                 "-c", "max_connections=200",
                 # Process crashes only: written WAL survives in the page cache, so skipping the
                 # flush to disk loses nothing these tests can observe and spares the shared disk.
                 "-c", "fsync=off"],
                stdout=log, stderr=subprocess.STDOUT, user=self._uid(), group=self._gid(),
                extra_groups=self._extra_groups())
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"postgres exited early:\n{self.log_tail()}")
            if _accepts(self.bin_dir, self.port):
                return self
            time.sleep(0.1)
        raise RuntimeError(f"postgres did not accept connections in {within:.0f}s:\n{self.log_tail()}")

    def stop(self, mode: str = "fast", within: float = 60.0) -> None:
        """fast: SIGINT (sessions are told, then ended); immediate: SIGQUIT (no checkpoint: crash
        recovery at the next start); kill: SIGKILL of the postmaster alone is unsafe (orphan
        backends keep the shared memory), so it is not offered."""
        if not self.running():
            return
        assert self.proc is not None
        self.proc.send_signal({"fast": signal.SIGINT, "immediate": signal.SIGQUIT}[mode])
        try:
            self.proc.wait(timeout=within)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    # Popen's user/group/extra_groups: None keeps ours (not root), else the account's, no others.
    def _uid(self) -> int | None:
        return None if self.account is None else pwd.getpwnam(self.account).pw_uid

    def _gid(self) -> int | None:
        return None if self.account is None else pwd.getpwnam(self.account).pw_gid

    def _extra_groups(self) -> list[int] | None:
        return None if self.account is None else []

    def _give(self, path: Path) -> None:
        if self.account is not None:
            entry = pwd.getpwnam(self.account)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _run(self, argv: list[str]) -> None:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, user=self._uid(),
                              group=self._gid(), extra_groups=self._extra_groups())
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def _accepts(bin_dir: Path, port: int) -> bool:
    """pg_isready: synchronous, so it also works from a thread beside a running event loop."""
    done = subprocess.run([str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port),
                           "-t", "2"], capture_output=True, timeout=10)
    return done.returncode == 0


class PrivateRedis:
    """A redis-server of our own on a free loopback port: never the machine's shared 6379."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> PrivateRedis:
        """Starts (or restarts, on the same port, empty) and waits until it answers PING."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with redis.Redis(port=self.port, socket_timeout=0.5) as client:
                    if client.ping():
                        return self
            except redis.RedisError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def time_ms(self) -> int:
        """The server's clock: the sidecar's buckets run on it, not on ours."""
        with redis.Redis(port=self.port, socket_timeout=2) as client:
            seconds, micros = client.time()
        return int(seconds) * 1000 + int(micros) // 1000
