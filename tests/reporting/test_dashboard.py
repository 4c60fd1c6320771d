"""The billing & usage page in headless Chromium (Debian's package) driven by Playwright.

Screenshots go to artifacts/dashboard/ (CI keeps them)."""

from __future__ import annotations

from decimal import Decimal

import aiohttp
import asyncpg
import pytest

from devstack.ports import free_port
from services.kit.caller import Role
from tests.ratelimiter.harness import Sidecar
from tests.reporting.conftest import ARTIFACTS, start_http_server
from tests.reporting.seed import Event, Seeded, Seeder, Spend, now
from tests.reporting.test_http_api import get, plain

SHOTS = ARTIFACTS / "dashboard"
pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
async def org(http_server: tuple[str, str], platform_key: str, pool: asyncpg.Pool) -> Seeded:
    """A Starter organization with twelve workspaces that spent web and CLI credits just now."""
    seeder = Seeder(http_server[0], platform_key, pool)
    seeded = await seeder.organization("starter", bonus="100")
    await seeder.tenancy(seeded, {"team": [f"ws{i:02d}" for i in range(1, 13)]}, ["ana", "bo"])
    await seeder.spend(
        seeded,
        [
            Spend(Decimal(i), f"ws{i:02d}", "ana" if i % 2 else "bo", "web" if i % 3 else "cli")
            for i in range(1, 13)
        ],
    )
    await seeder.record(
        seeded,
        [
            Event("api_requests", Decimal(1234), now(), "ws01"),
            Event("webhook_events", Decimal(56), now(), "ws02"),
        ],
    )
    return seeded


async def test_the_page_runs_under_its_content_security_policy(
    browser: object, http_base: str, org: Seeded
) -> None:
    page = await browser.new_page()  # type: ignore[attr-defined]
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    await page.goto(f"{http_base}/dashboard#key={org.keys[Role.BILLING_CONTACT]}")
    await page.wait_for_selector("body[data-loaded]")
    assert await page.text_content("#plan-name") == "Starter"
    assert await page.get_attribute("#chart svg", "data-points") == "7"
    assert violations == []
    await page.close()


async def _open(browser: object, base: str, key: str, refresh_ms: int = 800, width: int = 1400) -> object:
    # The page forbids eval (CSP); Playwright's wait_for_function needs it, so the test bypasses it.
    page = await browser.new_page(viewport={"width": width, "height": 1800}, bypass_csp=True)  # type: ignore[attr-defined]
    response = await page.goto(f"{base}/dashboard?refresh={refresh_ms}#key={key}")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    await page.wait_for_selector("body[data-loaded]")
    return page


async def test_page_shows_the_seeded_figures_toggles_and_pages(
    browser: object,
    http_base: str,
    org: Seeded,
    sidecar: Sidecar,
    http_server: tuple[str, str],
    platform_key: str,
    pool: asyncpg.Pool,
) -> None:
    page = await _open(browser, http_base, org.keys[Role.TENANT_ADMIN])
    spent = sum((s.amount for s in org.spends), Decimal(0))  # 78
    overview = (await get(http_base, "/credits/overview", org.keys[Role.TENANT_ADMIN]))[1]
    assert await page.text_content("#plan-name") == "Starter"
    assert await page.text_content("#plan-price") == "$99/month"
    assert await page.text_content("#credits-used") == plain(spent)
    assert await page.text_content("#credits-total") == plain(Decimal(9900 + 100))
    assert await page.text_content("#credits-bonus") == "100"
    assert await page.text_content("#days-remaining") == str(overview["days_remaining"])
    assert await page.text_content("#days-elapsed") == "0"
    assert await page.text_content("#avg-per-day") == plain(spent)
    assert await page.is_hidden("#run-out-banner")
    assert await page.get_attribute("#credits-bar", "class") == ""  # under 1 %: green
    # Total requests: the HTTP API's own (not the api_requests meter), as /api/metrics says.
    total = int(await page.text_content("#api-total"))
    assert total >= 1 and total != 1234
    assert await page.text_content("#api-webhooks") == "56"
    await page.screenshot(path=str(SHOTS / "overview.png"), full_page=True)

    # The chart: 7 daily points by default, 24 hourly, 5 weekly; the lines add up to the spend.
    web = sum((s.amount for s in org.spends if s.source == "web"), Decimal(0))
    cli = sum((s.amount for s in org.spends if s.source == "cli"), Decimal(0))
    assert await page.get_attribute("#chart svg", "data-points") == "7"
    for label, points in (("24h", "24"), ("30d", "5"), ("7d", "7")):
        await page.click(f"button[data-range='{label}']")
        await page.wait_for_selector(f"#chart[data-range='{label}'] svg[data-points='{points}']")
        values = await page.get_attribute("#chart path.web", "data-values")
        assert sum(Decimal(v) for v in values.split(",")) == web
        assert (
            sum(Decimal(v) for v in (await page.get_attribute("#chart path.cli", "data-values")).split(","))
            == cli
        )
        if label == "24h":
            await page.screenshot(path=str(SHOTS / "chart-24h.png"), full_page=True)

    # Show More: 5 rows, then 10, then all 12 (ranked by credits).
    rows = "#top-workspaces tbody tr"
    assert await page.locator(rows).count() == 5
    first = await page.text_content(f"{rows}:first-child td:nth-child(2)")
    assert first == "Workspace ws12"
    await page.click("#more-workspaces")
    await page.wait_for_function("document.querySelectorAll('#top-workspaces tbody tr').length === 10")
    await page.click("#more-workspaces")
    await page.wait_for_function("document.querySelectorAll('#top-workspaces tbody tr').length === 12")
    assert await page.is_hidden("#more-workspaces")
    await page.screenshot(path=str(SHOTS / "show-more.png"), full_page=True)

    # Rate limits: 95 of the API's 100/min used by this IP turns the bar amber (the bucket refills
    # 100 a minute, so it stays above 80 % for about nine seconds); webhooks stay green.
    assert await page.get_attribute("#rl-api", "data-available") == "true"
    assert "amber" not in (await page.get_attribute("#rl-api", "class") or "")
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{sidecar.http_base}/v1/check",
            params={"domain": "api", "hits": "95", "remote_address": "127.0.0.1"},
        ) as taken,
    ):
        assert taken.status == 200
    await page.wait_for_selector("#rl-api.amber", timeout=10_000)
    assert 80 < Decimal(await page.get_attribute("#rl-api", "data-percentage")) <= 95
    assert "amber" not in (await page.get_attribute("#rl-webhook", "class") or "")
    await page.screenshot(path=str(SHOTS / "rate-limit-amber.png"), full_page=True)

    # Live: new spend shows up without reloading.
    await Seeder(http_server[0], platform_key, pool).spend(org, [Spend(Decimal(22), "ws01", "ana", "web")])
    await page.wait_for_function(
        f"document.getElementById('credits-used').textContent === '{plain(spent + 22)}'"
    )
    await page.close()


async def test_run_out_banner_and_unavailable_rate_limits(
    browser: object,
    database_url: str,
    http_server: tuple[str, str],
    platform_key: str,
    pool: asyncpg.Pool,
    free_port_url: str,
) -> None:
    seeder = Seeder(http_server[0], platform_key, pool)
    poor = await seeder.organization("free")
    await seeder.spend(poor, [Spend(Decimal(400), "", "", "cli")])
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO invoices (org_id, stripe_invoice_id, number, period_start, period_end, currency, "
            "amount_due, amount_paid, total, stripe_status, due_date, pdf_url, created_at, synced_at) "
            "VALUES ($1, 'in_7', 'INV-7', $2, $2, 'usd', 0, 0, 0, 'paid', NULL, NULL, $2, $2)",
            poor.org_id,
            now(),
        )
    _, base, proc = start_http_server(database_url, free_port_url)  # nobody listens there
    try:
        page = await _open(browser, base, poor.keys[Role.BILLING_CONTACT])
        assert await page.is_visible("#run-out-banner")
        assert await page.text_content("#run-out-in") == "less than a day"  # 100 left at 400 a day
        assert await page.get_attribute("#banner-link", "href") == "/dashboard/usage#plans"
        assert await page.get_attribute("#rl-api", "data-available") == "false"
        assert "unavailable" in (await page.text_content("#rate-limits"))
        assert await page.locator("#rl-api div").count() == 0  # no bar, no made-up numbers
        assert await page.get_attribute("#credits-bar", "class") == "amber"  # 80 %: warning
        # 400 of 500 credits: the warning alert raised by the deduction, and the synced invoice.
        alert = await page.text_content("#alerts li.warning")
        assert alert.startswith("WARNING") and "80%" in alert
        assert await page.text_content("#invoices tbody tr:first-child td:nth-child(1)") == "INV-7"
        assert await page.text_content("#invoices tbody tr:first-child td:nth-child(4)") == "paid"
        await page.screenshot(path=str(SHOTS / "run-out-and-unavailable.png"), full_page=True)
        await page.close()
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.fixture
def free_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


async def test_the_admin_page_fits_a_phone(
        browser: object, http_server: tuple[str, str], org: Seeded) -> None:
    page = await _open(browser, http_server[1], org.keys[Role.TENANT_ADMIN], refresh_ms=60_000, width=390)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390  # type: ignore[attr-defined]
    assert await page.is_visible("#credits-bar") and await page.is_visible("#chart")  # type: ignore[attr-defined]
    await page.screenshot(path=str(SHOTS / "admin-phone.png"), full_page=True)  # type: ignore[attr-defined]
    await page.close()  # type: ignore[attr-defined]
