"""MeteringAdminService: tenants, plans, prices, grants, caps; bad input names the field."""

from __future__ import annotations

from decimal import Decimal

import asyncpg
import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from services.gen.metering.v1 import admin_pb2 as apb
from services.gen.metering.v1 import admin_pb2_grpc
from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc
from tests.metering.clients import aio_channel
from tests.metering.ledger_checks import assert_ledger_reproduces_balances


async def test_organizations_are_created_listed_paged_and_renamed(admin, make_org) -> None:
    made = await admin.CreateOrganization(
        apb.CreateOrganizationRequest(org_id="acme-admin-test", name="Acme", plan_id="starter")
    )
    assert (made.organization.plan_id, made.organization.billing_model) == (
        "starter",
        apb.BILLING_MODEL_CREDITS,
    )
    byom = await admin.CreateOrganization(
        apb.CreateOrganizationRequest(
            org_id="byom-admin-test",
            name="Bring your own",
            billing_model=apb.BILLING_MODEL_BYOM,
            monthly_spend_cap_usd="250",
        )
    )
    assert byom.organization.monthly_spend_cap_usd == "250"
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await admin.CreateOrganization(apb.CreateOrganizationRequest(org_id="acme-admin-test", name="Again"))
    assert again.value.code() == grpc.StatusCode.INVALID_ARGUMENT and again.value.details().startswith(
        "org_id"
    )
    seen, token = [], ""
    while True:
        page = await admin.ListOrganizations(apb.ListOrganizationsRequest(page_size=2, page_token=token))
        seen += [o.org_id for o in page.organizations]
        token = page.next_page_token
        if not token:
            break
    assert seen == sorted(seen) and {"acme-admin-test", "byom-admin-test"} <= set(seen)
    renamed = await admin.UpdateOrganization(
        apb.UpdateOrganizationRequest(org_id="acme-admin-test", name="Acme Inc")
    )
    assert renamed.organization.name == "Acme Inc"


async def test_workspaces_belong_to_groups_of_their_own_organization(admin, make_org) -> None:
    org = await make_org()
    await admin.CreateWorkspaceGroup(
        apb.CreateWorkspaceGroupRequest(org_id=org, group_id="eng", name="Engineering")
    )
    ws = await admin.CreateWorkspace(
        apb.CreateWorkspaceRequest(org_id=org, workspace_id="api", name="API", group_id="eng")
    )
    assert ws.workspace.group_id == "eng"
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await admin.CreateWorkspace(
            apb.CreateWorkspaceRequest(org_id=org, workspace_id="web", name="Web", group_id="nope")
        )
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND and missing.value.details().startswith(
        "group_id"
    )
    moved = await admin.UpdateWorkspace(apb.UpdateWorkspaceRequest(org_id=org, workspace_id="api"))
    assert moved.workspace.group_id == "" and moved.workspace.name == "API"
    await admin.CreateUser(
        apb.CreateUserRequest(org_id=org, user_id="ada", email="ada@example.com", name="Ada")
    )
    users = await admin.ListUsers(apb.ListUsersRequest(org_id=org))
    assert [u.user_id for u in users.users] == ["ada"]


async def test_an_upgrade_applies_now_prorated_and_a_downgrade_at_the_next_period(
    admin, pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()  # Free: 500 credits
    upgraded = await admin.ChangePlan(apb.ChangePlanRequest(org_id=org, plan_id="starter"))
    assert upgraded.organization.plan_id == "starter"
    monthly = await pool.fetchval("SELECT monthly_remaining FROM balances WHERE org_id = $1", org)
    assert Decimal(9899) < monthly <= 9900  # +9,400 for (almost) the whole period
    downgraded = await admin.ChangePlan(apb.ChangePlanRequest(org_id=org, plan_id="free"))
    assert (downgraded.organization.plan_id, downgraded.organization.next_plan_id) == ("starter", "free")
    assert await pool.fetchval("SELECT monthly_remaining FROM balances WHERE org_id = $1", org) == monthly
    async with pool.acquire() as conn:
        await assert_ledger_reproduces_balances(conn, org)


async def test_a_new_spend_cap_applies_to_the_current_period(
    admin, stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org(billing_model="byom", monthly_spend_cap_usd=Decimal(10))
    spent = await stubs[0].Deduct(pb.DeductRequest(org_id=org, idempotency_key="s1", amount="4"))
    assert spent.granted and spent.unit == pb.UNIT_USD
    await admin.SetSpendCap(apb.SetSpendCapRequest(org_id=org, monthly_spend_cap_usd="3"))
    refused = await stubs[1].Deduct(pb.DeductRequest(org_id=org, idempotency_key="s2", amount="0.01"))
    assert refused.denial_reason == pb.DENIAL_REASON_SPEND_CAP_REACHED
    await admin.SetSpendCap(apb.SetSpendCapRequest(org_id=org, monthly_spend_cap_usd="20"))
    q = await stubs[2].GetQuota(pb.GetQuotaRequest(org_id=org))
    assert (q.used, q.monthly_remaining) == ("4", "16")
    async with pool.acquire() as conn:
        await assert_ledger_reproduces_balances(conn, org)


async def test_prices_set_through_the_admin_service_do_not_reprice_earlier_usage(
    admin, stubs: list[pb_grpc.MeteringServiceStub], make_org
) -> None:
    org = await make_org()
    model = f"m-{org}"
    past = Timestamp(seconds=1_700_000_000)
    await admin.SetLlmPrice(
        apb.SetLlmPriceRequest(
            price=apb.LlmPrice(
                model=model,
                effective_from=past,
                input_usd_per_mtok="1",
                output_usd_per_mtok="1",
                cache_read_usd_per_mtok="1",
                cache_write_usd_per_mtok="1",
            )
        )
    )
    tokens = pb.LlmTokens(model=model, input_tokens="1000000")
    first = await stubs[0].Deduct(pb.DeductRequest(org_id=org, idempotency_key="a", tokens=tokens))
    now = Timestamp()
    now.GetCurrentTime()
    await admin.SetLlmPrice(
        apb.SetLlmPriceRequest(
            price=apb.LlmPrice(
                model=model,
                effective_from=now,
                input_usd_per_mtok="3",
                output_usd_per_mtok="3",
                cache_read_usd_per_mtok="3",
                cache_write_usd_per_mtok="3",
            )
        )
    )
    second = await stubs[1].Deduct(pb.DeductRequest(org_id=org, idempotency_key="b", tokens=tokens))
    assert (first.amount, second.amount) == ("100", "300")
    listed = await admin.ListLlmPrices(apb.ListLlmPricesRequest(model=model))
    assert [p.input_usd_per_mtok for p in listed.prices] == ["1", "3"]


async def test_bonus_grants_are_listed_and_spent_after_monthly(admin, stubs, make_org) -> None:
    org = await make_org()
    grant = await admin.GrantBonusCredits(
        apb.GrantBonusCreditsRequest(org_id=org, amount="25", source="referral")
    )
    assert (grant.credit_grant.kind, grant.credit_grant.remaining) == ("bonus", "25")
    spent = await stubs[0].Deduct(pb.DeductRequest(org_id=org, idempotency_key="x", amount="510"))
    assert (spent.from_monthly, spent.from_bonus) == ("500", "10")
    grants = await admin.ListCreditGrants(apb.ListCreditGrantsRequest(org_id=org))
    assert sorted((g.kind, g.remaining) for g in grants.grants) == [("bonus", "15"), ("monthly", "0")]


TABLES = (
    "organizations",
    "workspaces",
    "workspace_groups",
    "users",
    "api_keys",
    "llm_prices",
    "credit_rates",
    "resource_rates",
    "credit_grants",
    "quotas",
    "alert_channels",
    "plan_change_requests",
    "negotiated_allowances",
    "negotiated_limits",
)

BAD_ADMIN_REQUESTS = [
    ("CreateOrganization", apb.CreateOrganizationRequest(org_id="", name="x"), "org_id"),
    ("CreateOrganization", apb.CreateOrganizationRequest(org_id="ok-org-1", name=""), "name"),
    (
        "CreateOrganization",
        apb.CreateOrganizationRequest(org_id="ok-org-2", name="x", billing_model=apb.BILLING_MODEL_BYOM),
        "monthly_spend_cap_usd",
    ),
    (
        "CreateOrganization",
        apb.CreateOrganizationRequest(org_id="ok-org-3", name="x", plan_id="gold"),
        "plan_id",
    ),
    ("GetOrganization", apb.GetOrganizationRequest(org_id="bad id"), "org_id"),
    ("ListOrganizations", apb.ListOrganizationsRequest(page_size=-1), "page_size"),
    ("UpdateOrganization", apb.UpdateOrganizationRequest(org_id="{org}", name="x" * 300), "name"),
    (
        "CreateWorkspaceGroup",
        apb.CreateWorkspaceGroupRequest(org_id="{org}", group_id="", name="g"),
        "group_id",
    ),
    ("ListWorkspaceGroups", apb.ListWorkspaceGroupsRequest(org_id=""), "org_id"),
    (
        "CreateWorkspace",
        apb.CreateWorkspaceRequest(org_id="{org}", workspace_id="a b", name="w"),
        "workspace_id",
    ),
    ("UpdateWorkspace", apb.UpdateWorkspaceRequest(org_id="{org}", workspace_id=""), "workspace_id"),
    ("ListWorkspaces", apb.ListWorkspacesRequest(org_id="x" * 65), "org_id"),
    (
        "CreateUser",
        apb.CreateUserRequest(org_id="{org}", user_id="u", email="not-an-email", name="U"),
        "email",
    ),
    ("ListUsers", apb.ListUsersRequest(org_id=""), "org_id"),
    ("CreateApiKey", apb.CreateApiKeyRequest(org_id="{org}", name="k"), "role"),
    (
        "CreateApiKey",
        apb.CreateApiKeyRequest(org_id="{org}", role=apb.ROLE_PLATFORM_ADMIN, name="k"),
        "org_id",
    ),
    ("ListApiKeys", apb.ListApiKeysRequest(org_id="bad/org"), "org_id"),
    ("RevokeApiKey", apb.RevokeApiKeyRequest(org_id="{org}", key_id=""), "key_id"),
    ("ChangePlan", apb.ChangePlanRequest(org_id="{org}", plan_id=""), "plan_id"),
    ("ChangePlan", apb.ChangePlanRequest(org_id="{org}", plan_id="platinum"), "plan_id"),
    (
        "SetLlmPrice",
        apb.SetLlmPriceRequest(price=apb.LlmPrice(model="m", input_usd_per_mtok="-1")),
        "price.input_usd_per_mtok",
    ),
    (
        "SetLlmPrice",
        apb.SetLlmPriceRequest(
            price=apb.LlmPrice(
                model="m",
                input_usd_per_mtok="1",
                output_usd_per_mtok="1",
                cache_read_usd_per_mtok="1",
                cache_write_usd_per_mtok="1",
            )
        ),
        "price.effective_from",
    ),
    (
        "SetCreditRate",
        apb.SetCreditRateRequest(rate=apb.CreditRate(credits_per_usd="0")),
        "rate.credits_per_usd",
    ),
    (
        "SetResourceRate",
        apb.SetResourceRateRequest(rate=apb.ResourceRate(resource="postgres", hourly_usd="NaN")),
        "rate.effective_from",
    ),
    (
        "GrantBonusCredits",
        apb.GrantBonusCreditsRequest(org_id="{org}", amount="-5", source="promo"),
        "amount",
    ),
    ("GrantBonusCredits", apb.GrantBonusCreditsRequest(org_id="{org}", amount="5", source=""), "source"),
    ("ListCreditGrants", apb.ListCreditGrantsRequest(org_id=""), "org_id"),
    (
        "SetSpendCap",
        apb.SetSpendCapRequest(org_id="{org}", monthly_spend_cap_usd="1e3"),
        "monthly_spend_cap_usd",
    ),
    ("SetSpendCap", apb.SetSpendCapRequest(org_id="{org}", monthly_spend_cap_usd="10"), "org_id"),
    (
        "SetNegotiatedAllowance",
        apb.SetNegotiatedAllowanceRequest(org_id="{org}", monthly_credits="-1"),
        "monthly_credits",
    ),
    (
        "SetNegotiatedAllowance",
        apb.SetNegotiatedAllowanceRequest(org_id="{org}", monthly_credits="1",
                                          limits=[apb.MeterLimit(meter="Bad Meter")]),
        "limits[0].meter",
    ),
    (  # a Free organization: allowances are for negotiated plans
        "SetNegotiatedAllowance",
        apb.SetNegotiatedAllowanceRequest(org_id="{org}", monthly_credits="1"),
        "org_id",
    ),
    ("SetQuota", apb.SetQuotaRequest(org_id="{org}", resource="Disk Space"), "resource"),
    (
        "SetQuota",
        apb.SetQuotaRequest(org_id="{org}", resource="queries", soft_limit="20", hard_limit="10"),
        "soft_limit",
    ),
    (
        "SetQuota",
        apb.SetQuotaRequest(org_id="{org}", resource="queries", alert_at_percent=5000),
        "alert_at_percent",
    ),
    ("SetQuota", apb.SetQuotaRequest(org_id="{org}", resource="no_such_meter"), "resource"),
    ("SetBudgetAlert", apb.SetBudgetAlertRequest(org_id="{org}", resource="Disk Space"), "resource"),
    ("SetBudgetAlert", apb.SetBudgetAlertRequest(org_id="{org}", resource="queries", alert_at_percent=5000),
     "alert_at_percent"),
    ("SetBudgetAlert", apb.SetBudgetAlertRequest(org_id="{org}", resource="no_such_meter"), "resource"),
    ("ListQuotas", apb.ListQuotasRequest(org_id=""), "org_id"),
    ("ListAlerts", apb.ListAlertsRequest(org_id="{org}", resource="Bad"), "resource"),
    (
        "SetAlertChannels",
        apb.SetAlertChannelsRequest(org_id="{org}", email_recipients=["nope"]),
        "email_recipients[0]",
    ),
    ("SetAlertChannels", apb.SetAlertChannelsRequest(org_id="{org}", webhook_url="ftp://x"), "webhook_url"),
    (
        "SetAlertChannels",
        apb.SetAlertChannelsRequest(org_id="{org}", routes=[apb.SeverityChannels(channels=[1])]),
        "routes[0].severity",
    ),
    ("RequestPlanChange", apb.RequestPlanChangeRequest(org_id="{org}", plan_id="nope"), "plan_id"),
    ("ListPlanChangeRequests", apb.ListPlanChangeRequestsRequest(org_id="{org}", status=9), "status"),
    ("ApprovePlanChange", apb.ApprovePlanChangeRequest(org_id="{org}", request_id="1.5"), "request_id"),
    ("ApprovePlanChange", apb.ApprovePlanChangeRequest(org_id="{org}", request_id="77"), "request_id"),
    ("RefusePlanChange", apb.RefusePlanChangeRequest(org_id="{org}", request_id=""), "request_id"),
    (
        "RefusePlanChange",
        apb.RefusePlanChangeRequest(org_id="{org}", request_id="1", reason="x" * 5000),
        "reason",
    ),
]


async def test_bad_input_on_every_admin_rpc_names_the_field_and_stores_nothing(
    admin, pool: asyncpg.Pool, make_org, server_addrs: list[str], database_url: str
) -> None:
    org = await make_org()
    tenant_admin = await _tenant_admin(admin, org)
    before = {t: await pool.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}
    for method, request, field in BAD_ADMIN_REQUESTS:
        if getattr(request, "org_id", None) == "{org}":
            request.org_id = org
        stub = admin
        if method == "RequestPlanChange":
            stub = tenant_admin
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await getattr(stub, method)(request)
        assert failure.value.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND), method
        assert failure.value.details().startswith(field), (method, failure.value.details())
    after = {t: await pool.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}
    assert after == before
    covered = {m for m, _, _ in BAD_ADMIN_REQUESTS}
    lists_without_input = {"ListPlans", "ListLlmPrices", "ListResourceRates"}
    assert covered | lists_without_input == set(
        apb.DESCRIPTOR.services_by_name["MeteringAdminService"].methods_by_name
    )


async def _tenant_admin(admin, org: str) -> admin_pb2_grpc.MeteringAdminServiceStub:
    made = await admin.CreateApiKey(apb.CreateApiKeyRequest(org_id=org, role=apb.ROLE_TENANT_ADMIN, name="t"))
    channel = aio_channel(_ADDR[0], made.secret)
    return admin_pb2_grpc.MeteringAdminServiceStub(channel)


_ADDR: list[str] = []


@pytest.fixture(autouse=True)
def _remember_addr(server_addrs: list[str]) -> None:
    _ADDR[:] = server_addrs
