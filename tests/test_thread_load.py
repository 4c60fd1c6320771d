"""A thread's load: the share of wall time it ran on a CPU or waited for one."""

from __future__ import annotations

import time

from services.kit.thread_load import ThreadLoad


def test_a_thread_that_always_has_work_reads_nearly_one() -> None:
    load = ThreadLoad(window=0.1)
    until = time.monotonic() + 0.15
    while time.monotonic() < until:
        pass
    assert load.share() > 0.7


def test_a_thread_that_sleeps_reads_nearly_zero() -> None:
    load = ThreadLoad(window=0.1)
    time.sleep(0.15)
    assert load.share() < 0.3


def test_the_share_is_that_of_the_last_whole_window() -> None:
    load = ThreadLoad(window=0.1)
    time.sleep(0.15)
    idle = load.share()
    until = time.monotonic() + 0.05
    while time.monotonic() < until:
        pass
    assert load.share() == idle  # the window since the last reading is not over yet
