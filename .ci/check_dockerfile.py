"""Checks the Dockerfile without a Docker engine (run by .ci/k8s-check in its tools virtualenv).

- it parses (dockerfile-parse), is multi-stage, and every stage starts FROM python:3.11-slim
  (or an earlier stage);
- the final stage runs as a non-root USER;
- every ENTRYPOINT/CMD is in exec form and the program it runs is a console script of
  pyproject.toml's [project.scripts];
- every COPY/ADD source from the build context exists in the repository and is not excluded by
  .dockerignore (for a folder: none of its git-tracked files is);
- the package is installed with `pip install .` and without the dev/local extras;
- no ENV/ARG names a secret, and no .env file or key is copied in.

Prints one line per check; exits 1 when any fails.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from dockerfile_parse import DockerfileParser  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
BASE_IMAGE = "python:3.11-slim"
SECRET_NAME = re.compile(r"(?i)(secret|password|passwd|token|api_key|apikey|private_key|database_url|"
                         r"redis_url|stripe)")
FORBIDDEN_EXTRAS = ("dev", "local")


@dataclass
class Report:
    failures: list[str] = field(default_factory=list)

    def check(self, ok: bool, what: str) -> None:
        print(f"   {'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            self.failures.append(what)


@dataclass(frozen=True)
class Instruction:
    stage: int
    line: int
    name: str
    value: str


def instructions(path: Path) -> list[Instruction]:
    parser = DockerfileParser(path=str(path))
    result: list[Instruction] = []
    stage = -1
    for item in parser.structure:
        name = str(item["instruction"]).upper()
        if name == "COMMENT":
            continue
        if name == "FROM":
            stage += 1
        result.append(Instruction(stage, int(item["startline"]) + 1, name, str(item["value"])))
    return result


def console_scripts() -> set[str]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        project = tomllib.load(handle)["project"]
    return set(project.get("scripts", {}))


def docker_pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex over slash-separated context paths (moby's rules)."""
    out = ""
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                i += 1
                out += "(?:.*/)?"
            else:
                out += ".*"
            continue
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out += re.escape(char)
            else:
                out += pattern[i:end + 1]
                i = end
        else:
            out += re.escape(char)
        i += 1
    return re.compile(f"^{out}$")


def dockerignore() -> list[tuple[bool, re.Pattern[str]]]:
    path = ROOT / ".dockerignore"
    rules: list[tuple[bool, re.Pattern[str]]] = []
    if not path.exists():
        return rules
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        line = line[1:].strip() if negated else line
        line = line.strip("/")
        line = re.sub(r"/+", "/", line)
        if line:
            rules.append((negated, docker_pattern(line)))
    return rules


def ignored(rel: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Docker's semantics: the last rule matching the path or one of its parent folders wins."""
    parts = rel.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    excluded = False
    for negated, regex in rules:
        if any(regex.match(candidate) for candidate in candidates):
            excluded = not negated
    return excluded


def tracked_files(rel: str) -> list[str]:
    result = subprocess.run(["git", "ls-files", "--", rel], cwd=ROOT, capture_output=True, text=True,
                            check=True)
    return [line for line in result.stdout.splitlines() if line]


def copy_sources(value: str) -> tuple[list[str], bool]:
    """The sources of a COPY/ADD (exec or shell form) and whether it copies from another stage."""
    words = [str(w) for w in json.loads(value)] if value.lstrip().startswith("[") else shlex.split(value)
    from_stage = any(w.startswith("--from=") for w in words)
    args = [w for w in words if not w.startswith("--")]
    return args[:-1], from_stage


def exec_form(value: str) -> list[str] | None:
    if not value.lstrip().startswith("["):
        return None
    try:
        words = json.loads(value)
    except json.JSONDecodeError:
        return None
    return [str(w) for w in words] if isinstance(words, list) else None


def main() -> int:
    report = Report()
    dockerfile = ROOT / "Dockerfile"
    report.check(dockerfile.exists(), "Dockerfile exists at the top level")
    if not dockerfile.exists():
        return 1
    steps = instructions(dockerfile)
    report.check(bool(steps) and steps[0].name == "FROM", "Dockerfile parses and starts with FROM")

    froms = [s for s in steps if s.name == "FROM"]
    stage_names: set[str] = set()
    report.check(len(froms) >= 2, f"multi-stage build ({len(froms)} stages)")
    for step in froms:
        words = step.value.split()
        image = words[0]
        if len(words) >= 3 and words[1].upper() == "AS":
            stage_names.add(words[2])
        report.check(image == BASE_IMAGE or image in stage_names,
                     f"line {step.line}: FROM {image} is {BASE_IMAGE} or an earlier stage")

    last = len(froms) - 1
    users = [s for s in steps if s.stage == last and s.name == "USER"]
    final_user = users[-1].value.split(":")[0].strip() if users else "root"
    report.check(final_user not in {"root", "0"}, f"final stage runs as a non-root USER ({final_user})")

    scripts = console_scripts()
    report.check(bool(scripts), f"pyproject.toml declares console scripts ({', '.join(sorted(scripts))})")
    for stage in range(len(froms)):
        entry = [s for s in steps if s.stage == stage and s.name == "ENTRYPOINT"]
        cmds = [s for s in steps if s.stage == stage and s.name == "CMD"]
        for step in entry + cmds:
            program = exec_form(step.value)
            report.check(bool(program),
                         f"line {step.line}: {step.name} is in exec form")
            if not program:
                continue
            if step.name == "CMD" and entry:
                continue  # arguments to the ENTRYPOINT, which is checked itself
            report.check(program[0] in scripts,
                         f"line {step.line}: {step.name} runs {program[0]!r}, a [project.scripts] entry")
    final_runs = [s for s in steps if s.stage == last and s.name in {"ENTRYPOINT", "CMD"}]
    report.check(bool(final_runs), "the final stage has a CMD or ENTRYPOINT")

    rules = dockerignore()
    for step in steps:
        if step.name not in {"COPY", "ADD"}:
            continue
        sources, from_stage = copy_sources(step.value)
        if from_stage:
            continue
        for source in sources:
            rel = source.lstrip("./") if source not in {".", "./"} else "."
            matches = sorted(ROOT.glob(rel)) if any(c in rel for c in "*?[") else [ROOT / rel]
            exists = bool(matches) and all(m.exists() for m in matches)
            report.check(exists, f"line {step.line}: {step.name} source {source} exists")
            if not exists or rel == ".":
                continue
            for match in matches:
                match_rel = match.relative_to(ROOT).as_posix()
                files = tracked_files(match_rel) if match.is_dir() else [match_rel]
                lost = [f for f in files if ignored(f, rules)]
                report.check(not ignored(match_rel, rules) and not lost and bool(files),
                             f"line {step.line}: {match_rel} ({len(files)} tracked files) survives "
                             f".dockerignore" + (f" (excluded: {', '.join(lost[:3])})" if lost else ""))
            report.check(not re.search(r"(^|/)\.env|\.pem$|\.key$|id_rsa", rel),
                         f"line {step.line}: {source} is no secret file")

    runs = " && ".join(s.value for s in steps if s.name == "RUN")
    installs = re.findall(r"pip install\s+([^&;|]*)", runs)
    report.check(any(re.search(r"(^|\s)\.(\s|$)", args) for args in installs),
                 "the package is installed with `pip install .`")
    extras = [args for args in installs
              if re.search(r"\.\[[^\]]*\b(" + "|".join(FORBIDDEN_EXTRAS) + r")\b", args)]
    report.check(not extras, "no dev/local extras are installed")

    for step in steps:
        if step.name not in {"ENV", "ARG"}:
            continue
        names = re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)(?==|\s|$)", step.value)
        secret = [n for n in names if SECRET_NAME.search(n)]
        report.check(not secret, f"line {step.line}: {step.name} {', '.join(names)} names no secret")

    if report.failures:
        print(f"Dockerfile: {len(report.failures)} check(s) failed")
        return 1
    print("Dockerfile: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
