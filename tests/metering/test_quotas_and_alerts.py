"""Quotas: hard limits block under concurrency, soft limits warn, each alert is raised once."""

from __future__ import annotations

import asyncio

import asyncpg
import grpc

from services.gen.metering.v1 import admin_pb2 as apb
from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc


async def _record_singles(
    stubs: list[pb_grpc.MeteringServiceStub], org: str, meter: str, quantity: str, count: int
) -> list[pb.RecordUsageResponse | grpc.aio.AioRpcError]:
    async def one(n: int) -> pb.RecordUsageResponse | grpc.aio.AioRpcError:
        try:
            return await stubs[n % 3].RecordUsage(
                pb.RecordUsageRequest(
                    org_id=org,
                    event=pb.UsageEvent(idempotency_key=f"{meter}-{n}", meter=meter, quantity=quantity),
                )
            )
        except grpc.aio.AioRpcError as error:
            return error

    return await asyncio.gather(*(one(n) for n in range(count)))


async def _active(pool: asyncpg.Pool, org: str) -> dict[str, int]:
    rows = await pool.fetch(
        "SELECT severity, count(*) AS n FROM alerts WHERE org_id = $1 AND status = 'active' "
        "GROUP BY severity",
        org,
    )
    return {r["severity"]: r["n"] for r in rows}


async def test_hard_limit_holds_under_concurrency(stubs, admin, pool: asyncpg.Pool, make_org) -> None:
    org = await make_org()
    await admin.SetQuota(apb.SetQuotaRequest(org_id=org, resource="queries", hard_limit="500"))
    answers = await _record_singles(stubs, org, "queries", "7", 120)
    accepted = [a for a in answers if isinstance(a, pb.RecordUsageResponse)]
    refused = [a for a in answers if isinstance(a, grpc.aio.AioRpcError)]
    assert len(accepted) == 71  # 71 x 7 = 497; one more would pass 500
    assert all(
        e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and e.details().startswith("event.quantity")
        for e in refused
    )
    assert await pool.fetchval("SELECT sum(quantity) FROM usage_events WHERE org_id = $1", org) == 497
    batch = await stubs[0].RecordUsage(
        pb.RecordUsageRequest(
            org_id=org,
            events=[
                pb.UsageEvent(idempotency_key="fits", meter="queries", quantity="3"),
                pb.UsageEvent(idempotency_key="too-much", meter="queries", quantity="1"),
                pb.UsageEvent(
                    idempotency_key=accepted[0].results[0].idempotency_key, meter="queries", quantity="7"
                ),
            ],
        )
    )
    assert [r.status for r in batch.results] == [
        pb.EVENT_STATUS_ACCEPTED,
        pb.EVENT_STATUS_REJECTED,
        pb.EVENT_STATUS_DUPLICATE,
    ]
    assert batch.results[1].violation.code == "RESOURCE_EXHAUSTED"
    assert batch.results[1].violation.field == "events[1].quantity"


async def test_concurrent_usage_crossing_thresholds_raises_each_alert_exactly_once(
    stubs, admin, pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    await admin.SetQuota(
        apb.SetQuotaRequest(org_id=org, resource="api_requests", soft_limit="1000", alert_at_percent=50)
    )
    answers = await _record_singles(stubs, org, "api_requests", "10", 110)  # up to 110 %
    assert all(isinstance(a, pb.RecordUsageResponse) for a in answers)  # a soft limit only warns
    assert await _active(pool, org) == {"budget": 1, "warning": 1, "critical": 1, "overage": 1}
    outbox = await pool.fetch(
        "SELECT channel, count(*) AS n FROM alert_outbox WHERE org_id = $1 GROUP BY channel", org
    )
    assert [(r["channel"], r["n"]) for r in outbox] == [("in_app", 4)]
    listed = await admin.ListAlerts(apb.ListAlertsRequest(org_id=org, severity=apb.ALERT_SEVERITY_CRITICAL))
    assert len(listed.alerts) == 1 and listed.alerts[0].threshold_percent == 95
    assert listed.alerts[0].message.startswith("Api requests usage reached")
    # Raising the limit puts usage back under every threshold but the budget one: those resolve.
    await admin.SetQuota(
        apb.SetQuotaRequest(org_id=org, resource="api_requests", soft_limit="10000", alert_at_percent=5)
    )
    assert await _active(pool, org) == {"budget": 1}
    resolved = await admin.ListAlerts(apb.ListAlertsRequest(org_id=org, status=apb.ALERT_STATUS_RESOLVED))
    assert sorted(a.severity for a in resolved.alerts) == sorted(
        [apb.ALERT_SEVERITY_WARNING, apb.ALERT_SEVERITY_CRITICAL, apb.ALERT_SEVERITY_OVERAGE]
    )


async def test_credit_alerts_fire_once_as_concurrent_deductions_cross_them(
    stubs, pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()  # 500 credits
    answers = await asyncio.gather(
        *(
            stubs[n % 3].Deduct(pb.DeductRequest(org_id=org, idempotency_key=f"c{n}", amount="5"))
            for n in range(98)
        )
    )  # 490 = 98 %
    assert all(a.granted for a in answers)
    assert await _active(pool, org) == {"warning": 1, "critical": 1}
    q = await stubs[0].GetQuota(pb.GetQuotaRequest(org_id=org))
    assert q.state == pb.QUOTA_STATE_CRITICAL


async def test_a_hard_limit_on_credits_refuses_deductions_past_it(stubs, admin, make_org) -> None:
    org = await make_org(bonus=1000)
    await admin.SetQuota(apb.SetQuotaRequest(org_id=org, resource="credits", hard_limit="100"))
    answers = await asyncio.gather(
        *(
            stubs[n % 3].Deduct(pb.DeductRequest(org_id=org, idempotency_key=f"h{n}", amount="3"))
            for n in range(50)
        )
    )
    granted = [a for a in answers if a.granted]
    assert len(granted) == 33
    assert {a.denial_reason for a in answers if not a.granted} == {pb.DENIAL_REASON_HARD_LIMIT}
    quotas = await admin.ListQuotas(apb.ListQuotasRequest(org_id=org))
    assert [(q.resource, q.current_usage, q.hard_limit) for q in quotas.quotas] == [("credits", "99", "100")]


async def test_plan_limits_alert_without_a_quota_being_set(stubs, pool: asyncpg.Pool, make_org) -> None:
    org = await make_org(plan_id="starter")  # 10,000 queries
    await stubs[0].RecordUsage(
        pb.RecordUsageRequest(
            org_id=org,
            events=[
                pb.UsageEvent(idempotency_key=f"p{n}", meter="queries", quantity="1000") for n in range(9)
            ],
        )
    )
    assert await _active(pool, org) == {"warning": 1}
