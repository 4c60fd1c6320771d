from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests import stores
from tests.ratelimiter.harness import Sidecar, delete_prefix, unique_prefix


@pytest.fixture(scope="session", autouse=True)
def _local_redis_is_up() -> None:
    if not stores.redis_answers(stores.redis_url()):
        pytest.fail(f"these tests need Redis at {stores.redis_url()} ({stores.REDIS_URL})")


@pytest.fixture
def prefix(request: pytest.FixtureRequest) -> Iterator[str]:
    """This test's own key prefix on the machine's Redis; its keys are deleted afterwards."""
    own = unique_prefix(request.node.name[:40])
    yield own
    delete_prefix(stores.redis_url(), own)


@pytest.fixture
def start_sidecar(tmp_path: Path) -> Iterator[Callable[..., Sidecar]]:
    """Starts sidecar subprocesses; stops them all at the end of the test."""
    started: list[Sidecar] = []

    def start(prefix: str, **kwargs: object) -> Sidecar:
        sidecar = Sidecar(prefix=prefix, **kwargs)  # type: ignore[arg-type]
        started.append(sidecar)
        return sidecar.start(tmp_path)

    yield start
    for sidecar in started:  # all at once: each takes a moment to drain
        if sidecar.process is not None and sidecar.process.poll() is None:
            sidecar.process.terminate()
    for sidecar in started:
        sidecar.stop()


@pytest.fixture
def sidecar(prefix: str, start_sidecar: Callable[..., Sidecar]) -> Sidecar:
    """One sidecar with the built-in limits and this test's key prefix."""
    return start_sidecar(prefix)
