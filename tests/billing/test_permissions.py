"""The product's permission table, row by row, for each role, through both doors: gRPC and the
HTTP/JSON API of a real server (with the Stripe test server behind payment management)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg
import grpc
import pytest
from google.protobuf.message import Message

from services.gen.metering.v1 import admin_pb2 as apb
from services.gen.metering.v1 import billing_pb2 as bpb
from services.gen.metering.v1 import reporting_pb2 as rpb
from services.kit.caller import Role
from services.metering.store.api_keys import create_api_key
from tests.billing.helpers import new_org
from tests.metering.clients import aio_channel
from tests.reporting.conftest import start_http_server

pytestmark = pytest.mark.timeout(180)
P, T, B = Role.PLATFORM_ADMIN, Role.TENANT_ADMIN, Role.BILLING_CONTACT
# What a cell of the table grants: any tenant, the caller's own tenant only, a request the
# platform admin decides (tenant admins' "Request" of a plan change), or nothing.
ALL, OWN, REQUEST, NO = "all", "own tenant", "request", "no"

# The permission table: action -> (platform admin, tenant admin, billing contact). "Set budget
# alerts" is the threshold and channels; limits that block a tenant's services are not a budget
# alert, so a billing contact may not set them.
TABLE: dict[str, tuple[str, str, str]] = {
    "View usage": (ALL, OWN, OWN),
    "View invoices": (ALL, OWN, OWN),
    "Update plan": (ALL, REQUEST, NO),
    "Manage payment": (ALL, OWN, OWN),
    "Set budget alerts": (ALL, OWN, OWN),
    "Set soft/hard limits": (ALL, OWN, NO),
}


Route = tuple[str, str, dict[str, Any] | None]  # (method, path under /api/v1, JSON body)


@dataclass(frozen=True)
class Door:
    """One way to take an action: a gRPC method or an HTTP route, built for an organization."""

    name: str
    grpc: tuple[str, Callable[[str], Message]] | None = None
    http: Route | None = None
    request: bool = False  # a request to the platform admin rather than the action itself


DOORS: dict[str, list[Door]] = {
    "View usage": [
        Door("GetUsageSummary", grpc=("ReportingService/GetUsageSummary",
                                      lambda o: rpb.GetUsageSummaryRequest(org_id=o))),
        Door("GET /usage", http=("GET", "/usage", None)),
        Door("GET /usage/quotas", http=("GET", "/usage/quotas", None)),
    ],
    "View invoices": [
        Door("ListInvoices", grpc=("ReportingService/ListInvoices",
                                   lambda o: rpb.ListInvoicesRequest(org_id=o))),
        Door("PreviewInvoice", grpc=("BillingService/PreviewInvoice",
                                     lambda o: bpb.PreviewInvoiceRequest(org_id=o))),
        Door("GET /billing/invoices", http=("GET", "/billing/invoices", None)),
        Door("GET /billing/subscription", http=("GET", "/billing/subscription", None)),
    ],
    "Update plan": [
        Door("ChangePlan", grpc=("MeteringAdminService/ChangePlan",
                                 lambda o: apb.ChangePlanRequest(org_id=o, plan_id="starter"))),
        Door("RequestPlanChange", request=True, grpc=(
            "MeteringAdminService/RequestPlanChange",
            lambda o: apb.RequestPlanChangeRequest(org_id=o, plan_id="professional", note="growing"))),
    ],
    "Manage payment": [
        Door("ListPaymentMethods", grpc=("BillingService/ListPaymentMethods",
                                         lambda o: bpb.ListPaymentMethodsRequest(org_id=o))),
        Door("CreatePaymentSetupSession", grpc=(
            "BillingService/CreatePaymentSetupSession",
            lambda o: bpb.CreatePaymentSetupSessionRequest(
                org_id=o, kind=bpb.SETUP_SESSION_KIND_SETUP_INTENT))),
    ],
    "Set budget alerts": [
        Door("SetBudgetAlert", grpc=("MeteringAdminService/SetBudgetAlert",
                                     lambda o: apb.SetBudgetAlertRequest(org_id=o, resource="queries",
                                                                         alert_at_percent=70))),
        Door("SetAlertChannels", grpc=("MeteringAdminService/SetAlertChannels",
                                       lambda o: apb.SetAlertChannelsRequest(
                                           org_id=o, email_recipients=["billing@example.com"]))),
        Door("POST /usage/quotas/queries/alert",
             http=("POST", "/usage/quotas/queries/alert", {"alert_at_percent": 75})),
    ],
    "Set soft/hard limits": [
        Door("SetQuota", grpc=("MeteringAdminService/SetQuota",
                               lambda o: apb.SetQuotaRequest(org_id=o, resource="queries", soft_limit="800",
                                                             hard_limit="1000"))),
        Door("POST /usage/quotas/queries",
             http=("POST", "/usage/quotas/queries", {"soft_limit": "800", "hard_limit": "1000"})),
    ],
}


@dataclass(frozen=True)
class Setup:
    grpc_addr: str
    http_base: str
    own: str
    other: str
    keys: dict[Role, str]  # tenant keys belong to `own`


@pytest.fixture(scope="module")
async def setup(module_database: str, module_pool: asyncpg.Pool, stripe_base: str,
                stripe_key: str) -> AsyncIterator[Setup]:
    async with module_pool.acquire() as conn:
        own = await new_org(conn, plan_id="professional")
        other = await new_org(conn, plan_id="professional")
        keys = {P: (await create_api_key(conn, None, P, "platform"))[1]}
        for role in (T, B):
            keys[role] = (await create_api_key(conn, own, role, role.value))[1]
    addr, base, proc = start_http_server(module_database, "http://127.0.0.1:9",
                                         STRIPE_API_KEY=stripe_key, STRIPE_API_BASE=stripe_base)
    try:
        yield Setup(addr, base, own, other, keys)
    finally:
        proc.terminate()
        proc.wait(timeout=15)


async def _grpc(addr: str, key: str, method: str, request: Message) -> grpc.StatusCode:
    async with aio_channel(addr, key) as channel:
        call = channel.unary_unary(f"/metering.v1.{method}",
                                   request_serializer=lambda m: m.SerializeToString(),
                                   response_deserializer=lambda b: b)
        try:
            await call(request, timeout=15)
            return grpc.StatusCode.OK
        except grpc.aio.AioRpcError as error:
            return error.code()


async def _http(base: str, key: str, org: str, route: Route) -> int:
    method, path, body = route
    query = {"org_id": org} if org else {}
    async with aiohttp.ClientSession() as session, session.request(
        method, f"{base}/api/v1{path}", params=query, data=None if body is None else json.dumps(body),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    ) as response:
        return response.status


async def _outcome(s: Setup, role: Role, door: Door, org: str) -> bool:
    """True when the door let the role act for `org` (answered as a success), False when it refused
    (403 / PERMISSION_DENIED); any other answer fails the test."""
    if door.grpc is not None:
        method, build = door.grpc
        code = await _grpc(s.grpc_addr, s.keys[role], method, build(org))
        assert code in (grpc.StatusCode.OK, grpc.StatusCode.PERMISSION_DENIED), (door.name, role, org, code)
        return code is grpc.StatusCode.OK
    assert door.http is not None
    status = await _http(s.http_base, s.keys[role], org, door.http)
    assert status in (200, 403), (door.name, role, org, status)
    return status == 200


def _may(cell: str, door: Door, own_tenant: bool) -> bool:
    if cell == NO:
        return False
    if cell == REQUEST:
        return door.request and own_tenant
    if door.request:
        return False  # who may act needs no request
    return cell == ALL or own_tenant


@pytest.mark.parametrize("action", list(TABLE))
async def test_each_role_may_do_what_its_cell_of_the_permission_table_says(setup: Setup, action: str) -> None:
    for role, cell in zip((P, T, B), TABLE[action], strict=True):
        for door in DOORS[action]:
            for org, own_tenant in ((setup.own, True), (setup.other, False)):
                allowed = await _outcome(setup, role, door, org)
                assert allowed == _may(cell, door, own_tenant), (action, role.value, cell, door.name, org)


async def test_a_billing_contact_sets_the_alert_threshold_and_leaves_the_limits_as_they_were(
    setup: Setup,
) -> None:
    route = ("POST", "/usage/quotas/llm_tokens", {"soft_limit": "400000", "hard_limit": "450000"})
    assert await _http(setup.http_base, setup.keys[T], "", route) == 200
    async with aiohttp.ClientSession() as session, session.post(
        f"{setup.http_base}/api/v1/usage/quotas/llm_tokens/alert", data=json.dumps({"alert_at_percent": 60}),
        headers={"Authorization": f"Bearer {setup.keys[B]}", "Content-Type": "application/json"},
    ) as response:
        assert response.status == 200
        quota = await response.json()
    assert (quota["soft_limit"], quota["hard_limit"], quota["alert_at_percent"], quota["alert_enabled"]) == (
        "400000", "450000", 60, True)
