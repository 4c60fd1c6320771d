"""Debian's chromium, which the browser tests drive through playwright (no browser download)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

INSTALL_HINT = "the browser tests need Debian's chromium: sudo apt-get install chromium"


def find_or_install() -> str:
    """chromium on PATH; else, when we are root with apt-get, installed now; else one line saying how."""
    found = shutil.which("chromium")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        _apt_get_install("chromium")
        found = shutil.which("chromium")
    if found is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    return found


def _apt_get_install(package: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", package]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            pytest.fail(f"{' '.join(command)} failed ({lines[-1] if lines else done.returncode}); "
                        f"{INSTALL_HINT}", pytrace=False)
