"""Child processes of `metering dev`: started in their own session, stopped in order, never orphaned."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from devstack.account import Account
from devstack.errors import DevError

log = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 30.0
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


@dataclass
class Child:
    name: str
    process: asyncio.subprocess.Process
    log_path: Path
    stop_signal: signal.Signals = signal.SIGTERM

    @property
    def running(self) -> bool:
        return self.process.returncode is None

    async def stop(self) -> None:
        """Asks the process to shut down cleanly; kills it only if it has not within the timeout."""
        if not self.running:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(self.stop_signal)
        try:
            await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            log.warning("%s did not stop within %.0fs; killing it", self.name, STOP_TIMEOUT_SECONDS)
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()

    def describe_exit(self) -> str:
        return f"{self.name} exited (code {self.process.returncode}): {last_line(self.log_path)}; " \
               f"log: {self.log_path}"


async def run_to_completion(name: str, argv: Sequence[str], log_path: Path,
                            account: Account | None = None) -> None:
    """Runs a one-off command (e.g. initdb) with its output appended to the log; fails in one line."""
    child = await start_child(name, argv, log_path, account=account)
    if await child.process.wait() != 0:
        raise DevError(child.describe_exit())


async def start_child(name: str, argv: Sequence[str], log_path: Path, *,
                      stop_signal: signal.Signals = signal.SIGTERM,
                      env: Mapping[str, str] | None = None, account: Account | None = None) -> Child:
    # A session of its own: Ctrl-C in the terminal reaches only `metering dev`, which then stops
    # the children in order (server first, stores last) instead of all of them at once.
    with log_path.open("ab") as log_file:
        try:
            process = await asyncio.create_subprocess_exec(
                *argv, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True, env=None if env is None else dict(env),
                preexec_fn=_die_with_parent(stop_signal),
                user=None if account is None else account.uid,
                group=None if account is None else account.gid,
                extra_groups=None if account is None else [],
            )
        except OSError as error:
            raise DevError(f"cannot start {name} ({argv[0]}): {error.strerror}") from None
    return Child(name, process, log_path, stop_signal)


def _die_with_parent(sig: signal.Signals) -> Callable[[], None] | None:
    """On Linux, the child receives `sig` if `metering dev` dies without stopping it (kill -9, OOM):
    its stop signal, so the stores still shut down cleanly and nothing is left holding a port."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def arm() -> None:
        # Runs in the child between fork and exec, after the switch of user: touches no lock.
        prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)

    return arm


async def wait_until(ready: Callable[[], Awaitable[bool]], child: Child, seconds: float) -> None:
    """Polls `ready` until it is true; fails if the child exits first or `seconds` run out."""
    deadline = time.monotonic() + seconds
    while not await ready():
        if not child.running:
            raise DevError(child.describe_exit())
        if time.monotonic() > deadline:
            raise DevError(f"{child.name} did not become ready within {seconds:.0f}s; "
                           f"log: {child.log_path}")
        await asyncio.sleep(0.1)


def last_line(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return lines[-1].strip() if lines else "(empty log)"


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie nobody has reaped yet has stopped all the same.
    return _proc_state(pid) != "Z"


def process_command_line(pid: int) -> str:
    """The command line of a process ('' when unknown, e.g. without /proc)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _proc_state(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rpartition(")")[2].split()[0]


async def stop_left_running(name: str, pid_file: Path, marker: str, stop_signal: signal.Signals) -> None:
    """Stops a store an earlier `metering dev` left running (it was killed before it could stop it).

    Only called while holding the data folder's lock, so no live `metering dev` owns that process.
    """
    pid = _read_pid(pid_file)
    if pid is None or not process_alive(pid) or marker not in process_command_line(pid):
        return
    log.warning("stopping the %s an earlier `metering dev` left running (pid %d)", name, pid)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, stop_signal)
        while process_alive(pid):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
            await asyncio.sleep(0.1)


def _read_pid(pid_file: Path) -> int | None:
    try:
        first = pid_file.read_text().split("\n", 1)[0].strip()
    except OSError:
        return None
    return int(first) if first.isdigit() else None
