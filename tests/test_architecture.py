"""The dependency rule (the import-linter contracts in pyproject.toml) holds, and it bites: the same
contracts, evaluated on a copy of the code with one wrong-way import added, are broken.
Store functions leave the unit of work to the service layer, and metering's return typed rows."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("services", "ratelimiter", "devstack")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_code_keeps_every_contract() -> None:
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " BROKEN" not in result.stdout


@pytest.fixture(scope="module")
def copy_of_the_code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("code")
    shutil.copy(REPO / "pyproject.toml", root)
    for package in PACKAGES:
        shutil.copytree(REPO / package, root / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "dashboard", "*.sql"))
    return root


@pytest.mark.parametrize(("module", "wrong_import", "contract"), [
    ("services/billing/transport/wrong.py", "from services.metering.transport import guard",
     "No other context imports metering's transport"),
    ("services/metering/service/wrong.py", "from services.reporting.transport import http_api",
     "No other context imports reporting's transport"),
    ("services/billing/service/wrong.py", "from services.app import config",
     "Product contexts, the kit and the schema never import the composition root"),
    ("services/kit/wrong.py", "from services.metering.domain import credits",
     "The kit imports no product context"),
    ("services/metering/store/wrong.py", "from services.metering.service import metering",
     "Inside each context: domain -> store -> service -> transport"),
    ("services/reporting/store/wrong.py", "from services.metering.service import metering",
     "Across contexts too, a lower layer never imports a higher one"),
    ("services/reporting/domain/wrong.py", "import asyncpg",
     "Domains are pure: no store, no driver, no protocol"),
    ("services/app/wrong.py", "from devstack import ports", "Only services.app.dev imports devstack"),
    ("services/metering/service/wrong.py", "from devstack import ports",
     "Only services.app.dev imports devstack"),
    ("services/schema/wrong.py", "from services.kit import decimals", "The schema imports nothing of ours"),
    ("ratelimiter/wrong.py", "from services.metering.domain import credits",
     "The rate limiter imports nothing of services but the kit"),
])
def test_a_wrong_way_import_breaks_its_contract(copy_of_the_code: Path, module: str, wrong_import: str,
                                                 contract: str) -> None:
    path = copy_of_the_code / module
    path.write_text(f"{wrong_import}  # noqa: F401\n")
    try:
        result = lint_imports(copy_of_the_code)
    finally:
        path.unlink()
    assert result.returncode != 0, result.stdout
    assert f"{contract} BROKEN" in result.stdout, result.stdout
    assert module.removesuffix(".py").replace("/", ".") in result.stdout, result.stdout


def test_store_functions_never_open_a_transaction() -> None:
    """The service layer owns the unit of work; a store function only takes the connection."""
    opened = []
    for path in sorted(Path(__file__).resolve().parents[1].glob("services/*/store/*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "transaction":
                opened.append(f"{path.name}:{node.lineno}")
    assert opened == []


def _field_errors() -> set[str]:
    """The names of the errors that answer a request field (FieldError and its subclasses)."""
    from services.kit import errors

    return {name for name, value in vars(errors).items()
            if isinstance(value, type) and issubclass(value, errors.FieldError)}


def test_store_functions_raise_no_field_errors() -> None:
    """Validation and "not found" belong to inputs, domain and services: a store function returns
    None or a typed result and the service maps it to the error naming the field."""
    field_errors = _field_errors()
    raising: list[str] = []
    for path in sorted(REPO.glob("services/*/store/*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and node.exc is not None:
                raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                if isinstance(raised, ast.Name) and raised.id in field_errors:
                    raising.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert raising == []


# "context/store/module.py:function" -> why it still returns asyncpg.Record. Entries may only be removed.
RECORD_RETURNS_ALLOWED: dict[str, str] = {}


def _names_a_record(annotation: ast.expr) -> bool:
    """Whether an annotation mentions asyncpg.Record anywhere: bare, | None, Optional[...], or inside
    list, tuple, dict or any other subscript; a quoted annotation is read as the code it quotes."""
    for node in ast.walk(annotation):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and _names_a_record(ast.parse(node.value, mode="eval").body):
            return True
        if isinstance(node, ast.Attribute) and node.attr == "Record" \
                and isinstance(node.value, ast.Name) and node.value.id == "asyncpg":
            return True
        if isinstance(node, ast.Name) and node.id == "Record":
            return True
    return False


def _record_returns(paths: list[Path], root: Path) -> set[str]:
    found = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_") \
                    and node.returns is not None and _names_a_record(node.returns):
                found.add(f"{path.relative_to(root)}:{node.name}")
    return found


def test_store_functions_return_typed_rows() -> None:
    """A public store function returns frozen dataclasses or domain values, never the driver's
    rows: callers read named, typed fields."""
    paths = sorted(REPO.glob("services/*/store/*.py"))
    assert paths
    found = _record_returns(paths, REPO / "services")
    assert found - RECORD_RETURNS_ALLOWED.keys() == set()
    assert RECORD_RETURNS_ALLOWED.keys() - found == set(), "converted since: remove from the allow-set"


@pytest.mark.parametrize("returns", [
    "asyncpg.Record", "asyncpg.Record | None", "Optional[asyncpg.Record]", "list[asyncpg.Record]",
    "tuple[list[asyncpg.Record], list[asyncpg.Record]]", "dict[str, asyncpg.Record]", "'asyncpg.Record'",
])
def test_the_typed_rows_check_finds_a_record_return(tmp_path: Path, returns: str) -> None:
    store = tmp_path / "store.py"
    store.write_text(f"import asyncpg\n\n\nasync def read(conn: asyncpg.Connection) -> {returns}:\n"
                     "    return await conn.fetchrow('SELECT 1')\n\n\n"
                     "def _row(row: asyncpg.Record) -> asyncpg.Record:\n    return row\n")
    assert _record_returns([store], tmp_path) == {"store.py:read"}
