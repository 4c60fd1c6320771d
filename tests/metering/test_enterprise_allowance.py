"""Enterprise: "Unlimited" means no limit until a platform admin sets a negotiated allowance,
which applies from the next period or at once like an upgrade."""

from __future__ import annotations

from decimal import Decimal

import asyncpg
import grpc
import pytest

from services.gen.metering.v1 import admin_pb2 as apb
from services.gen.metering.v1 import admin_pb2_grpc as apb_grpc
from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc
from tests.metering.ledger_checks import assert_ledger_reproduces_balances, shift_history_back_one_month

# One statement moves an allowance and its limits: the key they share is checked when it ends.
ALLOWANCES_ONE_MONTH_BACK = """
WITH limits AS (
    UPDATE negotiated_limits SET effective_from = effective_from - interval '1 month' WHERE org_id = $1
)
UPDATE negotiated_allowances SET effective_from = effective_from - interval '1 month' WHERE org_id = $1"""


async def test_enterprise_without_an_allowance_shows_no_limit_and_deducts(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org(plan_id="enterprise")
    before = await stubs[0].GetQuota(pb.GetQuotaRequest(org_id=org))
    assert (before.unlimited, before.limit, before.percent, before.state) == (True, "", "", pb.QUOTA_STATE_OK)

    spent = await stubs[1].Deduct(pb.DeductRequest(org_id=org, idempotency_key="e1", amount="250"))
    held = await stubs[2].Reserve(pb.ReserveRequest(org_id=org, idempotency_key="h1", amount="100",
                                                         ttl_seconds=60))
    captured = await stubs[0].Deduct(pb.DeductRequest(org_id=org, idempotency_key="e2", amount="40",
                                                      hold_id="h1"))
    await stubs[1].Release(pb.ReleaseRequest(org_id=org, hold_id="h1"))

    assert spent.granted and held.granted and captured.granted
    assert (Decimal(captured.from_hold), Decimal(captured.from_monthly)) == (40, 0)
    after = await stubs[2].GetQuota(pb.GetQuotaRequest(org_id=org))
    # 250 + 40 spent on account; the other 60 of the hold went back.
    assert (after.used, after.unlimited, after.percent, after.state, after.reserved) == (
        "290", True, "", pb.QUOTA_STATE_OK, "0")
    tokens = await stubs[0].GetQuota(pb.GetQuotaRequest(org_id=org, meter="llm_tokens"))
    assert (tokens.unlimited, tokens.percent) == (True, "")
    assert await pool.fetchval("SELECT count(*) FROM alerts WHERE org_id = $1", org) == 0
    async with pool.acquire() as conn:
        await assert_ledger_reproduces_balances(conn, org)


async def test_an_allowance_for_the_next_period_applies_when_it_opens(
    stubs: list[pb_grpc.MeteringServiceStub], admin: apb_grpc.MeteringAdminServiceStub,
    pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org(plan_id="enterprise")
    set_ = await admin.SetNegotiatedAllowance(apb.SetNegotiatedAllowanceRequest(
        org_id=org, monthly_credits="20000", limits=[apb.MeterLimit(meter="llm_tokens", limit="2000000"),
                                                     apb.MeterLimit(meter="storage_gb")]))
    assert [(m.meter, m.limit) for m in set_.limits] == [("llm_tokens", "2000000"), ("storage_gb", "")]
    still = await stubs[0].GetQuota(pb.GetQuotaRequest(org_id=org))
    assert still.unlimited  # this period is unchanged

    async with pool.acquire() as conn:
        await shift_history_back_one_month(conn, org)
        await conn.execute(ALLOWANCES_ONE_MONTH_BACK, org)
    opened = await stubs[1].Deduct(pb.DeductRequest(org_id=org, idempotency_key="n1", amount="5000"))

    assert (opened.granted, Decimal(opened.from_monthly)) == (True, Decimal(5000))
    credits = await stubs[2].GetQuota(pb.GetQuotaRequest(org_id=org))
    # 5,000 of 20,000 = 25 %.
    assert (credits.used, credits.limit, credits.percent, credits.monthly_remaining) == (
        "5000", "20000", "25", "15000")
    tokens = await stubs[0].GetQuota(pb.GetQuotaRequest(org_id=org, meter="llm_tokens"))
    assert (tokens.limit, tokens.unlimited) == ("2000000", False)
    storage = await stubs[0].GetQuota(pb.GetQuotaRequest(org_id=org, meter="storage_gb"))
    assert storage.unlimited  # the plan's 1,000 GB replaced by "unlimited"
    refused = await stubs[1].Deduct(pb.DeductRequest(org_id=org, idempotency_key="n2", amount="15000.01"))
    assert (refused.granted, refused.denial_reason) == (False, pb.DENIAL_REASON_INSUFFICIENT_CREDITS)


async def test_an_allowance_at_once_grants_the_rest_of_the_period_like_an_upgrade(
    stubs: list[pb_grpc.MeteringServiceStub], admin: apb_grpc.MeteringAdminServiceStub, make_org
) -> None:
    org = await make_org(plan_id="enterprise")  # its period starts now
    await admin.SetNegotiatedAllowance(apb.SetNegotiatedAllowanceRequest(
        org_id=org, monthly_credits="30000", at_once=True,
        limits=[apb.MeterLimit(meter="llm_tokens", limit="3000000")]))

    credits = await stubs[0].GetQuota(pb.GetQuotaRequest(org_id=org))
    # Seconds of a month of 28-31 days have passed: 30,000 x (time left / period) is 30,000 less
    # under 1 credit (1 credit of 30,000 is 1/30,000 of a month: over 80 seconds).
    assert not credits.unlimited
    assert Decimal(29999) < Decimal(credits.monthly_remaining) <= Decimal(30000)
    tokens = await stubs[1].GetQuota(pb.GetQuotaRequest(org_id=org, meter="llm_tokens"))
    assert tokens.limit == "3000000"


async def test_an_allowance_is_refused_outside_a_negotiated_plan_and_for_unknown_meters(
    admin: apb_grpc.MeteringAdminServiceStub, make_org
) -> None:
    starter = await make_org(plan_id="starter")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await admin.SetNegotiatedAllowance(apb.SetNegotiatedAllowanceRequest(
            org_id=starter, monthly_credits="100"))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details().startswith("org_id")
    enterprise = await make_org(plan_id="enterprise")
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await admin.SetNegotiatedAllowance(apb.SetNegotiatedAllowanceRequest(
            org_id=enterprise, monthly_credits="100", limits=[apb.MeterLimit(meter="no_such_meter")]))
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    assert unknown.value.details().startswith("limits[0].meter")
