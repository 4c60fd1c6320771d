"""Seeding an organization through the real gRPC API, keeping what was sent so tests can compute
the expected figures on their own."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
from google.protobuf.timestamp_pb2 import Timestamp

from services.gen.metering.v1 import admin_pb2 as apb
from services.gen.metering.v1 import admin_pb2_grpc, metering_pb2_grpc
from services.gen.metering.v1 import metering_pb2 as pb
from services.kit.caller import Role
from services.metering.store.api_keys import create_api_key
from tests.metering.clients import aio_channel

SOURCES = {"web": pb.SOURCE_WEB, "cli": pb.SOURCE_CLI, "api": pb.SOURCE_API}


@dataclass(frozen=True)
class Event:
    meter: str
    quantity: Decimal
    occurred_at: datetime
    workspace_id: str = ""
    user_id: str = ""
    source: str = ""


@dataclass(frozen=True)
class Spend:
    amount: Decimal
    workspace_id: str = ""
    user_id: str = ""
    source: str = ""


@dataclass
class Seeded:
    org_id: str
    keys: dict[Role, str]
    events: list[Event] = field(default_factory=list)
    spends: list[Spend] = field(default_factory=list)
    workspaces: dict[str, str | None] = field(default_factory=dict)  # id -> group
    names: dict[str, str] = field(default_factory=dict)

    def used(self, meter: str, start: datetime | None = None, end: datetime | None = None) -> Decimal:
        return sum(
            (
                e.quantity
                for e in self.events
                if e.meter == meter
                and (start is None or e.occurred_at >= start)
                and (end is None or e.occurred_at < end)
            ),
            Decimal(0),
        )

    def spend_by(self, attribute: str) -> dict[str, Decimal]:
        out: dict[str, Decimal] = defaultdict(Decimal)
        for s in self.spends:
            group = self.workspaces.get(s.workspace_id) or ""
            key = group if attribute == "group" else getattr(s, attribute)
            out[key] += s.amount
        return dict(out)


def ts(when: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return stamp


class Seeder:
    def __init__(self, addr: str, platform_key: str, pool: asyncpg.Pool) -> None:
        self.addr, self.platform_key, self.pool = addr, platform_key, pool

    async def organization(self, plan_id: str = "starter", bonus: str = "0") -> Seeded:
        org_id = f"rep-{uuid.uuid4().hex[:10]}"
        async with aio_channel(self.addr, self.platform_key) as channel:
            admin = admin_pb2_grpc.MeteringAdminServiceStub(channel)
            await admin.CreateOrganization(
                apb.CreateOrganizationRequest(org_id=org_id, name=f"Org {org_id}", plan_id=plan_id)
            )
            if bonus != "0":
                await admin.GrantBonusCredits(
                    apb.GrantBonusCreditsRequest(org_id=org_id, amount=bonus, source="promotion")
                )
        keys = {}
        async with self.pool.acquire() as conn:
            for role in (Role.TENANT_ADMIN, Role.BILLING_CONTACT, Role.SERVICE):
                keys[role] = (await create_api_key(conn, org_id, role, role.value))[1]
        return Seeded(org_id, keys)

    async def tenancy(self, seeded: Seeded, groups: dict[str, list[str]], users: list[str]) -> None:
        async with aio_channel(self.addr, self.platform_key) as channel:
            admin = admin_pb2_grpc.MeteringAdminServiceStub(channel)
            for group, workspaces in groups.items():
                await admin.CreateWorkspaceGroup(
                    apb.CreateWorkspaceGroupRequest(
                        org_id=seeded.org_id, group_id=group, name=f"Group {group}"
                    )
                )
                seeded.names[group] = f"Group {group}"
                for ws in workspaces:
                    await admin.CreateWorkspace(
                        apb.CreateWorkspaceRequest(
                            org_id=seeded.org_id, workspace_id=ws, name=f"Workspace {ws}", group_id=group
                        )
                    )
                    seeded.workspaces[ws] = group
                    seeded.names[ws] = f"Workspace {ws}"
            for user in users:
                await admin.CreateUser(
                    apb.CreateUserRequest(
                        org_id=seeded.org_id, user_id=user, email=f"{user}@example.com", name=f"User {user}"
                    )
                )
                seeded.names[user] = f"User {user}"

    async def record(self, seeded: Seeded, events: list[Event]) -> None:
        async with aio_channel(self.addr, seeded.keys[Role.SERVICE]) as channel:
            stub = metering_pb2_grpc.MeteringServiceStub(channel)
            batch = [
                pb.UsageEvent(
                    idempotency_key=uuid.uuid4().hex,
                    meter=e.meter,
                    quantity=str(e.quantity),
                    occurred_at=ts(e.occurred_at),
                    workspace_id=e.workspace_id,
                    user_id=e.user_id,
                    source=SOURCES.get(e.source, 0),
                )
                for e in events
            ]
            reply = await stub.RecordUsage(pb.RecordUsageRequest(org_id=seeded.org_id, events=batch))
            assert reply.accepted == len(events), reply
        seeded.events.extend(events)

    async def spend(self, seeded: Seeded, spends: list[Spend]) -> None:
        async with aio_channel(self.addr, seeded.keys[Role.SERVICE]) as channel:
            stub = metering_pb2_grpc.MeteringServiceStub(channel)
            for s in spends:
                reply = await stub.Deduct(
                    pb.DeductRequest(
                        org_id=seeded.org_id,
                        idempotency_key=uuid.uuid4().hex,
                        amount=str(s.amount),
                        workspace_id=s.workspace_id,
                        user_id=s.user_id,
                        source=SOURCES.get(s.source, 0),
                    )
                )
                assert reply.granted, reply
                seeded.spends.append(s)


def now() -> datetime:
    return datetime.now(UTC)


def days_ago(days: float) -> datetime:
    return now() - timedelta(days=days)
