"""Alert deliveries: email through a real SMTP server, signed webhooks with retries, never twice."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import subprocess
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from aiohttp import web
from aiosmtpd.controller import Controller

from devstack.ports import free_port
from services.gen.metering.v1 import admin_pb2 as apb
from services.gen.metering.v1 import admin_pb2_grpc
from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc
from tests.metering.clients import aio_channel
from tests.metering.conftest import start_server

SECRET = "whsec-0123456789abcdef"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(envelope.content)  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
async def webhook() -> AsyncIterator[tuple[list[tuple[dict[str, str], bytes]], str]]:
    calls: list[tuple[dict[str, str], bytes]] = []

    async def receive(request: web.Request) -> web.Response:
        calls.append((dict(request.headers), await request.read()))
        return web.Response(status=503 if len(calls) == 1 else 200)  # the first attempt fails

    app = web.Application()
    app.router.add_post("/alerts", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield calls, f"http://127.0.0.1:{port}/alerts"
    await runner.cleanup()


@pytest.fixture
def notifying_servers(database_url: str, smtp: tuple[Inbox, int]) -> Iterator[list[str]]:
    env = {
        "METERING_SMTP_HOST": "127.0.0.1",
        "METERING_SMTP_PORT": str(smtp[1]),
        "METERING_NOTIFY_SECONDS": "0.2",
    }
    started = [start_server(database_url, **env) for _ in range(2)]
    yield [addr for addr, _ in started]
    procs: list[subprocess.Popen[bytes]] = [p for _, p in started]
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=15)


async def test_alerts_reach_email_and_signed_webhook_once_despite_a_failure(
    notifying_servers: list[str], platform_key: str, smtp, webhook, pool: asyncpg.Pool, make_org
) -> None:
    inbox, _ = smtp
    calls, url = webhook
    org = await make_org()
    async with aio_channel(notifying_servers[0], platform_key) as channel:
        admin = admin_pb2_grpc.MeteringAdminServiceStub(channel)
        metering = pb_grpc.MeteringServiceStub(channel)
        await admin.SetAlertChannels(
            apb.SetAlertChannelsRequest(
                org_id=org,
                email_recipients=["ops@example.com"],
                webhook_url=url,
                webhook_secret=SECRET,
                routes=[
                    apb.SeverityChannels(
                        severity=apb.ALERT_SEVERITY_WARNING,
                        channels=[
                            apb.ALERT_CHANNEL_IN_APP,
                            apb.ALERT_CHANNEL_EMAIL,
                            apb.ALERT_CHANNEL_WEBHOOK,
                        ],
                    )
                ],
            )
        )
        await admin.SetQuota(apb.SetQuotaRequest(org_id=org, resource="storage_gb", soft_limit="1000"))
        await metering.RecordUsage(
            pb.RecordUsageRequest(
                org_id=org, event=pb.UsageEvent(idempotency_key="s1", meter="storage_gb", quantity="800")
            )
        )
    for _ in range(100):
        delivered = await pool.fetchval(
            "SELECT count(*) FROM alert_outbox WHERE org_id = $1 AND status = 'delivered'", org
        )
        if delivered == 3:
            break
        await asyncio.sleep(0.1)
    assert delivered == 3
    assert (
        len(inbox.messages) == 1
        and b"Storage gb usage reached 80% of quota (800 of 1000)" in inbox.messages[0]
    )
    assert len(calls) == 2  # one refused with 503, then delivered
    for headers, body in calls:
        timestamp = headers["X-Metering-Timestamp"]
        expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        assert headers["X-Metering-Signature"] == f"sha256={expected}"
        assert json.loads(body)["severity"] == "warning"
    assert calls[0][0]["X-Metering-Delivery"] == calls[1][0]["X-Metering-Delivery"]
    await asyncio.sleep(0.6)  # further rounds of both replicas send nothing more
    assert len(inbox.messages) == 1 and len(calls) == 2
