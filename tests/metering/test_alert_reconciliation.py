"""Alerts follow the limit as well as the usage: a raised limit, an upgrade or a bonus grant
resolves what no longer applies, and a spend cap lowered below the spend is an overage."""

from __future__ import annotations

from decimal import Decimal

import asyncpg

from services.gen.metering.v1 import admin_pb2 as apb
from services.gen.metering.v1 import admin_pb2_grpc as apb_grpc
from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc

ACTIVE = "SELECT resource, severity FROM alerts WHERE org_id = $1 AND status = 'active' ORDER BY 1, 2"


async def _active(pool: asyncpg.Pool, org: str) -> list[tuple[str, str]]:
    return [(r["resource"], r["severity"]) for r in await pool.fetch(ACTIVE, org)]


async def test_a_bonus_grant_resolves_the_credit_alerts_it_takes_usage_below(
    stubs: list[pb_grpc.MeteringServiceStub], admin: apb_grpc.MeteringAdminServiceStub,
    pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()  # Free: 500 credits
    await stubs[0].Deduct(pb.DeductRequest(org_id=org, idempotency_key="d1", amount="480"))
    assert await _active(pool, org) == [("credits", "critical"), ("credits", "warning")]  # 480/500 = 96 %

    await admin.GrantBonusCredits(
        apb.GrantBonusCreditsRequest(org_id=org, amount="100", source="promotion"))

    assert await _active(pool, org) == [("credits", "warning")]  # 480 / (500 + 100) = 80 %
    quota = await stubs[1].GetQuota(pb.GetQuotaRequest(org_id=org))
    assert (quota.used, quota.limit, quota.percent, quota.state) == (
        "480", "600", "80", pb.QUOTA_STATE_WARNING)


async def test_a_plan_upgrade_resolves_the_plan_limit_alerts(
    stubs: list[pb_grpc.MeteringServiceStub], admin: apb_grpc.MeteringAdminServiceStub,
    pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org(plan_id="starter")  # 10,000 queries
    await stubs[0].RecordUsage(pb.RecordUsageRequest(org_id=org, events=[
        pb.UsageEvent(idempotency_key="q", meter="queries", quantity="9600")]))
    assert await _active(pool, org) == [("queries", "critical"), ("queries", "warning")]  # 96 %

    await admin.ChangePlan(apb.ChangePlanRequest(org_id=org, plan_id="professional"))

    assert await _active(pool, org) == []  # 9,600 of Professional's 100,000 = 9.6 %


async def test_a_raised_llm_tokens_limit_resolves_the_alerts_of_token_deducts(
    stubs: list[pb_grpc.MeteringServiceStub], admin: apb_grpc.MeteringAdminServiceStub,
    pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    await admin.SetQuota(apb.SetQuotaRequest(org_id=org, resource="llm_tokens", hard_limit="100000"))
    await stubs[0].Deduct(pb.DeductRequest(org_id=org, idempotency_key="t", tokens=pb.LlmTokens(
        model="gpt-4o-mini", input_tokens="96000")))
    assert await _active(pool, org) == [("llm_tokens", "critical"), ("llm_tokens", "warning")]  # 96 %

    await admin.SetQuota(apb.SetQuotaRequest(org_id=org, resource="llm_tokens", hard_limit="1000000"))

    assert await _active(pool, org) == []  # 96,000 of 1,000,000 = 9.6 %


async def test_a_spend_cap_lowered_below_the_spend_is_an_overage_of_the_new_cap(
    stubs: list[pb_grpc.MeteringServiceStub], admin: apb_grpc.MeteringAdminServiceStub,
    pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org(billing_model="byom", monthly_spend_cap_usd=Decimal(60))
    await stubs[0].Deduct(pb.DeductRequest(org_id=org, idempotency_key="s1", amount="53.8"))
    assert await _active(pool, org) == [("credits", "warning")]  # 53.8 / 60 = 89.67 %

    await admin.SetSpendCap(apb.SetSpendCapRequest(org_id=org, monthly_spend_cap_usd="40"))

    quota = await stubs[1].GetQuota(pb.GetQuotaRequest(org_id=org))
    # 53.8 / 40 = 1.345: 134.5 %, above 100 %.
    assert (quota.used, quota.limit, quota.percent, quota.state) == (
        "53.8", "40", "134.5", pb.QUOTA_STATE_OVERAGE)
    assert await _active(pool, org) == [
        ("credits", "critical"), ("credits", "overage"), ("credits", "warning")]
    overage = await pool.fetchrow(
        "SELECT current_usage, quota_limit FROM alerts WHERE org_id = $1 AND severity = 'overage'", org)
    assert (overage["current_usage"], overage["quota_limit"]) == (Decimal("53.8"), Decimal(40))
    refused = await stubs[2].Deduct(pb.DeductRequest(org_id=org, idempotency_key="s2", amount="0.01"))
    assert (refused.granted, refused.denial_reason) == (False, pb.DENIAL_REASON_SPEND_CAP_REACHED)
    # A further deduction attempt keeps the alerts as the lowered cap calls for.
    assert await _active(pool, org) == [
        ("credits", "critical"), ("credits", "overage"), ("credits", "warning")]
