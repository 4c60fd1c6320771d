"""Deductions are usage: tokens of token-priced deducts count as `llm_tokens`, credits spent as
`credits`, exactly once per key; `llm_tokens` hard limits refuse token deducts, across replicas."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import asyncpg

from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc
from services.metering.store.quota_limits import set_quota
from tests.metering.ledger_checks import assert_ledger_reproduces_balances

USAGE_ROWS = """
SELECT idempotency_key, meter, quantity, workspace_id, user_id, source, model, token_kind
FROM usage_events WHERE org_id = $1 ORDER BY idempotency_key"""

METER_TOTAL = "SELECT coalesce(sum(quantity), 0) FROM usage_events WHERE org_id = $1 AND meter = $2"


def _tokens(key: str, org: str, model: str = "gpt-4o-mini", **counts: str) -> pb.DeductRequest:
    return pb.DeductRequest(org_id=org, idempotency_key=key, tokens=pb.LlmTokens(model=model, **counts))


async def _hard_limit(pool: asyncpg.Pool, org: str, tokens: int) -> None:
    async with pool.acquire() as conn:
        await set_quota(conn, org, "llm_tokens", None, Decimal(tokens), None, True)


async def test_token_deduct_records_tokens_by_kind_and_credits_once_however_often_retried(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    request = pb.DeductRequest(
        org_id=org, idempotency_key="chat-1", workspace_id="ws-1", user_id="u-1", source=pb.SOURCE_CLI,
        tokens=pb.LlmTokens(model="claude-sonnet-4", input_tokens="10000", output_tokens="2000",
                            cache_read_tokens="50000", cache_write_tokens="4000"),
    )
    answers = [await stubs[n % len(stubs)].Deduct(request) for n in range(4)]

    # claude-sonnet-4 per million: input $3, output $15, cache read $0.30, cache write $3.75:
    # 10,000x3 + 2,000x15 + 50,000x0.30 + 4,000x3.75 = 90,000 / 1e6 = $0.09 = 9 credits.
    assert [(a.granted, Decimal(a.amount), a.replayed) for a in answers] == [
        (True, Decimal(9), False), (True, Decimal(9), True), (True, Decimal(9), True),
        (True, Decimal(9), True)]
    rows = [tuple(r) for r in await pool.fetch(USAGE_ROWS, org)]
    attribution = ("ws-1", "u-1", "cli", "claude-sonnet-4")
    assert rows == [
        ("chat-1 cache_read", "llm_tokens", Decimal(50000), *attribution, "cache_read"),
        ("chat-1 cache_write", "llm_tokens", Decimal(4000), *attribution, "cache_write"),
        ("chat-1 credits", "credits", Decimal(9), *attribution, None),
        ("chat-1 input", "llm_tokens", Decimal(10000), *attribution, "input"),
        ("chat-1 output", "llm_tokens", Decimal(2000), *attribution, "output"),
    ]
    deductions = "SELECT array_agg(DISTINCT deduction_key) FROM usage_events WHERE org_id = $1"
    assert await pool.fetchval(deductions, org) == ["chat-1"]
    quota = await stubs[0].GetQuota(pb.GetQuotaRequest(org_id=org, meter="llm_tokens"))
    assert Decimal(quota.used) == 66000  # 10,000 + 2,000 + 50,000 + 4,000


async def test_amount_deduct_records_credits_spent_and_a_refusal_records_nothing(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()  # Free: 500 credits
    granted = await stubs[0].Deduct(pb.DeductRequest(org_id=org, idempotency_key="a", amount="120.5"))
    refused = await stubs[1].Deduct(pb.DeductRequest(org_id=org, idempotency_key="b", amount="400"))

    assert granted.granted and not refused.granted  # 500 - 120.5 = 379.5 left, less than 400
    rows = [(r["idempotency_key"], r["meter"], r["quantity"]) for r in await pool.fetch(USAGE_ROWS, org)]
    assert rows == [("a credits", "credits", Decimal("120.5"))]


async def test_recording_credits_usage_directly_is_refused(
    stubs: list[pb_grpc.MeteringServiceStub], make_org
) -> None:
    org = await make_org()
    answer = await stubs[0].RecordUsage(pb.RecordUsageRequest(org_id=org, events=[
        pb.UsageEvent(idempotency_key="e1", meter="credits", quantity="5")]))
    assert answer.results[0].status == pb.EVENT_STATUS_REJECTED
    assert answer.results[0].violation.field == "events[0].meter"
    assert answer.results[0].violation.code == "INVALID_ARGUMENT"


async def test_token_deduct_past_the_llm_tokens_hard_limit_is_refused_and_replays_the_refusal(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    await _hard_limit(pool, org, 100_000)
    first = await stubs[0].Deduct(_tokens("t1", org, input_tokens="60000"))
    refused = await stubs[1].Deduct(_tokens("t2", org, input_tokens="50000"))  # 60,000 + 50,000 > 100,000
    replay = await stubs[2].Deduct(_tokens("t2", org, input_tokens="50000"))
    last = await stubs[0].Deduct(_tokens("t3", org, input_tokens="40000"))  # 60,000 + 40,000 = 100,000

    assert first.granted and last.granted
    assert (refused.granted, refused.denial_reason, refused.replayed) == (
        False, pb.DENIAL_REASON_HARD_LIMIT, False)
    assert (replay.granted, replay.denial_reason, replay.replayed) == (
        False, pb.DENIAL_REASON_HARD_LIMIT, True)
    # gpt-4o-mini input: $0.15 per million; 60,000 → $0.009 = 0.9 credits; 40,000 → 0.6 credits.
    assert Decimal(last.balance.monthly_remaining) == Decimal("498.5")  # 500 - 0.9 - 0.6
    assert await pool.fetchval(METER_TOTAL, org, "llm_tokens") == 100_000
    assert await pool.fetchval(METER_TOTAL, org, "credits") == Decimal("1.5")
    stored = "SELECT denial_reason FROM deductions WHERE org_id = $1 AND idempotency_key = 't2'"
    assert await pool.fetchval(stored, org) == "hard_limit"


async def test_a_hard_limit_of_one_token_refuses_a_large_token_deduct(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    await _hard_limit(pool, org, 1)
    answer = await stubs[0].Deduct(_tokens("big", org, model="claude-sonnet-4", input_tokens="100000",
                                           output_tokens="5000"))
    assert (answer.granted, answer.denial_reason) == (False, pb.DENIAL_REASON_HARD_LIMIT)
    quota = await stubs[1].GetQuota(pb.GetQuotaRequest(org_id=org, meter="llm_tokens"))
    assert Decimal(quota.used) == 0


async def test_racing_token_deducts_on_three_servers_never_pass_the_hard_limit_or_count_twice(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    await _hard_limit(pool, org, 1_000_000)
    # 300 deducts of 7,000 tokens, each sent twice (a retry) to different servers by 48 callers.
    requests = [_tokens(f"r-{n}", org, input_tokens="7000") for n in range(300) for _ in range(2)]
    queue = iter(enumerate(requests))
    answers: list[pb.DeductResponse] = [pb.DeductResponse()] * len(requests)

    async def caller() -> None:
        for n, request in queue:
            answers[n] = await stubs[n % len(stubs)].Deduct(request, timeout=60)

    await asyncio.gather(*(caller() for _ in range(48)))

    first_answers = {
        r.idempotency_key: a for r, a in zip(requests, answers, strict=True) if not a.replayed}
    assert len(first_answers) == 300
    granted = [a for a in first_answers.values() if a.granted]
    # 1,000,000 / 7,000 = 142.86: exactly 142 fit. Credits never run short:
    # 142 x 0.105 = 14.91 of 500.
    assert len(granted) == 142
    refused = [a for a in first_answers.values() if not a.granted]
    assert all(a.denial_reason == pb.DENIAL_REASON_HARD_LIMIT for a in refused)
    assert await pool.fetchval(METER_TOTAL, org, "llm_tokens") == 994_000  # 142 x 7,000
    assert await pool.fetchval(METER_TOTAL, org, "credits") == Decimal("14.91")  # 142 x 0.105
    assert await pool.fetchval("SELECT used FROM quotas WHERE org_id = $1 AND resource = 'llm_tokens'",
                               org) == 994_000
    async with pool.acquire() as conn:
        await assert_ledger_reproduces_balances(conn, org)
