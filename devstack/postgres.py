"""An embedded PostgreSQL from the `pgserver` wheel's binaries, run as a child of `metering dev`.

Only the binaries of the wheel are used: its Python wrapper daemonizes the server through pg_ctl and
stops it from an atexit hook, which would leave Ctrl-C ordering and orphans to chance. Here the
postmaster is our own child, listens only on a unix socket inside its data folder (no port to clash
with, and only its owner can reach it), and gets a fast shutdown when `metering dev` stops.
"""

from __future__ import annotations

import shutil
import signal
from pathlib import Path
from urllib.parse import quote

import asyncpg

from devstack.account import Account, give_to, make_reachable
from devstack.binaries import postgres_bin_dir
from devstack.errors import DevError
from devstack.processes import Child, run_to_completion, start_child, stop_left_running, wait_until

DATABASE = "metering"
SUPERUSER = "postgres"
PORT = 5432  # names the socket file (.s.PGSQL.5432); nothing listens on TCP
# sun_path holds 108 bytes on Linux and 104 on macOS, terminator included.
MAX_SOCKET_PATH = 103
START_TIMEOUT_SECONDS = 60.0


def initdb_argv(bin_dir: Path, data_dir: Path) -> list[str]:
    """A cluster whose superuser is `postgres`, trusted on its own sockets, in UTF-8 without a locale."""
    return [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8",
            "--no-locale", "--no-instructions"]


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, log_path: Path, account: Account | None) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.account = account
        self.bin_dir = postgres_bin_dir()
        self.made_reachable: list[Path] = []
        socket = data_dir / f".s.PGSQL.{PORT}"
        if len(str(socket)) > MAX_SOCKET_PATH:
            raise DevError(f"the data folder path is too long for PostgreSQL's unix socket ({socket}); "
                           f"choose a shorter one with --home or METERING_DEV_HOME")

    def dsn(self, database: str = DATABASE) -> str:
        return f"postgresql://{SUPERUSER}@/{database}?host={quote(str(self.data_dir), safe='/')}"

    async def stop_leftover(self) -> None:
        await stop_left_running("PostgreSQL", self.data_dir / "postmaster.pid", "postgres", signal.SIGINT)

    async def start(self) -> Child:
        """Initializes the data folder the first time, starts the server, creates the database."""
        self.made_reachable = make_reachable(self.account, self.data_dir, self.bin_dir / "postgres")
        if not (self.data_dir / "PG_VERSION").is_file():
            await self._initdb()
        give_to(self.account, self.data_dir)
        child = await start_child("PostgreSQL", self._server_argv(), self.log_path,
                                  stop_signal=signal.SIGINT, account=self.account)
        try:
            await wait_until(self._accepts_connections, child, START_TIMEOUT_SECONDS)
            await self._ensure_database()
        except BaseException:
            await child.stop()
            raise
        return child

    async def _initdb(self) -> None:
        # Into a side folder first: an interrupted initdb must not leave a half-made cluster behind.
        staging = self.data_dir.with_name(self.data_dir.name + ".init")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=0o700)
        give_to(self.account, staging)
        await run_to_completion("initdb", initdb_argv(self.bin_dir, staging), self.log_path, self.account)
        staging.rename(self.data_dir)

    def _server_argv(self) -> list[str]:
        return [
            str(self.bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(PORT),
            "-c", "listen_addresses=", "-c", f"unix_socket_directories={self.data_dir}",
        ]

    async def _accepts_connections(self) -> bool:
        try:
            conn = await asyncpg.connect(self.dsn("postgres"), timeout=2)
        except (OSError, asyncpg.CannotConnectNowError, asyncpg.PostgresError, TimeoutError):
            return False
        await conn.close()
        return True

    async def _ensure_database(self) -> None:
        conn = await asyncpg.connect(self.dsn("postgres"))
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
                await conn.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            await conn.close()
