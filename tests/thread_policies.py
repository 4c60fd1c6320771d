"""The scheduling policy of each thread of a process, as the kernel reports it."""

from __future__ import annotations

from pathlib import Path


def thread_policies(pid: int) -> dict[int, int]:
    """Each thread's policy (os.SCHED_OTHER, os.SCHED_BATCH, …) by thread id, from field 41 of
    /proc/<pid>/task/<tid>/stat."""
    policies = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        policies[int(task.name)] = int(fields[38])
    return policies


def loop_and_helper_policies(pid: int) -> tuple[int, list[int]]:
    """The policy of a server process's own (event loop's) thread, and those of its other threads."""
    policies = thread_policies(pid)
    return policies.pop(pid), list(policies.values())
