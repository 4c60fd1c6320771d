"""grpc's helper threads under SCHED_BATCH, the event loop's thread under the default policy.

Each case runs in a child process: the policy of this test process's own threads stays as it was.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="Linux scheduling policies")


def _run(code: str) -> dict[str, int]:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=30, check=True, cwd=Path(__file__).parents[1])
    result: dict[str, int] = json.loads(done.stdout)
    return result


def test_every_thread_but_the_callers_is_marked_batch() -> None:
    seen = _run("""
        import json, os, threading
        from services.kit.loop_thread import batch_helper_threads
        done = threading.Event()
        helpers = [threading.Thread(target=done.wait) for _ in range(3)]
        for helper in helpers:
            helper.start()
        marked = batch_helper_threads()
        policies = [os.sched_getscheduler(helper.native_id) for helper in helpers]
        done.set()
        print(json.dumps({"marked": marked, "batch": sum(p == os.SCHED_BATCH for p in policies),
                          "own": os.sched_getscheduler(threading.get_native_id())}))
    """)
    assert seen["marked"] >= 3
    assert seen["batch"] == 3
    assert seen["own"] == os.SCHED_OTHER


def test_threads_started_by_a_marked_thread_inherit_the_policy_and_the_callers_do_not() -> None:
    seen = _run("""
        import json, os, threading
        from services.kit.loop_thread import batch_helper_threads
        start, done = threading.Event(), threading.Event()
        policies = {}

        def spawner():
            start.wait()
            child = threading.Thread(target=lambda: policies.update(
                from_helper=os.sched_getscheduler(threading.get_native_id())))
            child.start()
            child.join()

        helper = threading.Thread(target=spawner)
        helper.start()
        batch_helper_threads()
        start.set()
        helper.join()
        later = threading.Thread(target=lambda: policies.update(
            from_loop=os.sched_getscheduler(threading.get_native_id())))
        later.start()
        later.join()
        print(json.dumps(policies))
    """)
    assert seen == {"from_helper": os.SCHED_BATCH, "from_loop": os.SCHED_OTHER}


def test_a_process_with_no_other_thread_marks_none() -> None:
    seen = _run("""
        import json
        from services.kit.loop_thread import batch_helper_threads
        print(json.dumps({"marked": batch_helper_threads()}))
    """)
    assert seen == {"marked": 0}


def test_a_refusal_is_logged_and_leaves_every_thread_as_it_was() -> None:
    seen = _run("""
        import errno, json, logging, os, threading
        from services.kit import loop_thread
        records = []
        logging.basicConfig(level=logging.WARNING, handlers=[logging.Handler()])
        logging.getLogger().handlers[0].emit = records.append

        def refuse(*args):
            raise OSError(errno.EINVAL, "Invalid argument")

        os.sched_setscheduler = refuse  # a sandbox that does not allow the call
        done = threading.Event()
        helper = threading.Thread(target=done.wait)
        helper.start()
        marked = loop_thread.batch_helper_threads()
        policy = os.sched_getscheduler(helper.native_id)
        done.set()
        print(json.dumps({"marked": marked, "policy": policy,
                          "warned": sum("default scheduling policy" in r.getMessage() for r in records)}))
    """)
    assert seen == {"marked": 0, "policy": os.SCHED_OTHER, "warned": 1}
