"""Plan change requests over HTTP and gRPC: a tenant admin asks, a platform admin lists, approves
or refuses, the tenant is told through its alert channels; and the in-editor usage bar, whose
figures and buttons are worked out here from the product rules."""

from __future__ import annotations

from decimal import Decimal

import asyncpg
import grpc
import pytest

from services.gen.metering.v1 import admin_pb2 as apb
from services.gen.metering.v1 import admin_pb2_grpc, reporting_pb2_grpc
from services.gen.metering.v1 import reporting_pb2 as rpb
from services.kit.caller import Role
from tests.metering.clients import aio_channel
from tests.reporting.seed import Seeded, Seeder, Spend
from tests.reporting.test_http_api import get, post

pytestmark = pytest.mark.timeout(120)
D = Decimal

OUTBOX = "SELECT channel FROM alert_outbox WHERE org_id = $1 AND alert_id = $2 ORDER BY channel"


async def _org(http_server: tuple[str, str], platform_key: str, pool: asyncpg.Pool, plan: str = "starter",
               bonus: str = "0", spend: str = "0") -> Seeded:
    seeder = Seeder(http_server[0], platform_key, pool)
    seeded = await seeder.organization(plan, bonus=bonus)
    if spend != "0":
        await seeder.spend(seeded, [Spend(D(spend), source="web")])
    return seeded


async def test_a_tenant_admin_asks_and_a_platform_admin_approves_and_the_tenant_is_told(
    http_server: tuple[str, str], http_base: str, platform_key: str, pool: asyncpg.Pool
) -> None:
    org = await _org(http_server, platform_key, pool)
    admin = org.keys[Role.TENANT_ADMIN]
    async with aio_channel(http_server[0], admin) as channel:
        await admin_pb2_grpc.MeteringAdminServiceStub(channel).SetAlertChannels(apb.SetAlertChannelsRequest(
            org_id=org.org_id, email_recipients=["billing@example.com"]))

    wanted = {"plan_id": "professional", "note": "growing"}
    status, asked = await post(http_base, "/plans/requests", admin, wanted)
    assert status == 201 and asked["status"] == "pending" and asked["plan_id"] == "professional"
    status, listed = await get(http_base, "/plans/requests", admin)
    assert status == 200 and [r["request_id"] for r in listed] == [asked["request_id"]]

    # A tenant admin may not decide; the platform admin sees it among every organization's.
    status, refused = await post(http_base, f"/plans/requests/{asked['request_id']}/approve", admin, {})
    assert status == 403 and refused["code"] == "PERMISSION_DENIED"
    async with aio_channel(http_server[0], platform_key) as channel:
        stub = admin_pb2_grpc.MeteringAdminServiceStub(channel)
        pending = await stub.ListPlanChangeRequests(apb.ListPlanChangeRequestsRequest(
            status=apb.PLAN_CHANGE_STATUS_PENDING))
        assert asked["request_id"] in {r.request_id for r in pending.plan_change_requests}
        approved = await stub.ApprovePlanChange(apb.ApprovePlanChangeRequest(
            org_id=org.org_id, request_id=asked["request_id"]))
    assert approved.plan_change_request.status == apb.PLAN_CHANGE_STATUS_APPROVED
    # Starter (9,900 credits) to Professional (49,900) is an upgrade: it applies at once.
    assert approved.organization.plan_id == "professional"

    status, notices = await get(http_base, "/usage/quota-alerts", admin)
    notice = next(n for n in notices if n["severity"] == "plan_change")
    assert notice["status"] == "active"
    assert notice["message"] == ("Your request to change to the Professional plan was approved; "
                                 "it applies now.")
    # The notice's route (in-app, email, webhook) limited to the channels the tenant has an address for.
    async with pool.acquire() as conn:
        channels = [r["channel"] for r in await conn.fetch(OUTBOX, org.org_id, notice["id"])]
    assert channels == ["email", "in_app"]

    status, again = await post(http_base, f"/plans/requests/{asked['request_id']}/refuse", platform_key, {},
                               org_id=org.org_id)
    assert status == 409 and again["field"] == "request_id"


async def test_a_refusal_keeps_the_plan_gives_the_reason_and_replaces_the_previous_notice(
    http_server: tuple[str, str], http_base: str, platform_key: str, pool: asyncpg.Pool
) -> None:
    org = await _org(http_server, platform_key, pool)
    admin = org.keys[Role.TENANT_ADMIN]
    first = (await post(http_base, "/plans/requests", admin, {"plan_id": "enterprise"}))[1]
    second = (await post(http_base, "/plans/requests", admin, {"plan_id": "free"}))[1]
    status, refused = await post(http_base, f"/plans/requests/{first['request_id']}/refuse", platform_key,
                                 {"reason": "talk to sales first"}, org_id=org.org_id)
    assert status == 200 and refused["status"] == "refused" and refused["reason"] == "talk to sales first"
    status, approved = await post(http_base, f"/plans/requests/{second['request_id']}/approve", platform_key,
                                  {}, org_id=org.org_id)
    assert status == 200 and approved["status"] == "approved"

    overview = (await get(http_base, "/credits/overview", admin))[1]
    assert overview["plan"]["id"] == "starter"  # a downgrade waits for the next billing period
    alerts = (await get(http_base, "/usage/quota-alerts", admin))[1]
    notices = [n for n in alerts if n["severity"] == "plan_change"]
    assert [(n["status"], n["message"]) for n in notices] == [
        ("active", "Your request to change to the Free plan was approved; it applies from the next billing "
                   "period."),
        ("resolved", "Your request to change to the Enterprise plan was refused: talk to sales first"),
    ]
    status, listed = await get(http_base, "/plans/requests", admin, status="refused")
    assert [r["request_id"] for r in listed] == [first["request_id"]]


async def test_plan_requests_follow_the_permission_table(
    http_server: tuple[str, str], http_base: str, platform_key: str, pool: asyncpg.Pool
) -> None:
    org = await _org(http_server, platform_key, pool)
    other = await _org(http_server, platform_key, pool)
    billing = org.keys[Role.BILLING_CONTACT]
    assert (await post(http_base, "/plans/requests", billing, {"plan_id": "professional"}))[0] == 403
    assert (await get(http_base, "/plans/requests", billing))[0] == 403
    admin = org.keys[Role.TENANT_ADMIN]
    assert (await get(http_base, "/plans/requests", admin, org_id=other.org_id))[0] == 403
    assert (await get(http_base, "/plans", billing))[0] == 200
    async with aio_channel(http_server[0], org.keys[Role.TENANT_ADMIN]) as channel:
        stub = admin_pb2_grpc.MeteringAdminServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await stub.ListPlanChangeRequests(apb.ListPlanChangeRequestsRequest(org_id=other.org_id))
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await stub.RefusePlanChange(apb.RefusePlanChangeRequest(org_id=org.org_id, request_id="1"))
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    async with aio_channel(http_server[0], platform_key) as channel:
        stub = admin_pb2_grpc.MeteringAdminServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.ApprovePlanChange(
                apb.ApprovePlanChangeRequest(org_id=org.org_id, request_id="999999999"))
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.aio.AioRpcError) as bad:
            await stub.ApprovePlanChange(apb.ApprovePlanChangeRequest(org_id=org.org_id, request_id="x1"))
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status, bad_body = await post(http_base, "/plans/requests", org.keys[Role.TENANT_ADMIN], {"plan_id": 7})
    assert status == 400 and bad_body["field"] == "plan_id"


# plan, bonus, spent -> (percentage, show_upgrade, show_referral), worked out from the doc's rules:
# the referral invite from 50 %, the upgrade button from 75 % and always on the free tier.
BARS = [
    ("free", "0", "100", ("20", True, False)),          # 100 / 500
    ("free", "0", "250", ("50", True, True)),           # 250 / 500
    ("starter", "0", "4949", ("49.99", False, False)),  # 4,949 / 9,900 = 49.989...
    ("starter", "0", "4950", ("50", False, True)),
    ("starter", "100", "7500", ("75", True, True)),     # 7,500 / (9,900 + 100)
]


@pytest.mark.parametrize(("plan", "bonus", "spent", "expected"), BARS)
async def test_the_usage_bar_shows_the_buttons_the_product_rules_call_for(
    http_server: tuple[str, str], http_base: str, platform_key: str, pool: asyncpg.Pool,
    plan: str, bonus: str, spent: str, expected: tuple[str, bool, bool],
) -> None:
    org = await _org(http_server, platform_key, pool, plan, bonus, spent)
    key = org.keys[Role.BILLING_CONTACT]
    status, bar = await get(http_base, "/credits/usage-bar", key)
    assert status == 200
    assert (bar["percentage"], bar["show_upgrade"], bar["show_referral"]) == expected
    assert bar["used"] == spent and bar["free_tier"] == (plan == "free")
    async with aio_channel(http_server[0], key) as channel:
        reply = await reporting_pb2_grpc.ReportingServiceStub(channel).GetUsageBar(
            rpb.GetUsageBarRequest(org_id=org.org_id))
    assert (reply.percentage, reply.show_upgrade, reply.show_referral) == expected


async def test_the_overview_splits_use_into_monthly_then_bonus_credits(
    http_server: tuple[str, str], http_base: str, platform_key: str, pool: asyncpg.Pool
) -> None:
    # 9,950 spent of 9,900 monthly + 100 bonus: monthly first (9,900), then 50 bonus.
    org = await _org(http_server, platform_key, pool, "starter", "100", "9950")
    overview = (await get(http_base, "/credits/overview", org.keys[Role.TENANT_ADMIN]))[1]
    assert (overview["monthly_used"], overview["bonus_used"]) == ("9900", "50")
    assert (overview["percentage"], overview["monthly_percentage"], overview["bonus_percentage"]) == (
        "99.5", "99", "0.5")


PAGE_ROUTES = ["/session", "/credits/usage-bar", "/plans/requests", "/billing/invoices/in_x",
               "/billing/payment-methods"]


@pytest.mark.parametrize("path", PAGE_ROUTES)
async def test_the_page_routes_refuse_another_tenants_organization(
    http_server: tuple[str, str], http_base: str, platform_key: str, pool: asyncpg.Pool, path: str
) -> None:
    org = await _org(http_server, platform_key, pool)
    other = await _org(http_server, platform_key, pool)
    status, body = await get(http_base, path, org.keys[Role.TENANT_ADMIN], org_id=other.org_id)
    assert (status, body["code"]) == (403, "PERMISSION_DENIED")


async def test_grpc_and_http_give_the_same_split(
    http_server: tuple[str, str], http_base: str, platform_key: str, pool: asyncpg.Pool
) -> None:
    # 120 spent of the free tier's 500 and 30 bonus credits: 120 monthly, nothing from the bonus.
    org = await _org(http_server, platform_key, pool, "free", "30", "120")
    key = org.keys[Role.TENANT_ADMIN]
    overview = (await get(http_base, "/credits/overview", key))[1]
    async with aio_channel(http_server[0], key) as channel:
        reply = await reporting_pb2_grpc.ReportingServiceStub(channel).GetCreditOverview(
            rpb.GetCreditOverviewRequest(org_id=org.org_id))
    # 120 / 530 = 22.641...% -> 22.64 %.
    expected = ("120", "0", "22.64", "0")
    split = (reply.monthly_used, reply.bonus_used, reply.monthly_percentage, reply.bonus_percentage)
    assert split == expected
    assert (overview["monthly_used"], overview["bonus_used"], overview["monthly_percentage"],
            overview["bonus_percentage"]) == expected
