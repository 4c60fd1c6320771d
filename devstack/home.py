"""The folder `metering dev` keeps its data in between runs, and the lock that makes it one run at a time."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from devstack.errors import DevError

DEFAULT_HOME = ".metering-dev"
HOME_ENV = "METERING_DEV_HOME"
LOCK_FILE = "dev.lock"
KEYS_FILE = "api-keys.json"
# What --fresh removes: only what `metering dev` itself puts there, never a folder it did not make.
OWNED_ENTRIES = ("postgres", "postgres.init", "redis", "logs", KEYS_FILE, f"{KEYS_FILE}.tmp")


@dataclass(frozen=True)
class DevHome:
    root: Path

    @classmethod
    def choose(cls, option: Path | None, env: Mapping[str, str] | None = None) -> DevHome:
        """--home, else $METERING_DEV_HOME, else ./.metering-dev in the current directory."""
        env = os.environ if env is None else env
        chosen = option or Path(env.get(HOME_ENV) or DEFAULT_HOME)
        return cls(chosen.expanduser().resolve())

    @property
    def postgres(self) -> Path:
        return self.root / "postgres"

    @property
    def redis(self) -> Path:
        return self.root / "redis"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def api_keys(self) -> Path:
        return self.root / KEYS_FILE

    def prepare(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.logs.mkdir(exist_ok=True)
        except OSError as error:
            raise DevError(f"cannot create the data folder {self.root}: {error.strerror}") from None

    def wipe(self) -> None:
        """Starts fresh: removes the databases, Redis data and logs (the folder and its lock stay)."""
        for name in OWNED_ENTRIES:
            entry = self.root / name
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            elif entry.exists() or entry.is_symlink():
                entry.unlink()
        self.logs.mkdir(exist_ok=True)


class HomeLock:
    """An exclusive lock on the data folder, held for the life of the process (released by the OS)."""

    def __init__(self, home: DevHome) -> None:
        self._path = home.root / LOCK_FILE
        self._file: IO[str] | None = None
        self._home = home

    def acquire(self) -> None:
        lock_file = self._path.open("a+")
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.seek(0)
            holder = lock_file.read().strip() or "?"
            lock_file.close()
            raise DevError(f"already running with its data in {self._home.root} (pid {holder}); "
                           f"stop that one first, or use another --home") from None
        lock_file.seek(0)
        lock_file.truncate()
        lock_file.write(f"{os.getpid()}\n")
        lock_file.flush()
        self._file = lock_file

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
