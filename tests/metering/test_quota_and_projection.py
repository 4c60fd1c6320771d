"""GetQuota and Project: states at 80/95/100 %, period figures, run-out projections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg

from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc
from services.metering.domain.billing_period import BillingPeriod, add_months, period_containing
from services.metering.domain.quota import QuotaState, project, quota_state


def test_quota_states_follow_the_product_thresholds() -> None:
    limit = Decimal(100)
    cases = {
        "0": QuotaState.OK,
        "79.99": QuotaState.OK,
        "80": QuotaState.WARNING,
        "94.9": QuotaState.WARNING,
        "95": QuotaState.CRITICAL,
        "100": QuotaState.CRITICAL,
        "100.01": QuotaState.OVERAGE,
    }
    for used, state in cases.items():
        assert quota_state(Decimal(used), limit) is state, used
    assert quota_state(Decimal(10**9), None) is QuotaState.OK


def test_billing_periods_start_on_the_anchor_day_and_clamp_short_months() -> None:
    anchor = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
    assert add_months(anchor, 1) == datetime(2026, 2, 28, 9, 0, tzinfo=UTC)
    period = period_containing(anchor, datetime(2026, 3, 15, tzinfo=UTC))
    assert (period.start, period.end) == (
        datetime(2026, 2, 28, 9, 0, tzinfo=UTC),
        datetime(2026, 3, 31, 9, 0, tzinfo=UTC),
    )
    now = datetime(2026, 3, 10, 21, 0, tzinfo=UTC)
    assert (period.days_elapsed(now), period.days_remaining(now)) == (10, 21)


def test_projection_runs_out_before_period_end_at_the_current_rate() -> None:
    period = BillingPeriod(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    now = datetime(2026, 11, 11, tzinfo=UTC)  # 10 days in, 20 left
    p = project(Decimal(300), Decimal(200), Decimal(500), period, now)
    assert p.average_per_day == Decimal(30)
    assert p.projected_period_end == Decimal(900)
    assert p.run_out_in_days == Decimal("6.66")
    assert p.will_exceed
    idle = project(Decimal(0), Decimal(500), Decimal(500), period, now)
    assert idle.run_out_in_days is None and not idle.will_exceed


async def test_get_quota_reports_credit_use_state_and_period(
    stubs: list[pb_grpc.MeteringServiceStub], make_org
) -> None:
    org = await make_org(bonus=100)
    await stubs[0].Deduct(pb.DeductRequest(org_id=org, idempotency_key="a", amount="500"))
    await stubs[1].Reserve(pb.ReserveRequest(org_id=org, idempotency_key="h", amount="10"))
    q = await stubs[2].GetQuota(pb.GetQuotaRequest(org_id=org))
    assert (q.used, q.limit, q.percent, q.state) == ("500", "600", "83.33", pb.QUOTA_STATE_WARNING)
    assert (q.monthly_remaining, q.bonus_remaining, q.reserved) == ("0", "90", "10")
    assert q.unit == pb.UNIT_CREDITS
    assert q.period.days_elapsed == 0 and q.period.days_remaining in (28, 29, 30, 31)
    start, end = q.period.start.ToDatetime(), q.period.end.ToDatetime()
    assert timedelta(days=28) <= end - start <= timedelta(days=31)


async def test_meter_quota_compares_this_periods_events_with_the_plan_limit(
    stubs: list[pb_grpc.MeteringServiceStub], make_org
) -> None:
    org = await make_org(plan_id="starter")  # 10,000 queries a month
    await stubs[0].RecordUsage(
        pb.RecordUsageRequest(
            org_id=org,
            events=[
                pb.UsageEvent(idempotency_key=f"q{n}", meter="queries", quantity="2400") for n in range(4)
            ],
        )
    )
    q = await stubs[1].GetQuota(pb.GetQuotaRequest(org_id=org, meter="queries"))
    assert (q.used, q.limit, q.percent, q.state) == ("9600", "10000", "96", pb.QUOTA_STATE_CRITICAL)
    await stubs[2].RecordUsage(
        pb.RecordUsageRequest(
            org_id=org, event=pb.UsageEvent(idempotency_key="q-over", meter="queries", quantity="500")
        )
    )
    over = await stubs[0].GetQuota(pb.GetQuotaRequest(org_id=org, meter="queries"))
    assert (over.state, over.percent) == (pb.QUOTA_STATE_OVERAGE, "101")
    p = await stubs[1].Project(pb.ProjectRequest(org_id=org, meter="queries"))
    assert p.will_exceed and p.used == "10100" and p.average_per_day == "10100"
    assert p.run_out_in_days == "0"


async def test_project_credits_from_this_periods_average(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    # Ten days into the period, 100 credits used: 10 a day, 400 left -> runs out in 40 days.
    await pool.execute(
        "UPDATE organizations SET billing_anchor = now() - interval '10 days' WHERE org_id = $1", org
    )
    await pool.execute(
        "UPDATE balances SET period_start = now() - interval '10 days', "
        "period_end = now() - interval '10 days' + interval '1 month' WHERE org_id = $1",
        org,
    )
    await pool.execute(
        "UPDATE credit_grants SET period_start = now() - interval '10 days', "
        "expires_at = now() - interval '10 days' + interval '1 month' WHERE org_id = $1",
        org,
    )
    await stubs[0].Deduct(pb.DeductRequest(org_id=org, idempotency_key="ten-days", amount="100"))
    p = await stubs[1].Project(pb.ProjectRequest(org_id=org))
    # The calls land a few milliseconds after the ten days: the rate is a hair under 10 a day.
    assert Decimal("9.999") < Decimal(p.average_per_day) <= 10
    assert p.run_out_in_days == "40"
    assert not p.will_exceed
    assert p.period.days_elapsed == 10
