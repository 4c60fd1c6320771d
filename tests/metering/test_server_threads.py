"""A running server keeps its event loop's thread under the default scheduling policy and runs
grpc's helper threads under SCHED_BATCH, unless told not to."""

from __future__ import annotations

import os

import pytest

from tests.metering.conftest import start_server
from tests.thread_policies import loop_and_helper_policies, thread_policies

pytestmark = pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="Linux scheduling policies")


def test_grpc_helper_threads_run_batch_and_the_loop_thread_does_not(database_url: str) -> None:
    _, proc = start_server(database_url)
    try:
        loop, helpers = loop_and_helper_policies(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert loop == os.SCHED_OTHER
    assert len(helpers) >= 2  # grpc's poller and event engine at least
    assert set(helpers) == {os.SCHED_BATCH}


def test_turned_off_every_thread_keeps_the_default_policy(database_url: str) -> None:
    _, proc = start_server(database_url, METERING_BATCH_HELPER_THREADS="off")
    try:
        policies = thread_policies(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert set(policies.values()) == {os.SCHED_OTHER}
