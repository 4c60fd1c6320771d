"""Keeping a server's event-loop thread on its CPU while grpc's own threads wake around it.

A grpc.aio server runs every handler, and asyncpg, on one thread: the event loop's. grpc's C core
runs threads of its own beside it (its completion-queue poller and its event engine), which wake
for every message. Under the kernel's default policy a thread that wakes may preempt the one
running, so under load the loop's thread was preempted four to five times per call, each time
paying a context switch and coming back to a cold cache. A thread marked `SCHED_BATCH` still runs
at once on an idle CPU, but waking does not let it preempt another thread: it waits for the
scheduler's tick instead (sched(7)). No privilege is needed to mark one's own threads so.

Threads inherit their creator's policy, so the threads grpc starts later from the marked ones
are marked too; threads the loop's thread starts later (an executor's) are not.
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger(__name__)


def batch_helper_threads() -> int:
    """Marks every thread of this process but the caller's `SCHED_BATCH`; returns how many it
    marked. Call it from the event loop's thread once the server has started (its helper threads
    exist by then). Where the platform has no such policy it returns 0; where the kernel refuses
    it (a sandbox forbidding the call), it logs a warning and stops: the server runs on as before."""
    policy = getattr(os, "SCHED_BATCH", None)
    if policy is None or not os.path.isdir("/proc/self/task"):
        return 0
    own = threading.get_native_id()
    marked = 0
    for entry in os.listdir("/proc/self/task"):
        thread_id = int(entry)
        if thread_id == own:
            continue
        try:
            os.sched_setscheduler(thread_id, policy, os.sched_param(0))
        except ProcessLookupError:
            continue  # ended since the listing
        except OSError as error:  # refused (a sandbox's seccomp rules, say): a hint, never fatal
            log.warning("helper threads keep the default scheduling policy: %s", error)
            return marked
        marked += 1
    return marked

