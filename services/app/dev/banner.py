"""What `metering dev` prints once everything is up: where each part listens and what to try first."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from devstack.companions import Companion
from devstack.home import KEYS_FILE
from services.app.config import ServerConfig
from services.app.dev.keys import PEOPLE_ROLES, person_entry, read_keys
from services.app.dev.seed import DEMO_ORGANIZATIONS

READY_LINE = "metering dev is ready; Ctrl-C stops everything."


@dataclass(frozen=True)
class Running:
    home: Path
    database_url: str
    redis_url: str
    grpc_addr: str
    env: Mapping[str, str]
    started: Sequence[Companion] = ()
    notices: list[str] = field(default_factory=list)


def print_ready(console: Console, running: Running) -> None:
    home = escape(str(running.home))
    console.print(f"[bold green]metering dev[/] is up. Data in [bold]{home}[/] "
                  f"(logs in {home}/logs; start over with [bold]metering dev --fresh[/])")
    for notice in running.notices:
        console.print(f"[yellow]note:[/] {escape(notice)}")
    _row(console, "PostgreSQL", running.database_url)
    _row(console, "Redis", running.redis_url)
    _row(console, "metering gRPC", f"{running.grpc_addr}  (metering.v1.MeteringService)")
    http = running.env.get("METERING_HTTP_ADDR") or ServerConfig.http_addr
    _row(console, "usage API", f"http://{http}/api/v1  (OpenAPI: /api/v1/openapi.json)")
    _row(console, "billing page", f"http://{http}/dashboard/admin/billing  (add #key=<API key>)")
    for companion in running.started:
        addrs = [f"{listener.label} {listener.addr(running.env)}" for listener in companion.listeners]
        _row(console, companion.name, ", ".join(addrs) or "running")
    for demo in DEMO_ORGANIZATIONS:
        _row(console, "demo org", f"{demo.organization.org_id}: {demo.summary}")
    _row(console, "API keys", f"{running.home / KEYS_FILE} (a service key per demo org, the demo org's "
                              f"tenant admin and billing contact keys, and a platform admin key; "
                              f"`metering call` and `metering keys` pick them up)")
    _print_demo_keys(console, running, http)
    console.print("Try:")
    command = _addr_prefix(running.grpc_addr) + _metering_command()
    console.print(f"  {command} call deduct --org demo --amount 5", markup=False)
    console.print(f"  {command} call quota --org demo", markup=False)
    console.print(READY_LINE, markup=False)


# What each printed key of the demo organization is for.
KEY_USES = {
    "demo key": "service role: RecordUsage, Deduct, GetQuota from your own code; "
                "send as 'authorization: Bearer <key>'",
    "tenant_admin": "tenant admin: the whole billing page and /api/v1, quotas and plan change requests",
    "billing_contact": "billing contact: invoices, payment methods, costs and budget alerts",
}


def _print_demo_keys(console: Console, running: Running, http: str) -> None:
    keys = read_keys(running.home / KEYS_FILE)
    org_id = DEMO_ORGANIZATIONS[0].organization.org_id
    if keys.get(org_id):
        _row(console, "demo key", f"{keys[org_id]}  ({KEY_USES['demo key']} of {org_id})")
    for role in PEOPLE_ROLES:
        token = keys.get(person_entry(org_id, role))
        if token:
            _row(console, role.value.replace("_", " "), f"{token}  ({KEY_USES[role.value]} of {org_id})")
    admin = keys.get(person_entry(org_id, PEOPLE_ROLES[0]))
    if admin:
        _row(console, "open", f"http://{http}/dashboard/admin/billing#key={admin}")


def _row(console: Console, label: str, value: str, *, markup: bool = False) -> None:
    shown = value if markup else escape(value)
    console.print(f"  [cyan]{label:<14}[/] {shown}")


def _metering_command() -> str:
    """`metering` when that is this program on PATH, else its path (e.g. .venv/bin/metering)."""
    ours = Path(sys.executable).parent / "metering"
    on_path = shutil.which("metering")
    if not ours.is_file() or (on_path is not None and Path(on_path).resolve() == ours.resolve()):
        return "metering"
    return os.path.relpath(ours) if ours.is_relative_to(Path.cwd()) else str(ours)


def _addr_prefix(grpc_addr: str) -> str:
    return "" if grpc_addr == ServerConfig.grpc_addr else f"METERING_GRPC_ADDR={grpc_addr} "
