"""The other processes of the system that `metering dev` runs beside the metering server.

Each is pointed at the embedded stores, waited for until it listens, and stopped with SIGTERM
before the stores are.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from devstack.errors import DevError
from devstack.ports import accepts_tcp, ensure_free
from devstack.processes import Child, start_child, wait_until

START_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Stores:
    database_url: str
    redis_url: str


@dataclass(frozen=True)
class Listener:
    label: str
    setting: str
    default: str

    def addr(self, env: Mapping[str, str]) -> str:
        return env.get(self.setting) or self.default


@dataclass(frozen=True)
class Companion:
    name: str
    command: tuple[str, ...]
    """Console script and its arguments."""
    environment: Callable[[Stores], dict[str, str]]
    listeners: tuple[Listener, ...] = ()

    def check_ports(self, env: Mapping[str, str]) -> None:
        for listener in self.listeners:
            ensure_free(listener.addr(env), listener.setting)

    async def start(self, stores: Stores, log_path: Path) -> Child:
        # Plain tracebacks: the log is a file, and its last line then names the error in full.
        env = {"TYPER_STANDARD_TRACEBACK": "1", **os.environ, **self.environment(stores)}
        child = await start_child(self.name, [_script(self.command[0]), *self.command[1:]], log_path,
                                  env=env)
        if self.listeners:
            first = self.listeners[0].addr(env)
            try:
                await wait_until(lambda: accepts_tcp(first), child, START_TIMEOUT_SECONDS)
            except BaseException:
                await child.stop()
                raise
        return child


def _script(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.is_file() else shutil.which(name)
    if found is None:
        raise DevError(f"the console script {name!r} is not installed; reinstall the project "
                       f"(pip install -e '.[local]')")
    return found


RATE_LIMITER = Companion(
    name="rate limiter",
    command=("ratelimiter", "serve"),
    environment=lambda stores: {"RATELIMITER_REDIS_URL": stores.redis_url},
    listeners=(Listener("gRPC", "RATELIMITER_GRPC_ADDR", "127.0.0.1:50052"),
               Listener("HTTP", "RATELIMITER_HTTP_ADDR", "127.0.0.1:8081")),
)

# The billing worker runs against the bundled Stripe test server (never the real Stripe), which it
# serves itself on METERING_STRIPE_TEST_SERVER.
STRIPE_TEST_SERVER = Listener("Stripe test server", "METERING_STRIPE_TEST_SERVER", "127.0.0.1:12111")
STRIPE_TEST_KEY = "sk_test_metering_dev"
BILLING_WORKER = Companion(
    name="billing worker",
    command=("metering", "worker"),
    environment=lambda stores: {
        "METERING_DATABASE_URL": stores.database_url,
        "STRIPE_API_KEY": STRIPE_TEST_KEY,
        "METERING_STRIPE_TEST_SERVER": STRIPE_TEST_SERVER.addr(os.environ),
    },
    listeners=(STRIPE_TEST_SERVER,),
)
COMPANIONS: tuple[Companion, ...] = (RATE_LIMITER, BILLING_WORKER)
