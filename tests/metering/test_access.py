"""Each role and each RPC, as the permission table says; keys that are missing, wrong or revoked."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator
from types import ModuleType

import asyncpg
import grpc
import pytest

import services.gen.metering.v1
from services.gen.metering.v1 import admin_pb2, admin_pb2_grpc, metering_pb2
from services.kit.caller import Role
from services.metering.domain.access import split_token
from services.metering.store.api_keys import create_api_key
from tests.metering.clients import aio_channel
from tests.metering.conftest import start_server

P, T, B, S = Role.PLATFORM_ADMIN, Role.TENANT_ADMIN, Role.BILLING_CONTACT, Role.SERVICE
ALL = {P, T, B, S}

# Who may call what, from the product's permission table and its roles. Kept here,
# apart from the server's rules, so the test checks them; a new RPC without a row fails below.
EXPECTED: dict[str, set[Role]] = {
    "MeteringService/RecordUsage": {P, S},
    "MeteringService/Deduct": {P, S},
    "MeteringService/Reserve": {P, S},
    "MeteringService/Release": {P, S},
    "MeteringService/DeductSession": {P, S},
    "MeteringService/GetQuota": ALL,
    "MeteringService/Project": ALL,
    "MeteringAdminService/CreateOrganization": {P},
    "MeteringAdminService/ListOrganizations": {P},
    "MeteringAdminService/GetOrganization": ALL,
    "MeteringAdminService/UpdateOrganization": {P, T},
    "MeteringAdminService/CreateWorkspaceGroup": {P, T},
    "MeteringAdminService/ListWorkspaceGroups": {P, T, B},
    "MeteringAdminService/CreateWorkspace": {P, T},
    "MeteringAdminService/UpdateWorkspace": {P, T},
    "MeteringAdminService/ListWorkspaces": {P, T, B},
    "MeteringAdminService/CreateUser": {P, T},
    "MeteringAdminService/ListUsers": {P, T, B},
    "MeteringAdminService/CreateApiKey": {P, T},
    "MeteringAdminService/ListApiKeys": {P, T},
    "MeteringAdminService/RevokeApiKey": {P, T},
    "MeteringAdminService/ListPlans": ALL,
    "MeteringAdminService/ChangePlan": {P},
    "MeteringAdminService/RequestPlanChange": {T},
    "MeteringAdminService/ListPlanChangeRequests": {P, T},
    "MeteringAdminService/ApprovePlanChange": {P},
    "MeteringAdminService/RefusePlanChange": {P},
    "MeteringAdminService/SetLlmPrice": {P},
    "MeteringAdminService/ListLlmPrices": ALL,
    "MeteringAdminService/SetCreditRate": {P},
    "MeteringAdminService/SetResourceRate": {P},
    "MeteringAdminService/ListResourceRates": ALL,
    "MeteringAdminService/GrantBonusCredits": {P},
    "MeteringAdminService/ListCreditGrants": {P, T, B},
    "MeteringAdminService/SetSpendCap": {P, T},
    "MeteringAdminService/SetNegotiatedAllowance": {P},
    "MeteringAdminService/SetQuota": {P, T},
    "MeteringAdminService/SetBudgetAlert": {P, T, B},
    "MeteringAdminService/ListQuotas": {P, T, B},
    "MeteringAdminService/ListAlerts": {P, T, B},
    "MeteringAdminService/SetAlertChannels": {P, T, B},
    # Reporting: viewing usage (and exporting it) is everyone's; costs and invoices not services'.
    "ReportingService/GetUsageSummary": ALL,
    "ReportingService/GetResourceUsage": ALL,
    "ReportingService/GetUsageHistory": ALL,
    "ReportingService/ListQuotaUsage": ALL,
    "ReportingService/ListQuotaAlerts": ALL,
    "ReportingService/GetProjections": ALL,
    "ReportingService/GetCreditOverview": ALL,
    "ReportingService/GetUsageBar": ALL,
    "ReportingService/GetUsageChart": ALL,
    "ReportingService/ListTopConsumers": ALL,
    "ReportingService/GetApiMetrics": ALL,
    "ReportingService/GetRateLimitStatus": ALL,
    "ReportingService/CreateUsageExport": ALL,
    "ReportingService/GetUsageExport": ALL,
    "ReportingService/GetCostAnalysis": {P, T, B},
    "ReportingService/ListRecommendations": {P, T, B},
    "ReportingService/ListInvoices": {P, T, B},
    "ReportingService/GetInvoice": {P, T, B},
    "ReportingService/GetSubscription": {P, T, B},
    # Billing: resources are run by services (and tenant admins); payment and invoices by the
    # roles that manage payment and view invoices.
    "ResourceService/CreateResource": {P, T, S},
    "ResourceService/ResizeResource": {P, T, S},
    "ResourceService/DeleteResource": {P, T, S},
    "ResourceService/GetResource": ALL,
    "ResourceService/ListResources": ALL,
    "BillingService/GetBillingSubscription": {P, T, B},
    "BillingService/PreviewInvoice": {P, T, B},
    "BillingService/ListBillingInvoices": {P, T, B},
    "BillingService/ListPaymentMethods": {P, T, B},
    "BillingService/CreatePaymentSetupSession": {P, T, B},
    "BillingService/SetCollectionMethod": {P, T, B},
    # Replicas only, with their peer token: no API key of any role.
    "CreditLedgerPeerService/ApplyOperations": set(),
}
GLOBAL = {
    "MeteringAdminService/CreateOrganization",
    "MeteringAdminService/ListOrganizations",
    "MeteringAdminService/ListPlans",
    "MeteringAdminService/SetLlmPrice",
    "MeteringAdminService/ListLlmPrices",
    "MeteringAdminService/SetCreditRate",
    "MeteringAdminService/SetResourceRate",
    "MeteringAdminService/ListResourceRates",
}
DENIED = {grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED}


def _proto_modules() -> list[ModuleType]:
    """Every generated metering.v1 module, so a new service file is checked without listing it."""
    package = services.gen.metering.v1
    return [importlib.import_module(f"{package.__name__}.{m.name}")
            for m in pkgutil.iter_modules(package.__path__) if m.name.endswith("_pb2")]


def _methods() -> list[tuple[str, type]]:
    found = []
    for module in _proto_modules():
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                request = getattr(module, method.input_type.name)
                found.append((f"{service.name}/{method.name}", request))
    return found


def test_every_rpc_has_an_expected_access_row() -> None:
    assert {name for name, _ in _methods()} == set(EXPECTED)


@pytest.fixture(scope="module")
async def role_keys(database_url: str, make_org_module) -> dict[tuple[Role, str], str]:
    own, other = await make_org_module(), await make_org_module()
    conn = await asyncpg.connect(database_url)
    keys = {}
    try:
        for role in (T, B, S):
            for org in (own, other):
                keys[(role, org)] = (await create_api_key(conn, org, role, f"{role.value} key"))[1]
        keys[(P, "")] = (await create_api_key(conn, None, P, "platform"))[1]
    finally:
        await conn.close()
    keys[("own", "")], keys[("other", "")] = own, other  # type: ignore[index]
    return keys


async def _code(addr: str, key: str | None, method: str, request: object) -> grpc.StatusCode:
    async with aio_channel(addr, key) as channel:
        call = channel.unary_unary(
            f"/metering.v1.{method}",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=lambda b: b,
        )
        try:
            await call(request, timeout=10)
            return grpc.StatusCode.OK
        except grpc.aio.AioRpcError as error:
            return error.code()


@pytest.mark.parametrize(("method", "request_type"), _methods(), ids=[m for m, _ in _methods()])
async def test_each_role_may_call_exactly_what_the_permission_table_allows(
    server_addrs: list[str], role_keys, method: str, request_type: type
) -> None:
    own, other = role_keys[("own", "")], role_keys[("other", "")]
    request = request_type(**({"org_id": own} if "org_id" in request_type.DESCRIPTOR.fields_by_name else {}))
    for role in (P, T, B, S):
        key = role_keys[(P, "")] if role is P else role_keys[(role, own)]
        code = await _code(server_addrs[0], key, method, request)
        if role in EXPECTED[method]:
            assert code not in DENIED, (method, role, code)
        else:
            assert code == grpc.StatusCode.PERMISSION_DENIED, (method, role, code)
        if role is not P and method not in GLOBAL:
            # The same role of another tenant is refused whatever the RPC.
            outsider = await _code(server_addrs[1], role_keys[(role, other)], method, request)
            assert outsider == grpc.StatusCode.PERMISSION_DENIED, (method, role, outsider)


async def test_missing_malformed_and_revoked_keys_are_unauthenticated(
    server_addrs: list[str], platform_key: str, make_org
) -> None:
    org = await make_org()
    request = metering_pb2.GetQuotaRequest(org_id=org)
    method = "MeteringService/GetQuota"
    for key in (None, "nope", "mk_0123456789ab_wrongsecret", platform_key[:-2] + "xx"):
        assert await _code(server_addrs[0], key, method, request) == grpc.StatusCode.UNAUTHENTICATED
    async with aio_channel(server_addrs[0], platform_key) as channel:
        admin = admin_pb2_grpc.MeteringAdminServiceStub(channel)
        created = await admin.CreateApiKey(
            admin_pb2.CreateApiKeyRequest(org_id=org, role=admin_pb2.ROLE_SERVICE, name="ci")
        )
        assert created.secret.startswith(created.key.prefix + "_")
        assert await _code(server_addrs[0], created.secret, method, request) == grpc.StatusCode.OK
        await admin.RevokeApiKey(admin_pb2.RevokeApiKeyRequest(org_id=org, key_id=created.key.key_id))
    assert await _code(server_addrs[0], created.secret, method, request) == grpc.StatusCode.UNAUTHENTICATED
    listed = await _list_keys(server_addrs[0], platform_key, org)
    assert all(k.key_id != created.secret for k in listed) and "secret" not in str(listed)


async def _list_keys(addr: str, key: str, org: str) -> list[admin_pb2.ApiKey]:
    async with aio_channel(addr, key) as channel:
        admin = admin_pb2_grpc.MeteringAdminServiceStub(channel)
        return list((await admin.ListApiKeys(admin_pb2.ListApiKeysRequest(org_id=org))).keys)


async def test_tenant_admin_cannot_mint_platform_keys(server_addrs: list[str], role_keys) -> None:
    own = role_keys[("own", "")]
    async with aio_channel(server_addrs[2], role_keys[(T, own)]) as channel:
        admin = admin_pb2_grpc.MeteringAdminServiceStub(channel)
        for request in (
            admin_pb2.CreateApiKeyRequest(role=admin_pb2.ROLE_PLATFORM_ADMIN, name="x"),
            admin_pb2.CreateApiKeyRequest(org_id=own, role=admin_pb2.ROLE_PLATFORM_ADMIN, name="x"),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await admin.CreateApiKey(request)
            assert failure.value.code() in (
                grpc.StatusCode.PERMISSION_DENIED,
                grpc.StatusCode.INVALID_ARGUMENT,
            )
        made = await admin.CreateApiKey(
            admin_pb2.CreateApiKeyRequest(org_id=own, role=admin_pb2.ROLE_SERVICE, name="worker")
        )
        assert made.key.org_id == own


async def test_api_keys_never_reach_the_logs(database_url: str, platform_key: str, tmp_path) -> None:
    log_file = tmp_path / "server.log"
    with log_file.open("w") as sink:
        addr, proc = start_server(database_url, output=sink)
        try:
            async with aio_channel(addr, platform_key) as channel:
                admin = admin_pb2_grpc.MeteringAdminServiceStub(channel)
                made = await admin.CreateApiKey(
                    admin_pb2.CreateApiKeyRequest(role=admin_pb2.ROLE_PLATFORM_ADMIN, name="log-check")
                )
            wrong = made.secret[:-1] + "!"
            code = await _code(
                addr, wrong, "MeteringService/GetQuota", metering_pb2.GetQuotaRequest(org_id="x")
            )
            assert code == grpc.StatusCode.UNAUTHENTICATED
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    text = log_file.read_text()
    assert "listening" in text, text
    parts = split_token(made.secret)
    assert parts is not None
    # The whole secret: it may hold underscores itself, so the tail after the last one can be a
    # character or two that any log line contains.
    for secret in (platform_key, made.secret, parts[1]):
        leaks = [line for line in text.splitlines() if secret in line]
        assert not leaks, leaks


@pytest.fixture(scope="module")
async def make_org_module(pool: asyncpg.Pool) -> AsyncIterator[object]:
    import uuid

    from services.metering.store.organizations import NewOrganization, create_organization

    async def make() -> str:
        org_id = f"org-{uuid.uuid4().hex[:12]}"
        async with pool.acquire() as conn:
            await create_organization(conn, NewOrganization(org_id, "Access test"))
        return org_id

    yield make
