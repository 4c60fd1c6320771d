"""Deduct: no overdraft across three server processes, monthly before bonus, caps, exactly once."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal

import asyncpg

from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc
from tests.metering.ledger_checks import assert_ledger_reproduces_balances, shift_history_back_one_month

CALLERS = 48


async def _race(
    stubs: list[pb_grpc.MeteringServiceStub], requests: list[pb.DeductRequest]
) -> list[pb.DeductResponse]:
    queue = iter(enumerate(requests))
    answers: list[pb.DeductResponse] = [pb.DeductResponse()] * len(requests)

    async def caller() -> None:
        for n, request in queue:
            answers[n] = await stubs[n % len(stubs)].Deduct(request, timeout=30)

    await asyncio.gather(*(caller() for _ in range(CALLERS)))
    return answers


async def test_concurrent_deductions_never_overdraw(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org(bonus=200)  # Free plan: 500 monthly + 200 bonus = 700
    rng = random.Random(7)
    amounts = [Decimal(rng.randint(1, 400)) / 100 for _ in range(600)]  # about 1,200 credits asked
    answers = await _race(
        stubs,
        [
            pb.DeductRequest(org_id=org, idempotency_key=f"d-{n}", amount=str(a))
            for n, a in enumerate(amounts)
        ],
    )

    granted = sum((Decimal(a.amount) for a in answers if a.granted), Decimal(0))
    assert granted <= 700
    assert any(not a.granted for a in answers)
    assert all(a.denial_reason == pb.DENIAL_REASON_INSUFFICIENT_CREDITS for a in answers if not a.granted)
    balance = await pool.fetchrow("SELECT * FROM balances WHERE org_id = $1", org)
    assert balance["monthly_remaining"] + balance["bonus_remaining"] == 700 - granted
    assert balance["monthly_remaining"] == 0  # more than the monthly 500 was spent: all of it first
    # Monthly before bonus: no deduction drew bonus while monthly credits were left after it.
    for a in answers:
        if a.granted and Decimal(a.from_bonus) > 0:
            assert Decimal(a.balance.monthly_remaining) == 0
    # Whatever was refused was more than what was left at that moment.
    left_at_end = 700 - granted
    assert all(Decimal(a.amount) > left_at_end for a in answers if not a.granted)
    async with pool.acquire() as conn:
        await assert_ledger_reproduces_balances(conn, org)


async def test_retries_racing_across_servers_apply_once_and_replay_the_original(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    requests = [pb.DeductRequest(org_id=org, idempotency_key=f"r-{n % 50}", amount="3") for n in range(300)]
    answers = await _race(stubs, requests)
    by_key: dict[str, list[pb.DeductResponse]] = {}
    for request, answer in zip(requests, answers, strict=True):
        by_key.setdefault(request.idempotency_key, []).append(answer)
    for same in by_key.values():
        assert sum(not a.replayed for a in same) == 1
        first = same[0]
        for other in same[1:]:
            assert (other.granted, other.amount, other.from_monthly, other.created_at, other.balance) == (
                first.granted,
                first.amount,
                first.from_monthly,
                first.created_at,
                first.balance,
            )
    assert await pool.fetchval("SELECT count(*) FROM deductions WHERE org_id = $1", org) == 50
    assert await pool.fetchval("SELECT period_used FROM balances WHERE org_id = $1", org) == 150
    async with pool.acquire() as conn:
        await assert_ledger_reproduces_balances(conn, org)


async def test_spend_capped_org_stops_at_its_cap(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org(billing_model="byom", monthly_spend_cap_usd=Decimal("1.50"), bonus=0)
    # claude-sonnet-4: $3/M input, $15/M output -> 10k in + 2k out = $0.06 per call.
    tokens = pb.LlmTokens(model="claude-sonnet-4", input_tokens="10000", output_tokens="2000")
    answers = await _race(
        stubs, [pb.DeductRequest(org_id=org, idempotency_key=f"llm-{n}", tokens=tokens) for n in range(60)]
    )
    granted = [a for a in answers if a.granted]
    assert len(granted) == 25  # 25 x $0.06 = $1.50 exactly
    assert all(a.amount == "0.06" and a.unit == pb.UNIT_USD for a in answers)
    assert all(a.denial_reason == pb.DENIAL_REASON_SPEND_CAP_REACHED for a in answers if not a.granted)
    assert await pool.fetchval("SELECT monthly_remaining FROM balances WHERE org_id = $1", org) == 0
    async with pool.acquire() as conn:
        await assert_ledger_reproduces_balances(conn, org)


async def test_tokens_are_priced_per_model_and_converted_to_credits(
    stubs: list[pb_grpc.MeteringServiceStub], make_org
) -> None:
    org = await make_org()
    answer = await stubs[0].Deduct(
        pb.DeductRequest(
            org_id=org,
            idempotency_key="t",
            tokens=pb.LlmTokens(
                model="claude-sonnet-4",
                input_tokens="1000",
                output_tokens="500",
                cache_read_tokens="2000",
                cache_write_tokens="100",
            ),
        )
    )
    # (1000*3 + 500*15 + 2000*0.30 + 100*3.75) / 1M USD = 0.011475 USD = 1.1475 credits
    assert answer.granted and answer.amount == "1.1475"
    assert answer.balance.monthly_remaining == "498.8525"


async def test_a_price_change_prices_earlier_usage_at_the_old_price(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    model = f"model-{org}"
    await pool.execute("INSERT INTO llm_prices VALUES ($1, now() - interval '1 day', 1, 1, 1, 1)", model)
    tokens = pb.LlmTokens(model=model, input_tokens="1000000")
    before = await stubs[0].Deduct(pb.DeductRequest(org_id=org, idempotency_key="p1", tokens=tokens))
    await pool.execute("INSERT INTO llm_prices VALUES ($1, now(), 2, 2, 2, 2)", model)
    after = await stubs[1].Deduct(pb.DeductRequest(org_id=org, idempotency_key="p2", tokens=tokens))
    replay = await stubs[2].Deduct(pb.DeductRequest(org_id=org, idempotency_key="p1", tokens=tokens))
    assert (before.amount, after.amount, replay.amount) == ("100", "200", "100")


async def test_period_roll_over_expires_unused_monthly_credits_and_keeps_bonus(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org(bonus=50)
    await stubs[0].Deduct(pb.DeductRequest(org_id=org, idempotency_key="before", amount="100"))
    # A month goes by: the organization's history moves one month back.
    async with pool.acquire() as conn:
        await shift_history_back_one_month(conn, org, deductions=True)
    answers = await _race(
        stubs, [pb.DeductRequest(org_id=org, idempotency_key=f"after-{n}", amount="1") for n in range(30)]
    )
    assert all(a.granted and a.from_monthly == "1" for a in answers)
    balance = await pool.fetchrow("SELECT * FROM balances WHERE org_id = $1", org)
    assert (balance["monthly_remaining"], balance["bonus_remaining"], balance["period_used"]) == (470, 50, 30)
    expired = await pool.fetchval(
        "SELECT sum(amount) FROM ledger_entries WHERE org_id = $1 AND kind = 'expire'", org
    )
    assert expired == -400
    assert (
        await pool.fetchval("SELECT count(*) FROM credit_grants WHERE org_id = $1 AND kind = 'monthly'", org)
        == 2
    )
    async with pool.acquire() as conn:
        await assert_ledger_reproduces_balances(conn, org)


async def test_period_roll_over_with_deductions_in_flight_loses_and_creates_nothing(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org(bonus=1000)
    requests = [pb.DeductRequest(org_id=org, idempotency_key=f"roll-{n}", amount="2") for n in range(300)]
    racing = asyncio.create_task(_race(stubs, requests))
    for _ in range(1000):
        if await pool.fetchval("SELECT count(*) FROM deductions WHERE org_id = $1", org) >= 60:
            break
        await asyncio.sleep(0.01)
    # A month passes while deductions keep arriving at all three servers: the period ends.
    async with pool.acquire() as conn:
        await shift_history_back_one_month(conn, org)
    answers = await racing
    assert all(a.granted for a in answers)
    reported = sum((Decimal(a.amount) for a in answers), Decimal(0))
    sums = {
        r["kind"]: r["total"]
        for r in await pool.fetch(
            "SELECT kind, sum(amount) AS total FROM ledger_entries WHERE org_id = $1 GROUP BY kind", org
        )
    }
    remaining = await pool.fetchval("SELECT sum(remaining) FROM credit_grants WHERE org_id = $1", org)
    assert -sums["deduct"] == reported == 600
    assert sums["grant"] == 500 + 1000 + 500  # first period, bonus, the new period
    assert 0 < -sums["expire"] < 500  # what the old period had left when it ended
    assert remaining == sums["grant"] + sums["deduct"] + sums["expire"]
    assert (
        await pool.fetchval("SELECT count(*) FROM credit_grants WHERE org_id = $1 AND kind = 'monthly'", org)
        == 2
    )
    async with pool.acquire() as conn:
        await assert_ledger_reproduces_balances(conn, org, period_used=False)
