"""The usage page (/dashboard/usage) and the billing page (/dashboard/billing) in Debian's Chromium
over a real server with a Stripe test server behind it, for each role: what each one sees and may
do. Figures are worked out here from what was seeded. Screenshots go to artifacts/pages/."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import pytest

from devstack.stripe_test_server import StripeTestServer
from services.billing.domain.invoices import InvoiceRecord
from services.billing.store.invoices import save_invoices
from services.gen.metering.v1 import admin_pb2 as apb
from services.gen.metering.v1 import admin_pb2_grpc
from services.kit.caller import Role
from services.metering.store.api_keys import create_api_key
from tests.billing.stripe_harness import control, new_key
from tests.metering.clients import aio_channel
from tests.ratelimiter.harness import Sidecar
from tests.reporting.conftest import ARTIFACTS, start_http_server
from tests.reporting.seed import Seeded, Seeder, Spend
from tests.reporting.test_http_api import get, post

SHOTS = ARTIFACTS / "pages"
pytestmark = pytest.mark.timeout(240)
D = Decimal
CUSTOMER = "SELECT stripe_customer_id FROM billing_accounts WHERE org_id = $1"


@pytest.fixture(scope="module")
def stripe() -> Iterator[tuple[str, str]]:
    key = new_key()
    server = StripeTestServer(key)
    yield server.start_in_thread(), key
    server.stop_thread()


@pytest.fixture(scope="module")
def served(database_url: str, sidecar: Sidecar, stripe: tuple[str, str]) -> Iterator[tuple[str, str]]:
    """(gRPC address, HTTP base) of a server that reaches the Stripe test server."""
    addr, base, proc = start_http_server(database_url, sidecar.http_base, STRIPE_API_KEY=stripe[1],
                                         STRIPE_API_BASE=stripe[0])
    yield addr, base
    proc.terminate()
    proc.wait(timeout=15)


@pytest.fixture(scope="module")
async def org(served: tuple[str, str], platform_key: str, pool: asyncpg.Pool) -> Seeded:
    """Starter (9,900 monthly credits) with 100 bonus credits, 9,950.505 spent: all the monthly
    credits and 50.505 bonus credits."""
    seeder = Seeder(served[0], platform_key, pool)
    seeded = await seeder.organization("starter", bonus="100")
    await seeder.tenancy(seeded, {"team": ["ws1", "ws2"]}, ["ana"])
    await seeder.spend(seeded, [Spend(D("9000"), "ws1", "ana", "web"), Spend(D("950.505"), "ws2", "", "cli")])
    return seeded


async def _open(browser: object, base: str, page_name: str, key: str, org_id: str = "",
                width: int = 1300) -> object:
    page = await browser.new_page(viewport={"width": width, "height": 1600}, bypass_csp=True)  # type: ignore[attr-defined]
    fragment = f"key={key}" + (f"&org={org_id}" if org_id else "")
    response = await page.goto(f"{base}/dashboard/{page_name}?refresh=700#{fragment}")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    await page.wait_for_selector("body[data-loaded]")
    return page


async def test_a_tenant_admin_sees_the_split_bar_the_cards_and_asks_for_a_plan(
    browser: object, served: tuple[str, str], org: Seeded
) -> None:
    base = served[1]
    page = await _open(browser, base, "usage", org.keys[Role.TENANT_ADMIN])
    # 9,950.505 of 9,900 + 100: monthly 99 %, bonus 50.505 / 10,000 = 0.505 % -> 0.51 %.
    assert await page.text_content("#used") == "9,950.51 credits"
    assert await page.text_content("#total") == "10,000 credits"
    assert await page.get_attribute("#split-bar", "data-monthly") == "99"
    assert await page.get_attribute("#split-bar", "data-bonus") == "0.51"
    assert await page.text_content("#monthly-text") == "9,900 credits used of 9,900 credits"
    assert await page.text_content("#bonus-text") == "50.51 credits used, 49.50 credits left"
    overview = (await get(base, "/credits/overview", org.keys[Role.TENANT_ADMIN]))[1]
    remaining = overview["days_remaining"]
    assert await page.text_content("#days-remaining") == f"{remaining} day{'' if remaining == 1 else 's'}"
    assert await page.text_content("#days-elapsed") == "0 days"
    assert await page.text_content("#avg-per-day") == "9,950.51 credits"
    # 49.495 left at 9,950.505 a day: gone within the day, before the cycle ends.
    assert await page.text_content("#run-out-in") == "less than a day"
    assert await page.is_visible("#run-out-banner")
    assert await page.get_attribute("#banner-link", "href") == "#plans"
    await page.click("#banner-link")
    assert await page.is_visible("#plans") and await page.is_visible("#plan-starter.current")
    # 99.5 %: the editor shows both the upgrade button (from 75 %) and the referral invite (from 50 %).
    assert await page.text_content("#editor-percent") == "99.5 % used"
    assert await page.is_visible("#editor-upgrade") and await page.is_visible("#editor-referral")
    # The chart draws API & other consumption too (none here), beside web and CLI.
    assert await page.get_attribute("#chart path.other", "data-values") is not None
    assert await page.text_content("#top-workspaces tbody tr:first-child td:nth-child(3)") == "9,000"
    await page.click("#request-professional")
    await page.wait_for_selector("#plan-requests tbody tr .status-pending")
    note = "Change to Professional requested; a platform admin applies it."
    assert await page.text_content("#plans-note") == note
    await page.screenshot(path=str(SHOTS / "usage-tenant-admin.png"), full_page=True)
    await page.close()


async def test_a_platform_admin_approves_the_request_and_the_plan_changes(
    browser: object, served: tuple[str, str], org: Seeded, platform_key: str
) -> None:
    base = served[1]
    admin = org.keys[Role.TENANT_ADMIN]
    pending = [r for r in (await get(base, "/plans/requests", admin))[1] if r["status"] == "pending"]
    if not pending:  # this test alone: ask as the tenant admin would
        pending = [(await post(base, "/plans/requests", admin, {"plan_id": "professional"}))[1]]
    request_id = pending[0]["request_id"]
    page = await _open(browser, base, "usage", platform_key, org.org_id)
    assert await page.query_selector("#plan-cards button") is None  # platform admins decide requests
    await page.wait_for_selector(f"#approve-{request_id}")
    await page.click(f"#approve-{request_id}")
    await page.wait_for_selector(f"#request-row-{request_id} .status-approved")
    # Starter to Professional applies at once: the plans show Professional as the current plan.
    await page.wait_for_selector("#plan-professional.current")
    await page.screenshot(path=str(SHOTS / "usage-platform-admin.png"), full_page=True)
    await page.close()
    notices = (await get(base, "/usage/quota-alerts", admin, status="active"))[1]
    assert any(n["severity"] == "plan_change" and "approved" in n["message"] for n in notices)


async def test_a_billing_contact_sees_no_plan_changes_and_manages_payment_invoices_and_alerts(
    browser: object, served: tuple[str, str], platform_key: str, pool: asyncpg.Pool, stripe: tuple[str, str]
) -> None:
    seeder = Seeder(served[0], platform_key, pool)
    org = await seeder.organization("starter")
    await seeder.tenancy(org, {"team": ["ws1"]}, ["ana"])
    await seeder.spend(org, [Spend(D("1234.5"), "ws1", "ana", "web")])
    base, key = served[1], org.keys[Role.BILLING_CONTACT]
    usage = await _open(browser, base, "usage", key)
    assert await usage.query_selector("#plan-cards button") is None
    assert await usage.is_hidden("#plan-requests-box")
    assert await usage.text_content("#plans-note") == "Plan changes are asked for by a tenant admin."
    await usage.close()

    overview = (await get(base, "/credits/overview", key))[1]
    start = datetime.fromisoformat(overview["period_start"])
    async with pool.acquire() as conn:
        await save_invoices(conn, org.org_id, [InvoiceRecord(
            "in_page_1", "PAGE-1", start, datetime.fromisoformat(overview["period_end"]), "usd", D("99.00"),
            D("99.00"), D("99.00"), "paid", None, "https://pay.stripe.com/invoice/in_page_1/pdf", None, start,
        )], datetime.now(UTC))
    page = await _open(browser, base, "billing", key)
    assert await page.is_hidden("#change-plan")
    # The plan against its limits: Starter's 500,000 LLM tokens, 10,000 queries, 10 GB, 5 users.
    assert await page.text_content("#dimension-llm_tokens td:nth-child(3)") == "500,000"
    assert await page.text_content("#dimension-seats td:nth-child(1)") == "Users"
    assert await page.text_content("#dimension-seats td:nth-child(3)") == "5"
    # 1,234.5 credits at 100 credits a dollar: $12.345, the agent's compute, all by ana.
    assert await page.text_content("#cost-total") == "$12.35"
    assert await page.text_content("#service-ai_service-compute_cost td:nth-child(3)") == "$12.35"
    assert await page.text_content("#service-ml_service-training_cost td:nth-child(3)") == "$0.00"
    assert await page.text_content("#by-user tbody") == "User ana$12.35"
    assert await page.text_content("#invoice-PAGE-1 td:nth-child(3)") == "$99.00"
    assert await page.get_attribute("#invoice-PAGE-1 a", "href") == "https://pay.stripe.com/invoice/in_page_1/pdf"
    await page.click("#invoice-PAGE-1 button")
    await page.wait_for_selector("#lines-PAGE-1")
    # The Starter plan's $99 is the period's only line: no metered usage was rolled up.
    lines = await page.text_content("#lines-PAGE-1")
    assert lines is not None and "Plan" in lines and "$99.00" in lines

    # Budget alert: 70 % of the credits.
    await page.select_option("#alert-resource", "credits")
    await page.fill("#alert-percent", "70")
    await page.click("#alert-save")
    await page.wait_for_selector("#alert-result.notice")
    assert await page.text_content("#alert-setting-credits td:nth-child(2)") == "70 %"

    # A card through the Stripe setup session; Stripe attaches it once the customer confirms it.
    await page.click("#add-card")
    await page.wait_for_selector("#setup-result.notice")
    assert (await page.get_attribute("#setup-result", "data-session") or "").startswith("seti_")
    async with pool.acquire() as conn:
        customer = await conn.fetchval(CUSTOMER, org.org_id)
    control(stripe[0], "/_test/payment_methods", {"customer": customer, "type": "card", "brand": "visa",
                                                  "last4": "4242", "exp_month": 12, "exp_year": 2030})
    await page.reload()
    await page.wait_for_selector("body[data-loaded]")
    assert await page.text_content("#payment-methods") == "visa card ending 4242, expires 12/2030"
    assert await page.is_disabled("#collection input[value=invoice]")
    await page.screenshot(path=str(SHOTS / "billing-billing-contact.png"), full_page=True)
    await page.close()


async def test_an_enterprise_billing_contact_chooses_net_30_invoices_in_a_phone_viewport(
    browser: object, served: tuple[str, str], platform_key: str, pool: asyncpg.Pool
) -> None:
    seeded = await Seeder(served[0], platform_key, pool).organization("enterprise")
    page = await _open(browser, served[1], "billing", seeded.keys[Role.BILLING_CONTACT], width=390)
    assert await page.text_content("#dimension-llm_tokens td:nth-child(3)") == "Unlimited"
    await page.check("#collection input[value=invoice]")
    await page.wait_for_function("document.getElementById('collection-result').textContent.includes('30')")
    assert await page.text_content("#collection-result") == "Invoices due in 30 days."
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    await page.screenshot(path=str(SHOTS / "billing-phone.png"), full_page=True)
    await page.close()


async def test_a_byom_organization_sees_dollars_everywhere_and_no_credit_buttons(
    browser: object, served: tuple[str, str], platform_key: str, pool: asyncpg.Pool
) -> None:
    org_id = f"byom-{uuid.uuid4().hex[:10]}"
    async with aio_channel(served[0], platform_key) as channel:
        admin = admin_pb2_grpc.MeteringAdminServiceStub(channel)
        await admin.CreateOrganization(apb.CreateOrganizationRequest(
            org_id=org_id, name="BYOM", billing_model=apb.BILLING_MODEL_BYOM, monthly_spend_cap_usd="200"))
    async with pool.acquire() as conn:
        keys = {r: (await create_api_key(conn, org_id, r, r.value))[1]
                for r in (Role.SERVICE, Role.TENANT_ADMIN)}
    # $150.255 of a $200 cap: 75.1275 % -> 75.13 %.
    seeder = Seeder(served[0], platform_key, pool)
    await seeder.spend(Seeded(org_id, keys), [Spend(D("150.255"), "w", "", "web")])
    page = await _open(browser, served[1], "usage", keys[Role.TENANT_ADMIN])
    assert await page.text_content("#allocation-title") == "Spend this cycle"
    assert await page.text_content("#used") == "$150.26" and await page.text_content("#total") == "$200.00"
    assert await page.text_content("#monthly-text") == "$150.26 used of $200.00"
    assert await page.is_hidden("#bonus-part")
    assert await page.text_content("#avg-per-day") == "$150.26"
    assert await page.text_content("#chart-unit") == "(USD)"
    assert await page.text_content("#top-workspaces th.unit") == "USD"
    assert await page.text_content("#top-workspaces tbody td:nth-child(3)") == "$150.26"
    # Over 75 %, but a spend cap is not a plan's credits: neither button.
    assert await page.text_content("#editor-percent") == "75.1 % used"
    assert await page.is_hidden("#editor-upgrade") and await page.is_hidden("#editor-referral")
    assert "credit" not in await page.inner_text("#allocation")
    await page.screenshot(path=str(SHOTS / "usage-byom.png"), full_page=True)
    await page.close()


async def test_the_usage_page_fits_a_phone(browser: object, served: tuple[str, str], org: Seeded) -> None:
    page = await _open(browser, served[1], "usage", org.keys[Role.BILLING_CONTACT], width=390)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    assert await page.is_visible("#split-bar") and await page.is_visible("#plans")
    await page.screenshot(path=str(SHOTS / "usage-phone.png"), full_page=True)
    await page.close()
