"""The event loop a process runs on: uvloop unless asked otherwise, a wrong name refused."""

from __future__ import annotations

import pytest

from services.kit.config import ConfigError
from services.kit.event_loop import loop_named, run, running_loop


async def _running_loop() -> str:
    return running_loop()


def test_unset_or_empty_variable_means_uvloop() -> None:
    assert loop_named({}, "METERING_EVENT_LOOP") == "uvloop"
    assert loop_named({"METERING_EVENT_LOOP": " "}, "METERING_EVENT_LOOP") == "uvloop"


@pytest.mark.parametrize("value, loop", [("asyncio", "asyncio"), ("UVLOOP", "uvloop")])
def test_either_loop_can_be_asked_for_by_name(value: str, loop: str) -> None:
    assert loop_named({"METERING_EVENT_LOOP": value}, "METERING_EVENT_LOOP") == loop


def test_an_unknown_loop_is_refused_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="METERING_EVENT_LOOP must be one of uvloop, asyncio, got 'tokio'"):
        loop_named({"METERING_EVENT_LOOP": "tokio"}, "METERING_EVENT_LOOP")


def test_run_runs_the_coroutine_on_the_loop_asked_for() -> None:
    assert run(_running_loop(), "uvloop") == "uvloop"
    assert run(_running_loop(), "asyncio") == "asyncio"
