"""Who runs the embedded PostgreSQL: the current user, or a system user of its own when that is root.

PostgreSQL refuses to run as root (CI and containers often are root), so `metering dev` then creates
an unprivileged system user, hands it the PostgreSQL data folder, and makes sure it can reach that
folder and the PostgreSQL binaries (search permission only, on the folders on the way that lack it).
"""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from devstack.errors import DevError

SERVICE_USER = "metering-dev"


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int


def postgres_account() -> Account | None:
    """None when the current user may run PostgreSQL itself; else the system user to run it as."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        entry = _create_system_user(SERVICE_USER)
    return Account(entry.pw_name, entry.pw_uid, entry.pw_gid)


def _create_system_user(name: str) -> pwd.struct_passwd:
    command = ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
               "--shell", "/usr/sbin/nologin", name]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise DevError(f"running as root, but `useradd` is missing to create the user {name!r} that "
                       f"PostgreSQL runs as; run `metering dev` as an ordinary user instead") from None
    except subprocess.CalledProcessError as error:
        detail = (error.stderr or "").strip().splitlines()
        raise DevError(f"cannot create the system user {name!r} for PostgreSQL: "
                       f"{detail[-1] if detail else error}") from None
    return pwd.getpwnam(name)


def give_to(account: Account | None, folder: Path) -> None:
    """Makes `account` the owner of everything in `folder` (no-op when running as ourselves)."""
    if account is None:
        return
    for path in [folder, *folder.rglob("*")]:
        if path.lstat().st_uid != account.uid:
            os.lchown(path, account.uid, account.gid)


def make_reachable(account: Account | None, *targets: Path) -> list[Path]:
    """Grants others search (x, not read) permission on the folders leading to each target that
    lack it, so the PostgreSQL user can reach them; returns the folders changed."""
    if account is None:
        return []
    changed: list[Path] = []
    for target in targets:
        for folder in reversed(target.resolve().parents):
            mode = folder.stat().st_mode
            if not mode & stat.S_IXOTH:
                folder.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
                changed.append(folder)
    return changed
