"""The one loop behind every periodic background job (claims, sweeps, flushes, pushes).

A job runs every `every` seconds, or at once when its `wake` event is set. When it raises, the loop
waits longer after each consecutive failure (doubling, with jitter, up to a cap) instead of retrying
at its normal pace, and logs once per failure streak: one ERROR when the streak starts, one INFO
when the job succeeds again. A job's non-empty result (a count, or counts by name) is logged at INFO.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

MIN_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 60.0


def backoff_seconds(every: float, failures: int, cap: float = MAX_BACKOFF_SECONDS,
                    rng: random.Random | None = None) -> float:
    """The pause after the `failures`-th consecutive failure: max(every, 0.5 s) doubled per
    failure, never above max(cap, every), with jitter taking off up to half of it."""
    limit = max(cap, every)
    base = min(limit, max(every, MIN_BACKOFF_SECONDS) * 2.0 ** min(failures - 1, 30))
    jitter = (rng or random).uniform(0.5, 1.0)
    return base * jitter


async def run_periodically(what: str, job: Callable[[], Awaitable[object]], every: float,
                           stop: asyncio.Event | None = None, *, wake: asyncio.Event | None = None,
                           cap: float = MAX_BACKOFF_SECONDS, quiet: bool = False) -> None:
    """Runs `job` until `stop` is set (or the task is cancelled); `quiet` leaves its results unlogged."""
    stop = stop or asyncio.Event()
    failures = 0
    while not stop.is_set():
        if wake is not None:
            wake.clear()
        try:
            done = await job()
        except Exception as error:
            failures += 1
            if failures == 1:
                log.error("%s failing (%s: %s); backing off until it succeeds", what,
                          type(error).__name__, error, exc_info=error)
            await _pause(backoff_seconds(every, failures, cap), stop, None)
            continue
        if failures:
            log.info("%s succeeded again after %d failed attempts", what, failures)
            failures = 0
        if not quiet:
            _report(what, done)
        await _pause(every, stop, wake)


def _report(what: str, done: object) -> None:
    if isinstance(done, dict) and any(done.values()):
        log.info("%s: %s", what, dict(done))
    elif isinstance(done, int) and not isinstance(done, bool) and done:
        log.info("%s: %d", what, done)


async def _pause(seconds: float, stop: asyncio.Event, wake: asyncio.Event | None) -> None:
    """Sleeps `seconds`, ending early when `stop` (or `wake`) is set."""
    events = [stop] if wake is None else [stop, wake]
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
