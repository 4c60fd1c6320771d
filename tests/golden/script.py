"""The scripted month: four organizations driven through the real gRPC API of a real server.

The billing period of every organization starts at midnight UTC ten days ago (its anchor), so the
gauge readings, queries and resources of days 0..9 lie in the past and today's streaming LLM
responses (which the server stamps with its own clock) fall on day 10. Nothing here computes an
expected figure: the script only acts, and keeps what the server answered for the tests to check.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from services.billing.service.resources import create_resource, delete_resource
from services.billing.store.resources import NewResource
from services.gen.metering.v1 import admin_pb2 as apb
from services.gen.metering.v1 import admin_pb2_grpc, metering_pb2_grpc
from services.gen.metering.v1 import metering_pb2 as pb
from services.kit.caller import Role
from services.metering.store.api_keys import create_api_key
from services.metering.store.organizations import NewOrganization, create_organization
from tests.metering.clients import aio_channel

DAY = timedelta(days=1)
PERIOD_DAYS_BEFORE_TODAY = 10
ROLES = (Role.TENANT_ADMIN, Role.BILLING_CONTACT, Role.SERVICE)


@dataclass(frozen=True)
class Chunk:
    """Token counts of one streamed chunk of an LLM response."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_read + self.cache_write


@dataclass
class Org:
    name: str
    org_id: str
    keys: dict[Role, str]
    deducts: list[tuple[Chunk, pb.DeductResponse]] = field(default_factory=list)
    reserves: list[pb.ReserveResponse] = field(default_factory=list)
    releases: list[pb.ReleaseResponse] = field(default_factory=list)
    notes: dict[str, object] = field(default_factory=dict)


@dataclass
class Month:
    anchor: datetime
    started: datetime  # wall clock when the script began (today, UTC)
    orgs: dict[str, Org]
    upgraded_at: datetime | None = None
    cap_lowered_at: datetime | None = None
    allowance_at: datetime | None = None  # when the negotiated allowance took effect


def day(anchor: datetime, k: int, hour: float = 0) -> datetime:
    return anchor + k * DAY + timedelta(hours=hour)


def stamp(when: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(when)
    return out


class Script:
    def __init__(self, grpc_addr: str, platform_key: str, pool: asyncpg.Pool, anchor: datetime) -> None:
        self.addr, self.platform_key, self.pool, self.anchor = grpc_addr, platform_key, pool, anchor

    # --- set-up ------------------------------------------------------------------------------

    async def organization(self, name: str, plan_id: str, billing_model: str = "credits",
                           cap: Decimal | None = None) -> Org:
        org_id = f"golden-{name}-{uuid.uuid4().hex[:8]}"
        async with self.pool.acquire() as conn:
            await create_organization(conn, NewOrganization(
                org_id, f"Golden {name}", plan_id, billing_model, cap, billing_anchor=self.anchor))
            keys = {r: (await create_api_key(conn, org_id, r, r.value))[1] for r in ROLES}
        return Org(name, org_id, keys)

    def admin(self) -> tuple[grpc.aio.Channel, admin_pb2_grpc.MeteringAdminServiceStub]:
        channel = aio_channel(self.addr, self.platform_key)
        return channel, admin_pb2_grpc.MeteringAdminServiceStub(channel)

    # --- usage -------------------------------------------------------------------------------

    async def record(self, org: Org, events: list[tuple[str, str, int, float]]) -> None:
        """(meter, quantity, day, hour) readings and counts, recorded as one batch."""
        batch = [
            pb.UsageEvent(idempotency_key=f"{meter}-{k}-{hour}-{i}", meter=meter, quantity=quantity,
                          occurred_at=stamp(day(self.anchor, k, hour)), source=pb.SOURCE_API)
            for i, (meter, quantity, k, hour) in enumerate(events)
        ]
        async with aio_channel(self.addr, org.keys[Role.SERVICE]) as channel:
            reply = await metering_pb2_grpc.MeteringServiceStub(channel).RecordUsage(
                pb.RecordUsageRequest(org_id=org.org_id, events=batch))
        assert reply.accepted == len(batch), reply

    async def stream(self, org: Org, response: str, hold: str, model: str, chunks: list[Chunk]) -> None:
        """One streamed LLM response: hold an estimate, deduct each chunk's tokens, release the rest."""
        async with aio_channel(self.addr, org.keys[Role.SERVICE]) as channel:
            stub = metering_pb2_grpc.MeteringServiceStub(channel)
            reserved = await stub.Reserve(pb.ReserveRequest(
                org_id=org.org_id, idempotency_key=response, amount=hold, ttl_seconds=3600))
            org.reserves.append(reserved)
            for n, chunk in enumerate(chunks):
                tokens = pb.LlmTokens(model=model, input_tokens=str(chunk.input),
                                      output_tokens=str(chunk.output),
                                      cache_read_tokens=str(chunk.cache_read),
                                      cache_write_tokens=str(chunk.cache_write))
                reply = await stub.Deduct(pb.DeductRequest(
                    org_id=org.org_id, idempotency_key=f"{response}-chunk-{n}", tokens=tokens,
                    hold_id=response if reserved.granted else "", source=pb.SOURCE_WEB,
                    workspace_id="ws-main", user_id="ana"))
                org.deducts.append((chunk, reply))
            if reserved.granted:
                released = await stub.Release(pb.ReleaseRequest(org_id=org.org_id, hold_id=response))
                org.releases.append(released)

    async def resource(self, org: Org, resource_id: str, kind: str, tier: str, since: datetime,
                       until: datetime) -> None:
        """A per-second billed resource that ran from `since` to `until` (whole seconds)."""
        async with self.pool.acquire() as conn:
            await create_resource(conn, NewResource(org.org_id, resource_id, kind, tier, Decimal(1),
                                                    resource_id, "ana"), since)
            await delete_resource(conn, org.org_id, resource_id, until)

    async def adjust_moment(self, org: Org, reason: str) -> datetime:
        """When the server applied a grant change (its own clock, from the ledger)."""
        async with self.pool.acquire() as conn:
            moment: datetime = await conn.fetchval(
                "SELECT max(created_at) FROM ledger_entries WHERE org_id = $1 AND kind = 'adjust' "
                "AND reference = $2", org.org_id, reason)
        return moment


# The month starts at least this long before midnight UTC, or waits for the next day.
MIDNIGHT_MARGIN = timedelta(minutes=15)


async def wait_clear_of_midnight() -> datetime:
    """Today's deductions must all fall on one UTC day: start at least MIDNIGHT_MARGIN before
    midnight."""
    now = datetime.now(UTC)
    midnight = (now + DAY).replace(hour=0, minute=0, second=0, microsecond=0)
    if midnight - now < MIDNIGHT_MARGIN:
        await asyncio.sleep((midnight - now).total_seconds() + 1)
        now = datetime.now(UTC)
    return now


async def play(grpc_addr: str, platform_key: str, pool: asyncpg.Pool) -> Month:
    started = await wait_clear_of_midnight()
    anchor = started.replace(hour=0, minute=0, second=0, microsecond=0) - PERIOD_DAYS_BEFORE_TODAY * DAY
    s = Script(grpc_addr, platform_key, pool, anchor)
    month = Month(anchor, started, {})
    month.orgs["free"] = await free_with_bonus(s)
    month.orgs["starter"] = await starter_upgraded(s, month)
    month.orgs["enterprise"] = await enterprise_negotiated(s, month)
    month.orgs["byom"] = await byom_cap_lowered(s, month)
    return month


async def free_with_bonus(s: Script) -> Org:
    org = await s.organization("free", "free")
    channel, admin = s.admin()
    async with channel:
        await admin.GrantBonusCredits(apb.GrantBonusCreditsRequest(
            org_id=org.org_id, amount="1000", source="referral"))
    await s.record(org, [
        ("storage_gb", "1", 2, 9), ("storage_gb", "3", 2, 13), ("storage_gb", "2", 2, 17),
        ("storage_gb", "2", 5, 9), ("storage_gb", "4", 5, 13), ("storage_gb", "1", 5, 17),
        ("seats", "1", 1, 10), ("seats", "2", 6, 10),
        ("queries", "250", 3, 11),
    ])
    chunk = Chunk(input=100_000, output=20_000)
    for n in (1, 2):
        await s.stream(org, f"free-response-{n}", "700", "claude-sonnet-4", [chunk] * 10)
    return org


async def starter_upgraded(s: Script, month: Month) -> Org:
    org = await s.organization("starter", "starter")
    await s.record(org, [
        ("queries", "3000", 1, 10), ("queries", "4000", 4, 10), ("queries", "1500", 8, 10),
        ("storage_gb", "4", 1, 9), ("storage_gb", "4", 1, 13), ("storage_gb", "4", 1, 17),
        ("storage_gb", "6", 6, 9), ("storage_gb", "9.5", 6, 13), ("storage_gb", "7", 6, 17),
        ("seats", "3", 1, 8), ("seats", "4", 7, 8),
        ("api_requests", "120000", 2, 12),
        ("bandwidth_gb", "2.5", 3, 15), ("bandwidth_gb", "1.5", 9, 15),
    ])
    await s.resource(org, "db-main", "postgres", "pro", day(s.anchor, 1, 12), day(s.anchor, 3, 12))
    await s.stream(org, "starter-response-1", "100", "claude-haiku-4",
                   [Chunk(input=140_000, output=10_000)] * 3)
    async with s.pool.acquire() as conn:
        org.notes["alerts_before_upgrade"] = sorted(
            (r["resource"], r["severity"]) for r in await conn.fetch(
                "SELECT resource, severity FROM alerts WHERE org_id = $1 AND status = 'active'", org.org_id))
    channel, admin = s.admin()
    async with channel:
        await admin.ChangePlan(apb.ChangePlanRequest(org_id=org.org_id, plan_id="professional"))
    month.upgraded_at = await s.adjust_moment(org, "upgrade to professional")
    await s.stream(org, "starter-response-2", "250", "claude-haiku-4",
                   [Chunk(input=500_000, output=100_000)] * 2)
    return org


NEGOTIATED_CREDITS = "200000"
NEGOTIATED_LIMITS = {"llm_tokens": "10000000", "queries": "50000"}


async def negotiate(admin: admin_pb2_grpc.MeteringAdminServiceStub, org_id: str) -> datetime | None:
    """The platform admin's negotiated Enterprise allowance, in force at once; when it took effect.

    None while the server has no such RPC, so the rest of the month still runs."""
    rpc = getattr(admin, "SetNegotiatedAllowance", None)
    if rpc is None:
        return None
    reply = await rpc(apb.SetNegotiatedAllowanceRequest(
        org_id=org_id, monthly_credits=NEGOTIATED_CREDITS, at_once=True,
        limits=[apb.MeterLimit(meter=m, limit=v) for m, v in NEGOTIATED_LIMITS.items()]))
    moment: datetime = reply.effective_from.ToDatetime(tzinfo=UTC)
    return moment


async def enterprise_negotiated(s: Script, month: Month) -> Org:
    org = await s.organization("enterprise", "enterprise")
    channel, admin = s.admin()
    async with channel:
        for user in ("ana", "bo", "cy"):
            await admin.CreateUser(apb.CreateUserRequest(
                org_id=org.org_id, user_id=user, email=f"{user}@example.com", name=f"User {user}"))
        month.allowance_at = await negotiate(admin, org.org_id)
    await s.record(org, [
        ("storage_gb", "200", 4, 9), ("storage_gb", "350", 4, 13), ("storage_gb", "300", 4, 17),
        ("storage_gb", "500", 8, 9), ("storage_gb", "450", 8, 13),
        ("queries", "12000", 2, 10), ("queries", "5000", 5, 10),
    ])
    await s.resource(org, "db-analytics", "postgres", "scale", day(s.anchor, 2, 0), day(s.anchor, 2, 10))
    await s.resource(org, "ns-batch", "namespace", "pro", day(s.anchor, 5, 6), day(s.anchor, 6, 6))
    channel, admin = s.admin()
    async with channel:
        # A soft limit on queries with a budget alert at 85 %, and a storage limit set too low then raised.
        await admin.SetQuota(apb.SetQuotaRequest(org_id=org.org_id, resource="queries", soft_limit="20000",
                                                 alert_at_percent=85))
        await admin.SetQuota(apb.SetQuotaRequest(org_id=org.org_id, resource="storage_gb", soft_limit="400"))
        await admin.SetQuota(apb.SetQuotaRequest(org_id=org.org_id, resource="storage_gb",
                                                 soft_limit="2000"))
    chunk = Chunk(input=400_000, output=100_000, cache_read=200_000, cache_write=40_000)
    await s.stream(org, "enterprise-response-1", "1000", "gpt-4o", [chunk] * 4)
    return org


async def byom_cap_lowered(s: Script, month: Month) -> Org:
    org = await s.organization("byom", "free", "byom", Decimal(100))
    await s.record(org, [
        ("storage_gb", "10", 3, 9), ("storage_gb", "20", 3, 13), ("storage_gb", "15", 3, 17),
        ("api_requests", "50000", 4, 12),
    ])
    chunk = Chunk(input=2_000_000, output=200_000)
    for n in (1, 2):
        await s.stream(org, f"byom-response-{n}", "30", "claude-sonnet-4", [chunk] * 3)
    channel, admin = s.admin()
    async with channel:
        await admin.SetSpendCap(apb.SetSpendCapRequest(org_id=org.org_id, monthly_spend_cap_usd="40"))
    month.cap_lowered_at = await s.adjust_moment(org, "spend cap change")
    # Once the lowered cap is passed, a new response is refused.
    await s.stream(org, "byom-response-3", "1", "claude-sonnet-4", [Chunk(input=100_000)])
    return org
