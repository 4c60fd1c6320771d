"""Meters aggregate by their kind: sums add up, a peak is the highest daily reading, a level is the
latest reading; GetQuota, Project and hard limits count them so (real servers and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from services.gen.metering.v1 import admin_pb2 as apb
from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc


def _day(days_back: int, hour: int) -> datetime:
    """`hour` o'clock UTC of the day `days_back` days before today."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days_back) + timedelta(hours=hour)


def _event(meter: str, quantity: str, at: datetime) -> pb.UsageEvent:
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return pb.UsageEvent(idempotency_key=uuid.uuid4().hex, meter=meter, quantity=quantity, occurred_at=stamp)


async def _record(
    stub: pb_grpc.MeteringServiceStub, org: str, *events: pb.UsageEvent
) -> pb.RecordUsageResponse:
    return await stub.RecordUsage(pb.RecordUsageRequest(org_id=org, events=list(events)))


async def _starter_org(make_org) -> str:  # type: ignore[no-untyped-def]
    """A Starter organization whose period began 10 days ago (readings of past days count)."""
    return str(await make_org(plan_id="starter", billing_anchor=datetime.now(UTC) - timedelta(days=10)))


async def test_three_storage_readings_of_one_day_count_once(stubs, make_org) -> None:
    org = await _starter_org(make_org)
    await _record(stubs[0], org, *(_event("storage_gb", "4", _day(3, h)) for h in (1, 2, 3)))
    quota = await stubs[1].GetQuota(pb.GetQuotaRequest(org_id=org, meter="storage_gb"))
    # Peak of the day: max(4, 4, 4) = 4 of the Starter plan's 10 GB = 40 %.
    assert (quota.used, quota.limit, quota.percent) == ("4", "10", "40")
    assert quota.state == pb.QUOTA_STATE_OK
    projection = await stubs[2].Project(pb.ProjectRequest(org_id=org, meter="storage_gb"))
    # A peak projects flat: it stays 4 at period end, at no daily rate, and never runs out.
    assert (projection.used, projection.average_per_day, projection.projected_period_end) == ("4", "0", "4")
    assert projection.run_out_in_days == "" and not projection.will_exceed


async def test_a_period_peak_is_the_highest_daily_peak(stubs, make_org) -> None:
    org = await _starter_org(make_org)
    await _record(
        stubs[0],
        org,
        _event("storage_gb", "2", _day(4, 1)),
        _event("storage_gb", "6", _day(4, 9)),
        _event("storage_gb", "5", _day(2, 1)),
        _event("storage_gb", "3", _day(1, 5)),
    )
    quota = await stubs[0].GetQuota(pb.GetQuotaRequest(org_id=org, meter="storage_gb"))
    # Daily peaks 6, 5, 3: the period's figure is the highest, 6 (60 % of 10 GB).
    assert (quota.used, quota.percent) == ("6", "60")


async def test_seats_are_the_latest_reading_else_the_registered_users(stubs, admin, make_org) -> None:
    org = await _starter_org(make_org)
    for user in ("ann", "bob"):
        await admin.CreateUser(
            apb.CreateUserRequest(org_id=org, user_id=user, email=f"{user}@x.test", name=user)
        )
    before = await stubs[0].GetQuota(pb.GetQuotaRequest(org_id=org, meter="seats"))
    assert (before.used, before.limit) == ("2", "5")  # no readings: the 2 registered users of 5 seats
    # Recorded out of order: 2 (day -3), 3 (day -1), 5 (day -2). The latest reading is 3.
    await _record(
        stubs[1],
        org,
        _event("seats", "2", _day(3, 1)),
        _event("seats", "3", _day(1, 1)),
        _event("seats", "5", _day(2, 1)),
    )
    after = await stubs[2].GetQuota(pb.GetQuotaRequest(org_id=org, meter="seats"))
    assert (after.used, after.percent) == ("3", "60")  # 3 of 5 seats


async def test_sum_meters_still_add_their_readings(stubs, make_org) -> None:
    org = await _starter_org(make_org)
    await _record(
        stubs[0],
        org,
        _event("queries", "10", _day(3, 1)),
        _event("queries", "20", _day(3, 2)),
        _event("queries", "30", _day(1, 1)),
    )
    quota = await stubs[1].GetQuota(pb.GetQuotaRequest(org_id=org, meter="queries"))
    assert (quota.used, quota.limit) == ("60", "10000")  # 10 + 20 + 30


async def test_a_hard_limit_on_storage_bounds_each_reading_not_their_sum(
    stubs, admin, make_org, pool: asyncpg.Pool
) -> None:
    org = await _starter_org(make_org)
    await admin.SetQuota(apb.SetQuotaRequest(org_id=org, resource="storage_gb", hard_limit="10"))
    # Three readings of 4 GB: each is 4 <= 10 (summed they would be 12 > 10 and the third refused).
    accepted = await _record(stubs[0], org, *(_event("storage_gb", "4", _day(2, h)) for h in (1, 2, 3)))
    assert [r.status for r in accepted.results] == [pb.EVENT_STATUS_ACCEPTED] * 3
    refused = await _record(
        stubs[1], org, _event("storage_gb", "11", _day(1, 1)), _event("storage_gb", "9", _day(1, 2))
    )
    assert [r.status for r in refused.results] == [pb.EVENT_STATUS_REJECTED, pb.EVENT_STATUS_ACCEPTED]
    assert refused.results[0].violation.code == "RESOURCE_EXHAUSTED"
    quota = await stubs[2].GetQuota(pb.GetQuotaRequest(org_id=org, meter="storage_gb"))
    assert quota.used == "9"  # daily peaks 4 and 9; the refused 11 was not stored
    counter = await pool.fetchval(
        "SELECT used FROM quotas WHERE org_id = $1 AND resource = 'storage_gb'", org
    )
    assert counter == 9


async def test_a_hard_limit_on_seats_takes_the_latest_reading(stubs, admin, make_org) -> None:
    org = await _starter_org(make_org)
    await admin.SetQuota(apb.SetQuotaRequest(org_id=org, resource="seats", hard_limit="5"))
    first = await _record(
        stubs[0],
        org,
        _event("seats", "4", _day(2, 1)),
        _event("seats", "5", _day(2, 2)),
        _event("seats", "2", _day(1, 1)),
    )
    assert [r.status for r in first.results] == [pb.EVENT_STATUS_ACCEPTED] * 3
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stubs[1].RecordUsage(pb.RecordUsageRequest(org_id=org, event=_event("seats", "6", _day(1, 2))))
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    quota = await stubs[2].GetQuota(pb.GetQuotaRequest(org_id=org, meter="seats"))
    assert (quota.used, quota.percent) == ("2", "40")  # the latest reading, 2 of 5
