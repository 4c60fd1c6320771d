"""The event loop a process runs on: uvloop by default, asyncio's own on request.

uvloop (libuv) runs the same asyncio code with a cheaper loop iteration, and a gRPC call through
grpc.aio and asyncpg takes a dozen or more of them: GetQuota and a bare grpc echo call take 10-15 %
less server CPU on it (docs/benchmarks.md). asyncio's loop remains available for a platform
without uvloop's wheels, or to rule the loop out while investigating.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

from services.kit.config import ConfigError

T = TypeVar("T")
LOOPS = ("uvloop", "asyncio")


def loop_named(env: Mapping[str, str], name: str) -> str:
    """The loop the variable `name` asks for; unset or empty: uvloop where it is installed (it is
    a dependency wherever it has wheels), else asyncio."""
    chosen = env.get(name, "").strip().lower()
    if chosen and chosen not in LOOPS:
        raise ConfigError(f"{name} must be one of {', '.join(LOOPS)}, got {chosen!r}")
    if chosen in ("", "uvloop") and importlib.util.find_spec("uvloop") is None:
        if chosen:
            raise ConfigError(f"{name}=uvloop: uvloop is not installed (pip install uvloop, "
                              f"or set {name}=asyncio)")
        return "asyncio"
    return chosen or "uvloop"


def run(main: Coroutine[Any, Any, T], loop: str) -> T:
    """Runs `main` to completion on a new event loop of the kind `loop` (one of LOOPS)."""
    if loop == "uvloop":
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)


def running_loop() -> str:
    """The kind (one of LOOPS) of the loop running the caller."""
    return "uvloop" if type(asyncio.get_running_loop()).__module__.startswith("uvloop") else "asyncio"
