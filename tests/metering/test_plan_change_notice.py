"""A decided plan change request reaches the tenant by email through a real SMTP server."""

from __future__ import annotations

import asyncio
from email import message_from_bytes
from email.policy import default

import asyncpg

from services.gen.metering.v1 import admin_pb2 as apb
from services.gen.metering.v1 import admin_pb2_grpc
from services.kit.caller import Role
from services.metering.store.api_keys import create_api_key
from tests.metering.clients import aio_channel
from tests.metering.test_alert_delivery import Inbox, notifying_servers, smtp  # noqa: F401  (fixtures)

DELIVERED = "SELECT channel FROM alert_outbox WHERE org_id = $1 AND status = 'delivered' ORDER BY channel"


async def test_a_refused_plan_change_is_emailed_to_the_tenant_with_its_reason(
    notifying_servers: list[str], platform_key: str, smtp: tuple[Inbox, int],  # noqa: F811
    pool: asyncpg.Pool, make_org,
) -> None:
    inbox, _ = smtp
    org = await make_org()
    async with pool.acquire() as conn:
        tenant_key = (await create_api_key(conn, org, Role.TENANT_ADMIN, "admin"))[1]
    async with aio_channel(notifying_servers[0], tenant_key) as channel:
        tenant = admin_pb2_grpc.MeteringAdminServiceStub(channel)
        await tenant.SetAlertChannels(
            apb.SetAlertChannelsRequest(org_id=org, email_recipients=["cfo@example.com"]))
        asked = await tenant.RequestPlanChange(apb.RequestPlanChangeRequest(org_id=org, plan_id="enterprise"))
    async with aio_channel(notifying_servers[1], platform_key) as channel:
        await admin_pb2_grpc.MeteringAdminServiceStub(channel).RefusePlanChange(apb.RefusePlanChangeRequest(
            org_id=org, request_id=asked.plan_change_request.request_id, reason="annual contract first"))
    for _ in range(100):
        channels = [r["channel"] for r in await pool.fetch(DELIVERED, org)]
        if channels == ["email", "in_app"]:
            break
        await asyncio.sleep(0.1)
    assert channels == ["email", "in_app"]
    mine = [message_from_bytes(m, policy=default) for m in inbox.messages if b"cfo@example.com" in m]
    assert len(mine) == 1
    told = "Your request to change to the Enterprise plan was refused: annual contract first"
    assert mine[0]["Subject"] == f"[plan_change] {told}"
    assert mine[0].get_content().startswith(told)
