"""How busy the calling thread is: the share of wall time it ran on a CPU or waited for one."""

from __future__ import annotations

import time
from pathlib import Path

# Linux: the thread's time on a CPU and its time waiting in a run queue, in nanoseconds.
_SCHEDSTAT = Path("/proc/thread-self/schedstat")


def _demand_seconds() -> float:
    """The calling thread's time on a CPU plus its time runnable but waiting for one; where the
    kernel does not say (not Linux), its time on a CPU."""
    try:
        on_cpu, waiting, _ = _SCHEDSTAT.read_text().split()
    except (OSError, ValueError):
        return time.thread_time()
    return (int(on_cpu) + int(waiting)) / 1e9


class ThreadLoad:
    """The load of the one thread that asks (an event loop's): the share of wall time it ran or
    waited to run, over the last window of at least `window` seconds. A thread that always has
    work reads about 1 however many other processes share its CPUs; an idle one reads 0."""

    def __init__(self, window: float = 0.05) -> None:
        self._window = window
        self._at = time.monotonic()
        self._demand = _demand_seconds()
        self._share = 0.0

    def share(self) -> float:
        now = time.monotonic()
        if now - self._at >= self._window:
            demand = _demand_seconds()
            self._share = (demand - self._demand) / (now - self._at)
            self._at, self._demand = now, demand
        return self._share
