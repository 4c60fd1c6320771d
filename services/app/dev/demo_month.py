"""A month of demo usage for the demo organizations, so every part of the pages shows something.

Seeded once, right after `metering dev` created the demo organizations (whose billing period then
began PERIOD_DAYS_BEFORE_TODAY days ago, so the current period already has days behind it):
workspace groups, workspaces and users; 30 days of usage events (API requests, webhooks, queries,
storage and seat readings) by workspace, user and source through RecordUsage; LLM responses paid
through Deduct (credits, USD for BYOM) by workspace, user and source (web, CLI), then dated on the
period's past days; and per-second billed resources (a database, a namespace) running since the
period began. Figures come from a fixed random seed, so every fresh start shows the same month.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import aiohttp
import asyncpg
import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from services.billing.service.resources import create_resource
from services.billing.store.resources import NewResource
from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc
from services.metering.service import tenancy

DAYS = 30
PERIOD_DAYS_BEFORE_TODAY = 20
RESPONSES = 40
BATCH = 5000
SOURCES = (pb.SOURCE_WEB, pb.SOURCE_WEB, pb.SOURCE_CLI, pb.SOURCE_API)

GROUPS = {"platform": ("Platform", {"api-gateway": "API gateway", "billing-ui": "Billing UI"}),
          "data": ("Data", {"etl": "ETL pipelines", "notebooks": "Notebooks"})}
USERS = {"ana": "Ana Lima", "bo": "Bo Chen", "chen": "Chen Wu", "dee": "Dee Okafor"}
# LLM work of a response: (model, input tokens, output tokens) ranges, per billing model.
MODELS = {"credits": ("claude-haiku-4", (20_000, 80_000), (2_000, 8_000)),
          "byom": ("claude-sonnet-4", (10_000, 40_000), (1_000, 6_000))}

# The seeded responses happened on the period's past days, not all at the moment of seeding: the
# deduction and the usage it recorded are dated back together (demo data only).
REDATE_DEDUCTION = """
UPDATE deductions SET created_at = $3 WHERE org_id = $1 AND idempotency_key = $2"""
REDATE_DEDUCTION_USAGE = """
UPDATE usage_events SET occurred_at = $3 WHERE org_id = $1 AND deduction_key = $2"""


def period_anchor(now: datetime) -> datetime:
    """Where the demo organizations' billing periods begin: midnight UTC some days ago."""
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=PERIOD_DAYS_BEFORE_TODAY)


@dataclass(frozen=True)
class Response:
    key: str
    when: datetime


async def seed_demo_month(dsn: str, grpc_addr: str, org_id: str, billing_model: str, service_key: str,
                          now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    rng = random.Random(f"metering dev {org_id}")
    conn = await asyncpg.connect(dsn)
    try:
        await _tenancy(conn, org_id)
        await _resources(conn, org_id, period_anchor(now))
        async with grpc.aio.insecure_channel(grpc_addr) as channel:
            stub = metering_pb2_grpc.MeteringServiceStub(channel)  # type: ignore[no-untyped-call]
            metadata = (("authorization", f"Bearer {service_key}"),)
            events = _events(org_id, rng, now)
            for start in range(0, len(events), BATCH):
                batch = pb.RecordUsageRequest(org_id=org_id, events=events[start:start + BATCH])
                await stub.RecordUsage(batch, metadata=metadata, timeout=60)
            responses = [await _respond(stub, metadata, org_id, billing_model, rng, now)
                         for _ in range(RESPONSES)]
        for response in responses:
            async with conn.transaction():
                await conn.execute(REDATE_DEDUCTION, org_id, response.key, response.when)
                await conn.execute(REDATE_DEDUCTION_USAGE, org_id, response.key, response.when)
    finally:
        await conn.close()


async def look_at_the_page(http_addr: str, key: str) -> None:
    """The demo tenant admin reads its usage once through the HTTP API, as the billing page does,
    so the page's API usage card has requests and a latency of its own from the start."""
    headers = {"Authorization": f"Bearer {key}"}
    async with aiohttp.ClientSession(f"http://{http_addr}", headers=headers) as session:
        for path in ("/api/v1/credits/overview", "/api/v1/usage", "/api/metrics"):
            async with session.get(path) as answer:
                await answer.read()


async def _tenancy(conn: asyncpg.Connection, org_id: str) -> None:
    for group_id, (group_name, workspaces) in GROUPS.items():
        await tenancy.create_group(conn, org_id, group_id, group_name)
        for workspace_id, name in workspaces.items():
            await tenancy.create_workspace(conn, org_id, workspace_id, name, group_id)
    for user_id, name in USERS.items():
        await tenancy.create_user(conn, org_id, user_id, f"{user_id}@example.com", name)


async def _resources(conn: asyncpg.Connection, org_id: str, since: datetime) -> None:
    await create_resource(conn, NewResource(org_id, "db-main", "postgres", "starter", Decimal(1),
                                            "Main database", "ana"), since)
    await create_resource(conn, NewResource(org_id, "ns-staging", "namespace", "pro", Decimal(1),
                                            "Staging namespace", "bo"), since + timedelta(days=3))


def _workspaces() -> list[str]:
    return [w for _, (_, workspaces) in GROUPS.items() for w in workspaces]


def _events(org_id: str, rng: random.Random, now: datetime) -> list[pb.UsageEvent]:
    """Each of the last DAYS days (today up to now): traffic by workspace, user and source, and one
    storage and seat reading."""
    events = []
    for days_back in range(DAYS - 1, -1, -1):
        day = now - timedelta(days=days_back)
        for workspace in _workspaces():
            user = rng.choice(list(USERS))
            moment = _earlier_that_day(day, rng, now)
            for meter, low, high in (("api_requests", 200, 2_000), ("webhook_events", 5, 60),
                                     ("queries", 20, 400)):
                events.append(_event(meter, rng.randint(low, high), moment, workspace, user,
                                     rng.choice(SOURCES)))
        storage = Decimal(2) + Decimal(DAYS - days_back) / 10
        events.append(_event("storage_gb", storage, _earlier_that_day(day, rng, now)))
        events.append(_event("seats", len(USERS), _earlier_that_day(day, rng, now)))
    return events


def _earlier_that_day(day: datetime, rng: random.Random, now: datetime) -> datetime:
    midnight = day.replace(hour=0, minute=0, second=0, microsecond=0)
    latest = min(now - timedelta(minutes=1), midnight + timedelta(days=1) - timedelta(seconds=1))
    return midnight + (latest - midnight) * rng.random()


def _event(meter: str, quantity: int | Decimal, when: datetime, workspace: str = "", user: str = "",
           source: int = 0) -> pb.UsageEvent:
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return pb.UsageEvent(idempotency_key=f"demo-{uuid.uuid4().hex}", meter=meter, quantity=str(quantity),
                         occurred_at=stamp, workspace_id=workspace, user_id=user,
                         source=source)  # type: ignore[arg-type]


async def _respond(stub: metering_pb2_grpc.MeteringServiceStub, metadata: tuple[tuple[str, str], ...],
                   org_id: str, billing_model: str, rng: random.Random, now: datetime) -> Response:
    """One LLM response paid through Deduct, and the moment in the period it is dated at."""
    model, given, taken = MODELS[billing_model]
    key = f"demo-response-{uuid.uuid4().hex}"
    # Most responses come from a registered user's agent in a registered workspace; some from a
    # one-off CI job's agent in a workspace nobody registered (an ephemeral agent).
    workspace, user = ((rng.choice(_workspaces()), rng.choice(list(USERS))) if rng.random() < 0.85
                       else (f"ci-job-{rng.randint(1, 3)}", ""))
    answer = await stub.Deduct(pb.DeductRequest(
        org_id=org_id, idempotency_key=key, workspace_id=workspace, user_id=user,
        source=rng.choice(SOURCES[:3]),
        tokens=pb.LlmTokens(model=model, input_tokens=str(rng.randint(*given)),
                            output_tokens=str(rng.randint(*taken)))), metadata=metadata, timeout=30)
    if not answer.granted:
        return Response(key, now)
    anchor = period_anchor(now)
    return Response(key, anchor + (now - anchor - timedelta(minutes=1)) * rng.random())
