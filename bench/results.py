"""Dated benchmark results: a benchmark run with `--record` appends one entry (when, on what machine,
which code, its figures beside their ceilings) to `docs/benchmarks/<name>-results.md`."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"


@dataclass(frozen=True)
class Machine:
    """What skews every figure: how many cores there are and how busy they were."""

    cores: int
    load_before: float  # 1-minute load average when the run began
    load_after: float  # and when it ended (includes the benchmark itself)
    system: str

    @classmethod
    def measure(cls, load_before: float, load_after: float | None = None) -> Machine:
        """This machine; the load average at the end is read now unless given."""
        after = os.getloadavg()[0] if load_after is None else load_after
        return cls(os.cpu_count() or 1, load_before, after,
                   f"{platform.system()} {platform.release()} {platform.machine()}, "
                   f"Python {platform.python_version()}")


@dataclass(frozen=True)
class Entry:
    at: datetime
    machine: Machine
    code: str
    run: str  # the options the run was started with
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        m = self.machine
        lines = [
            f"## {self.at:%Y-%m-%d %H:%M} UTC, {m.cores} cores, "
            f"load {m.load_before:.2f} → {m.load_after:.2f}",
            "",
            f"- machine: {m.cores} cores, {m.system}; 1-minute load average {m.load_before:.2f} "
            f"before, {m.load_after:.2f} at the end",
            f"- code: {self.code}",
            f"- run: {self.run}",
            "",
            _row(self.columns),
            _row(tuple("---" for _ in self.columns)),
            *(_row(row) for row in self.rows),
        ]
        if self.notes:
            lines += ["", *(f"- {note}" for note in self.notes)]
        return "\n".join(lines) + "\n"


def append(entry: Entry, path: Path, title: str) -> Path:
    """Appends `entry` to the results file at `path` (newest last), creating it with `title`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or not path.read_text().strip():
        path.write_text(f"# {title}\n\nWritten by the benchmark itself (`--record`, on by default "
                        "in `make bench*`), newest last. What each figure means: "
                        "[../benchmarks.md](../benchmarks.md).\n")
    with path.open("a") as out:
        out.write("\n" + entry.markdown())
    return path


def code_version() -> str:
    """The commit measured, and whether services/ or ratelimiter/ had uncommitted changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "services", "ratelimiter"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{' + uncommitted changes' if dirty else ''}"


def now() -> datetime:
    return datetime.now(UTC)


def _row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
