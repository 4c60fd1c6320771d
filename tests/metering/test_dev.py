"""`metering dev`, run as a real process: embedded stores, demo data, a gRPC round trip, clean stops."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest

from devstack.home import KEYS_FILE, DevHome
from devstack.ports import free_addr
from services.app.dev.banner import READY_LINE
from services.app.dev.keys import read_keys, token_for
from services.gen.metering.v1 import billing_pb2, billing_pb2_grpc
from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc

REPO = Path(__file__).resolve().parents[2]
PROJECT_METERING = Path(sys.executable).parent / "metering"
START_TIMEOUT = 120.0
STOP_TIMEOUT = 60.0


@dataclass
class Dev:
    """One `metering dev` process and what it printed."""

    process: subprocess.Popen[str]
    home: Path
    grpc_addr: str
    env: dict[str, str]
    stderr_path: Path
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    stdout: list[str] = field(default_factory=list)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            self.stdout.append(line)
            if READY_LINE in line:
                return
        self.process.kill()
        pytest.fail(f"metering dev did not become ready:\n{''.join(self.stdout)}\n{self.stderr()}")

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def interrupt(self, sig: signal.Signals = signal.SIGINT) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=STOP_TIMEOUT)


def start_dev(metering: Path, home: Path, env: dict[str, str], *args: str) -> Dev:
    stderr_path = home.parent / f"dev-{uuid.uuid4().hex[:6]}.stderr"
    process = subprocess.Popen([str(metering), "dev", "--home", str(home), *args], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=stderr_path.open("w"))
    dev = Dev(process, home, env["METERING_GRPC_ADDR"], env, stderr_path)
    threading.Thread(target=_pump, args=(process, dev.lines), daemon=True).start()
    dev.wait_ready()
    return dev


def _pump(process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.put(line)
    lines.put(None)


def dev_env() -> dict[str, str]:
    """Free ports for everything that listens on TCP, so the tests run beside anything else."""
    return {**os.environ,
            "METERING_GRPC_ADDR": free_addr(),
            "RATELIMITER_GRPC_ADDR": free_addr(),
            "RATELIMITER_HTTP_ADDR": free_addr(),
            "METERING_HTTP_ADDR": free_addr(),
            "METERING_STRIPE_TEST_SERVER": free_addr()}


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def processes_mentioning(text: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in command and alive(int(cmdline.parent.name)):
            found.append(command)
    return found


def stop_and_check(dev: Dev, home: Path, sig: signal.Signals = signal.SIGINT, code: int = 0) -> None:
    """SIGINT: exit 0, and no process it started (stores, sidecar, backends) is left running."""
    started = descendants(dev.process.pid)
    assert len(started) >= 2, "expected at least PostgreSQL and Redis as children"
    assert dev.interrupt(sig) == code, dev.stderr()
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in started if alive(pid)] == []
    assert processes_mentioning(str(home)) == []
    assert "Traceback" not in dev.stderr()


def call(dev: Dev, method: str, request: Any) -> Any:
    """One RPC with the demo organization's API key that `metering dev` keeps in its data folder."""
    token = token_for(read_keys(dev.home / KEYS_FILE), request.org_id)
    assert token, "metering dev wrote no API key for the demo organizations"
    with grpc.insecure_channel(dev.grpc_addr) as channel:
        stub = pb_grpc.MeteringServiceStub(channel)  # type: ignore[no-untyped-call]
        return getattr(stub, method)(request, timeout=10, metadata=[("authorization", f"Bearer {token}")])


def record(dev: Dev, org: str, key: str) -> pb.RecordUsageResponse:
    event = pb.UsageEvent(idempotency_key=key, meter="api_requests", quantity="1")
    answer: pb.RecordUsageResponse = call(dev, "RecordUsage", pb.RecordUsageRequest(org_id=org, event=event))
    return answer


def deduct(dev: Dev, org: str, key: str, amount: str) -> pb.DeductResponse:
    answer: pb.DeductResponse = call(dev, "Deduct",
                                     pb.DeductRequest(org_id=org, idempotency_key=key, amount=amount))
    return answer


def quota(dev: Dev, org: str) -> pb.GetQuotaResponse:
    answer: pb.GetQuotaResponse = call(dev, "GetQuota", pb.GetQuotaRequest(org_id=org))
    return answer


def assert_round_trip(dev: Dev) -> None:
    """RecordUsage then Deduct on the demo organization (Free plan: 500 monthly + 100 bonus
    credits, some of the monthly ones spent by the demo month): 5 credits come off the monthly ones."""
    before = quota(dev, "demo")
    recorded = record(dev, "demo", "usage-1")
    assert recorded.results[0].status == pb.EVENT_STATUS_ACCEPTED
    first = deduct(dev, "demo", "deduct-1", "5")
    assert first.granted and not first.replayed
    monthly = Decimal(before.monthly_remaining) - 5
    assert (first.from_monthly, first.balance.bonus_remaining) == ("5", "100")
    assert Decimal(first.balance.monthly_remaining) == monthly
    assert Decimal(first.balance.available) == monthly + 100


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "home"
    # A failed test must not leave stores behind: stop whatever still runs on this data folder.
    for pid_file in (tmp_path / "home/postgres/postmaster.pid", tmp_path / "home/redis/redis.pid"):
        if pid_file.exists():
            pid = int(pid_file.read_text().split()[0])
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_dev_serves_a_round_trip_and_stops_everything_on_ctrl_c(home: Path) -> None:
    dev = start_dev(PROJECT_METERING, home, dev_env())
    try:
        assert_round_trip(dev)
        # The BYOM organization spends USD against its $50 cap; the demo month spent some of it.
        byom_before = quota(dev, "demo-byom")
        byom = deduct(dev, "demo-byom", "byom-1", "0.25")
        assert byom.granted and byom.unit == pb.UNIT_USD
        left = Decimal(byom_before.monthly_remaining) - Decimal("0.25")
        assert Decimal(byom.balance.monthly_remaining) == left
        assert Decimal(byom_before.used) > 0
        assert_calls_without_a_key_are_refused(dev)
        assert_the_banners_page_shows_figures_in_every_card(dev)
        assert_the_demo_month_fills_every_part_of_the_page(dev)
        assert_metering_call_uses_the_demo_keys(dev)
        assert_second_run_is_refused_in_one_line(home, dev.env)
        assert_sidecar_uses_embedded_redis(dev.env["RATELIMITER_HTTP_ADDR"])
    finally:
        stop_and_check(dev, home)


def http_get(dev: Dev, path: str, key: str) -> tuple[int, Any]:
    base = f"http://{dev.env['METERING_HTTP_ADDR']}"
    request = urllib.request.Request(f"{base}{path}", headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def assert_the_demo_month_fills_every_part_of_the_page(dev: Dev) -> None:
    """A fresh start: the demo organization's credits, chart, tables, costs, resources, invoice,
    API and agent figures, rate-limit bars and payment methods all have something to show."""
    tokens = read_keys(dev.home / KEYS_FILE)
    admin, billing = tokens["demo:tenant_admin"], tokens["demo:billing_contact"]
    banner = "".join(dev.stdout)
    page = f"http://{dev.env['METERING_HTTP_ADDR']}/dashboard/admin/billing#key={admin}"
    assert f"open           {page}" in banner
    with urllib.request.urlopen(page.split("#")[0], timeout=10) as served:
        assert served.status == 200

    overview = http_get(dev, "/api/v1/credits/overview", admin)[1]
    assert Decimal(overview["used"]) > 100 and overview["bonus_remaining"] == "100"
    assert overview["days_elapsed"] == 20
    chart = http_get(dev, "/api/v1/credits/chart?range=30d", admin)[1]
    assert sum(1 for p in chart["points"] if Decimal(p["web"]) + Decimal(p["cli"]) > 0) >= 3
    for kind in ("workspaces", "workspace_groups", "users"):
        assert len(http_get(dev, f"/api/v1/credits/top/{kind}", admin)[1]["items"]) >= 2, kind
    history = http_get(dev, "/api/v1/usage/history?granularity=daily&resource_type=api_requests", admin)[1]
    assert sum(1 for p in history if Decimal(p["api_requests"]["used"]) > 0) >= 28
    costs = http_get(dev, "/api/v1/usage/costs", admin)[1]
    assert Decimal(costs["total_cost"]) > 0 and costs["by_service"] and costs["by_user"]
    assert [r["id"] for r in http_get(dev, "/api/v1/usage/databases", admin)[1]["resources"]] == ["db-main"]
    invoices = http_get(dev, "/api/v1/billing/invoices", billing)[1]
    assert [(i["status"], i["period_end"]) for i in invoices] == [("paid", overview["period_start"])]

    metrics = http_get(dev, "/api/metrics", admin)[1]
    agents = metrics["agent_usage"]
    assert agents["registered_agents"] > 0 and agents["ephemeral_agents"] > 0
    assert agents["tasks_handled"] == 40 and Decimal(metrics["api_usage"]["webhook_events"]) > 0
    bars = http_get(dev, "/api/v1/rate-limits", admin)[1]["addresses"][0]["bars"]
    api_bar = next(b for b in bars if b["domain"] == "api")
    assert api_bar["available"] and api_bar["used"] >= 10  # the requests above went through the sidecar

    with grpc.insecure_channel(dev.grpc_addr) as channel:
        stub = billing_pb2_grpc.BillingServiceStub(channel)  # type: ignore[no-untyped-call]
        methods = stub.ListPaymentMethods(billing_pb2.ListPaymentMethodsRequest(org_id="demo"), timeout=10,
                                          metadata=[("authorization", f"Bearer {billing}")])
    assert [(m.brand, m.last4) for m in methods.payment_methods] == [("visa", "4242")]

    listed = subprocess.run([str(PROJECT_METERING), "keys", "list", "--org", "demo"], capture_output=True,
                            text=True, timeout=60, env={**dev.env, "METERING_DEV_HOME": str(dev.home)})
    assert listed.returncode == 0, listed.stderr
    assert "tenant-admin of demo" in listed.stdout and "billing-contact of demo" in listed.stdout


def assert_the_banners_page_shows_figures_in_every_card(dev: Dev) -> None:
    """The billing page URL of the banner, in headless Chromium: no card is empty."""
    playwright = pytest.importorskip("playwright.sync_api")
    url = next(line.split()[-1] for line in dev.stdout if line.strip().startswith("open "))
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            # wait_for_function evaluates script, which the page's CSP forbids: bypassed here only.
            page = browser.new_page(viewport={"width": 1400, "height": 1800}, bypass_csp=True)
            page.goto(url.replace("#", "?refresh=1000#"))
            page.wait_for_selector("body[data-loaded]", timeout=30_000)
            # The API's own requests are stored every 2 s: the card has them within a refresh or two.
            page.wait_for_function("Number(document.getElementById('api-total').textContent) > 0",
                                   timeout=10_000)
            for figure in ("credits-used", "avg-per-day", "api-total", "api-latency", "api-webhooks",
                           "agents", "agents-registered", "agents-ephemeral", "tasks", "tokens"):
                assert Decimal(page.text_content(f"#{figure}") or "0") > 0, figure
            assert page.get_attribute("#chart svg", "data-points") == "7"
            for kind in ("workspaces", "workspace_groups", "users"):
                assert page.locator(f"#top-{kind} tbody tr").count() >= 2, kind
            assert page.get_attribute("#rl-api", "data-available") == "true"
            assert page.text_content("#invoices tbody tr:first-child td:nth-child(4)") == "paid"
            shots = REPO / "artifacts" / "dashboard"
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "metering-dev-fresh.png"), full_page=True)
        finally:
            browser.close()


def assert_calls_without_a_key_are_refused(dev: Dev) -> None:
    with grpc.insecure_channel(dev.grpc_addr) as channel:
        stub = pb_grpc.MeteringServiceStub(channel)  # type: ignore[no-untyped-call]
        with pytest.raises(grpc.RpcError) as refused:
            stub.GetQuota(pb.GetQuotaRequest(org_id="demo"), timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


def assert_metering_call_uses_the_demo_keys(dev: Dev) -> None:
    env = {**dev.env, "METERING_DEV_HOME": str(dev.home)}
    before = quota(dev, "demo")
    answer = metering_call(env, "deduct", "--org", "demo", "--amount", "1", "--key", "cli-1")
    assert answer.returncode == 0, answer.stderr
    deducted = json.loads(answer.stdout)
    assert deducted["granted"] is True
    available = Decimal(before.monthly_remaining) + Decimal(before.bonus_remaining)
    assert Decimal(deducted["balance"]["available"]) == available - 1
    shown = json.loads(metering_call(env, "quota", "--org", "demo").stdout)
    assert Decimal(shown["used"]) == Decimal(before.used) + 1 and shown["state"] == "QUOTA_STATE_OK"
    unknown = metering_call(env, "deduct", "--org", "nope", "--amount", "1")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "metering call: NOT_FOUND: org_id: organization 'nope' does not exist"
    keys = dev.home / KEYS_FILE
    assert keys.stat().st_mode & 0o777 == 0o600
    tokens = read_keys(keys)
    # The banner shows the demo organization's service, tenant admin and billing contact keys, ready
    # to use; no other key (the platform admin's, the other organization's) is printed.
    banner = "".join(dev.stdout)
    shown = [tokens["demo"], tokens["demo:tenant_admin"], tokens["demo:billing_contact"]]
    assert f"demo key       {tokens['demo']}" in banner
    assert f"tenant admin   {tokens['demo:tenant_admin']}  (tenant admin:" in banner
    assert f"billing contact {tokens['demo:billing_contact']}  (billing contact:" in banner
    printed = banner + dev.stderr() + answer.stdout + answer.stderr
    for token in shown:
        printed = printed.replace(token, "")
    assert not any(token in printed for token in tokens.values()), "an API key was printed"


def metering_call(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PROJECT_METERING), "call", *args], env=env, capture_output=True, text=True,
                          timeout=60)


def assert_second_run_is_refused_in_one_line(home: Path, env: dict[str, str]) -> None:
    same_home = subprocess.run([str(PROJECT_METERING), "dev", "--home", str(home)], env=env,
                               capture_output=True, text=True, timeout=60)
    assert same_home.returncode == 1
    assert same_home.stderr.strip().splitlines()[-1].startswith("metering dev: already running")
    other_home = subprocess.run([str(PROJECT_METERING), "dev", "--home", str(home.parent / "other")],
                                env=env, capture_output=True, text=True, timeout=60)
    assert other_home.returncode == 1
    assert other_home.stderr.strip() == (
        f"metering dev: {env['METERING_GRPC_ADDR']} is already in use (another `metering dev` or "
        f"server?); set METERING_GRPC_ADDR to another host:port")


def assert_sidecar_uses_embedded_redis(http_addr: str) -> None:
    url = f"http://{http_addr}/v1/check?domain=api&user=dev-test"
    with urllib.request.urlopen(url, timeout=10) as answer:
        body = json.loads(answer.read())
    assert answer.status == 200 and body["allowed"] is True and body["degraded"] is False


def test_restart_keeps_the_ledger_and_fresh_starts_over(home: Path) -> None:
    env = dev_env()
    dev = start_dev(PROJECT_METERING, home, env)
    try:
        assert_round_trip(dev)
        first = deduct(dev, "demo", "deduct-1", "5")
    finally:
        stop_and_check(dev, home)

    dev = start_dev(PROJECT_METERING, home, env)
    try:
        again = deduct(dev, "demo", "deduct-1", "5")
        assert again.replayed and again.balance == first.balance
        assert record(dev, "demo", "usage-1").results[0].status == pb.EVENT_STATUS_DUPLICATE
        now = quota(dev, "demo")
        # Restarting added no credits and no demo usage.
        assert (now.monthly_remaining, now.bonus_remaining) == (first.balance.monthly_remaining, "100")
    finally:
        stop_and_check(dev, home, signal.SIGTERM)

    dev = start_dev(PROJECT_METERING, home, env, "--fresh")
    try:
        assert_round_trip(dev)
    finally:
        stop_and_check(dev, home)


def test_killed_dev_leaves_nothing_running_and_the_next_one_starts(home: Path) -> None:
    env = dev_env()
    dev = start_dev(PROJECT_METERING, home, env)
    try:
        assert_round_trip(dev)
    finally:
        # SIGKILL: no chance to stop anything itself, so its children must go on their own.
        stop_and_check(dev, home, signal.SIGKILL, -signal.SIGKILL)
    dev = start_dev(PROJECT_METERING, home, env)
    try:
        assert deduct(dev, "demo", "deduct-1", "5").replayed
    finally:
        stop_and_check(dev, home)


def test_fresh_removes_only_what_dev_made(tmp_path: Path) -> None:
    home = DevHome(tmp_path)
    for made in ("postgres", "redis", "logs"):
        (tmp_path / made).mkdir()
        (tmp_path / made / "data").write_text("x")
    (tmp_path / KEYS_FILE).write_text("{}")
    (tmp_path / "notes.txt").write_text("mine")
    home.wipe()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs", "notes.txt"]
    assert list((tmp_path / "logs").iterdir()) == []


@pytest.mark.slow
def test_dev_from_a_clean_virtualenv(tmp_path: Path) -> None:
    source = copy_working_tree(tmp_path / "src")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run([str(venv / "bin/pip"), "install", "-q", "--upgrade", "pip"], check=True, timeout=900)
    subprocess.run([str(venv / "bin/pip"), "install", "-q", f"{source}[local]"], check=True, timeout=900)
    home = tmp_path / "home"
    env = {**dev_env(), "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"}
    dev = start_dev(venv / "bin/metering", home, env)
    try:
        assert_round_trip(dev)
    finally:
        stop_and_check(dev, home)


def copy_working_tree(target: Path) -> Path:
    """The repository's files (tracked and new, not ignored), so the build leaves the tree untouched."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                            cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (REPO / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)
    return target
