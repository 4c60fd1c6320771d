"""Regenerates the Python protobuf/gRPC code from proto/ (the one command: `make proto`).

Generated code is fenced off in its own packages and never edited by hand:
  proto/metering/**            -> services/gen/metering/**
  proto/ratelimiter/**, envoy/** -> ratelimiter/gen/**
Absolute imports between generated modules are rewritten to live under those packages, so our
`envoy.*` subset never clashes with another distribution's top-level `envoy` package.

`python proto/generate.py --check` regenerates into a scratch folder and fails when the committed
code differs (CI runs it).
"""

from __future__ import annotations

import filecmp
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto"
# top-level proto package -> Python package that holds its generated code
TARGETS = {
    "metering": "services.gen",
    "ratelimiter": "ratelimiter.gen",
    "envoy": "ratelimiter.gen",
}
IMPORT = re.compile(r"^(\s*)(from|import) (" + "|".join(TARGETS) + r")([. ])", re.MULTILINE)


def _rewrite(text: str) -> str:
    return IMPORT.sub(lambda m: f"{m[1]}{m[2]} {TARGETS[m[3]]}.{m[3]}{m[4]}", text)


def generate(out_root: Path) -> None:
    import grpc_tools

    well_known = Path(grpc_tools.__file__).parent / "_proto"
    for top, package in TARGETS.items():
        sources = sorted(str(p.relative_to(PROTO)) for p in (PROTO / top).rglob("*.proto"))
        if not sources:
            continue
        dest = out_root / Path(*package.split("."))
        dest.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO}", f"-I{well_known}",
            f"--python_out={dest}", f"--pyi_out={dest}", f"--grpc_python_out={dest}", *sources,
        ]
        subprocess.run(cmd, check=True, cwd=PROTO)
    for path in out_root.rglob("*.py*"):
        if path.suffix in (".py", ".pyi"):
            path.write_text(_rewrite(path.read_text()))
    for package in set(TARGETS.values()):
        base = out_root / Path(*package.split("."))
        base.mkdir(parents=True, exist_ok=True)
        for folder in [base, *(p for p in base.rglob("*") if p.is_dir())]:
            (folder / "__init__.py").touch()


def _gen_dirs(root: Path) -> list[Path]:
    return [root / Path(*p.split(".")) for p in sorted(set(TARGETS.values()))]


def _differences(a: Path, b: Path) -> list[str]:
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__"])
    out = [str(a / n) for n in cmp.left_only + cmp.right_only + cmp.diff_files]
    for sub in cmp.common_dirs:
        out += _differences(a / sub, b / sub)
    return out


def main() -> int:
    check = "--check" in sys.argv[1:]
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch)
        generate(fresh)
        stale: list[str] = []
        for committed, new in zip(_gen_dirs(ROOT), _gen_dirs(fresh), strict=True):
            if check:
                stale += _differences(committed, new) if committed.exists() else [str(committed)]
            else:
                shutil.rmtree(committed, ignore_errors=True)
                shutil.copytree(new, committed)
    if stale:
        print("generated code is stale; run `make proto`:\n  " + "\n  ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
