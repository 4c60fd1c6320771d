"""Retries: a key answers what was stored for it, and a key reused for another request is refused."""

from __future__ import annotations

import asyncpg
import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from services.gen.metering.v1 import admin_pb2 as apb
from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc


def _violated_field(error: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    detail = error_details_pb2.BadRequest()
    status.details[0].Unpack(detail)
    return str(detail.field_violations[0].field)


async def _refused(call: object, field: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await call  # type: ignore[misc]
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.value.details().startswith(f"{field}: ")
    assert _violated_field(failure.value) == field


async def _rows(pool: asyncpg.Pool, org: str) -> tuple[int, int, int]:
    return (
        await pool.fetchval("SELECT count(*) FROM deductions WHERE org_id = $1", org),
        await pool.fetchval("SELECT count(*) FROM holds WHERE org_id = $1", org),
        await pool.fetchval("SELECT count(*) FROM ledger_entries WHERE org_id = $1", org),
    )


async def test_a_retried_reserve_refusal_answers_the_reason_and_balance_as_they_were(
    stubs: list[pb_grpc.MeteringServiceStub], admin, make_org
) -> None:
    org = await make_org()  # Free plan: 500 monthly credits
    await admin.SetQuota(apb.SetQuotaRequest(org_id=org, resource="credits", hard_limit="100"))
    first = await stubs[0].Reserve(pb.ReserveRequest(org_id=org, idempotency_key="r1", amount="150"))
    # 150 fits the 500 available but passes the hard limit of 100.
    assert (first.granted, first.denial_reason) == (False, pb.DENIAL_REASON_HARD_LIMIT)
    assert first.balance.available == "500"
    await admin.GrantBonusCredits(apb.GrantBonusCreditsRequest(org_id=org, amount="25", source="referral"))

    retry = await stubs[1].Reserve(pb.ReserveRequest(org_id=org, idempotency_key="r1", amount="150"))

    assert retry.replayed and not retry.granted
    assert retry.denial_reason == pb.DENIAL_REASON_HARD_LIMIT
    assert (retry.balance.available, retry.balance.bonus_remaining) == ("500", "0")  # not 525 / 25
    assert (retry.hold_id, retry.amount, retry.expires_at) == (first.hold_id, first.amount, first.expires_at)


async def test_a_retried_reserve_grant_answers_the_balance_right_after_it(
    stubs: list[pb_grpc.MeteringServiceStub], make_org
) -> None:
    org = await make_org()  # 500 credits
    first = await stubs[0].Reserve(pb.ReserveRequest(org_id=org, idempotency_key="r1", amount="200"))
    assert first.granted and (first.balance.available, first.balance.reserved) == ("300", "200")  # 500 - 200
    await stubs[1].Deduct(pb.DeductRequest(org_id=org, idempotency_key="d1", amount="100"))  # 200 left

    retry = await stubs[2].Reserve(pb.ReserveRequest(org_id=org, idempotency_key="r1", amount="200"))

    assert retry.replayed and retry.granted and retry.denial_reason == pb.DENIAL_REASON_UNSPECIFIED
    assert (retry.balance.available, retry.balance.reserved) == ("300", "200")


async def test_a_deduct_key_reused_with_another_amount_is_refused_naming_amount(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()  # 500 credits
    first = await stubs[0].Deduct(pb.DeductRequest(org_id=org, idempotency_key="k", amount="5"))
    assert first.granted and first.balance.available == "495"  # 500 - 5
    rows = await _rows(pool, org)

    await _refused(stubs[1].Deduct(pb.DeductRequest(org_id=org, idempotency_key="k", amount="400")), "amount")

    assert await _rows(pool, org) == rows
    same = await stubs[2].Deduct(pb.DeductRequest(org_id=org, idempotency_key="k", amount="5.00"))
    assert same.replayed and same.balance.available == "495"


@pytest.mark.parametrize(("changed", "field"), [
    ({"amount": "6"}, "amount"),
    ({"tokens": pb.LlmTokens(model="claude-sonnet-4", input_tokens="1000")}, "tokens"),
    ({"hold_id": "h-1"}, "hold_id"),
    ({"workspace_id": "ws-2"}, "workspace_id"),
    ({"user_id": "u-2"}, "user_id"),
    ({"source": pb.SOURCE_CLI}, "source"),
])
async def test_a_deduct_key_reused_with_any_other_parameter_is_refused_naming_it(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org, changed: dict[str, object],
    field: str,
) -> None:
    org = await make_org()
    await stubs[0].Reserve(pb.ReserveRequest(org_id=org, idempotency_key="h-1", amount="10"))
    original: dict[str, object] = {"amount": "5", "workspace_id": "ws-1", "user_id": "u-1",
                                   "source": pb.SOURCE_API}
    await stubs[0].Deduct(pb.DeductRequest(org_id=org, idempotency_key="k", **original))
    rows = await _rows(pool, org)
    retry = {**original, **changed}
    if "tokens" in changed:
        del retry["amount"]

    await _refused(stubs[1].Deduct(pb.DeductRequest(org_id=org, idempotency_key="k", **retry)), field)

    assert await _rows(pool, org) == rows


async def test_a_token_deduct_key_reused_with_other_tokens_names_the_token_field(
    stubs: list[pb_grpc.MeteringServiceStub], make_org
) -> None:
    org = await make_org()
    tokens = pb.LlmTokens(model="claude-sonnet-4", input_tokens="1000", output_tokens="500")
    await stubs[0].Deduct(pb.DeductRequest(org_id=org, idempotency_key="k", tokens=tokens))
    more = pb.LlmTokens(model="claude-sonnet-4", input_tokens="1000", output_tokens="501")

    await _refused(stubs[1].Deduct(pb.DeductRequest(org_id=org, idempotency_key="k", tokens=more)),
                   "tokens.output_tokens")
    await _refused(stubs[1].Deduct(pb.DeductRequest(org_id=org, idempotency_key="k", amount="1")), "amount")
    same = await stubs[2].Deduct(pb.DeductRequest(org_id=org, idempotency_key="k", tokens=tokens))
    assert same.replayed


@pytest.mark.parametrize(("changed", "field"), [
    ({"amount": "201"}, "amount"),
    ({"ttl_seconds": 60}, "ttl_seconds"),
    ({"tokens": pb.LlmTokens(model="claude-sonnet-4", input_tokens="1000")}, "tokens"),
])
async def test_a_reserve_key_reused_with_another_parameter_is_refused_naming_it(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org, changed: dict[str, object],
    field: str,
) -> None:
    org = await make_org()  # 500 credits
    await stubs[0].Reserve(pb.ReserveRequest(org_id=org, idempotency_key="r", amount="200", ttl_seconds=300))
    rows = await _rows(pool, org)
    retry: dict[str, object] = {"amount": "200", "ttl_seconds": 300, **changed}
    if "tokens" in changed:
        del retry["amount"]

    await _refused(stubs[1].Reserve(pb.ReserveRequest(org_id=org, idempotency_key="r", **retry)), field)

    assert await _rows(pool, org) == rows
    quota = await stubs[2].GetQuota(pb.GetQuotaRequest(org_id=org))
    assert (quota.monthly_remaining, quota.reserved) == ("300", "200")  # 500 - 200 held once


async def test_a_token_reserve_retried_is_compared_with_the_tokens_it_held(
    stubs: list[pb_grpc.MeteringServiceStub], make_org
) -> None:
    org = await make_org()
    tokens = pb.LlmTokens(model="claude-sonnet-4", input_tokens="1000", output_tokens="500")
    first = await stubs[0].Reserve(pb.ReserveRequest(org_id=org, idempotency_key="r", tokens=tokens))
    more = pb.LlmTokens(model="claude-sonnet-4", input_tokens="1000", output_tokens="600")

    await _refused(stubs[1].Reserve(pb.ReserveRequest(org_id=org, idempotency_key="r", tokens=more)),
                   "tokens.output_tokens")
    same = await stubs[2].Reserve(pb.ReserveRequest(org_id=org, idempotency_key="r", tokens=tokens))

    assert same.replayed and (same.amount, same.balance) == (first.amount, first.balance)


async def test_a_hold_stored_before_requests_were_kept_replays_leniently(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()  # 500 credits
    await stubs[0].Reserve(pb.ReserveRequest(org_id=org, idempotency_key="old", amount="200"))
    await pool.execute(
        "UPDATE holds SET model = NULL, tokens = NULL, denial_reason = NULL, monthly_remaining = NULL,"
        " bonus_remaining = NULL, reserved = NULL WHERE org_id = $1", org)
    await stubs[0].Deduct(pb.DeductRequest(org_id=org, idempotency_key="d1", amount="50"))

    retry = await stubs[1].Reserve(pb.ReserveRequest(org_id=org, idempotency_key="old", amount="250"))

    # Nothing to compare with: the hold answers as it is, with the balance of now (500 - 200 - 50).
    assert retry.replayed and retry.granted and retry.amount == "200"
    assert (retry.balance.available, retry.balance.reserved) == ("250", "200")


async def test_a_keyed_bonus_grant_retried_grants_once(stubs: list[pb_grpc.MeteringServiceStub], admin,
                                                      pool: asyncpg.Pool, make_org) -> None:
    org = await make_org()  # 500 monthly credits
    request = apb.GrantBonusCreditsRequest(org_id=org, amount="25", source="referral", idempotency_key="g1")
    first = await admin.GrantBonusCredits(request)
    again = await admin.GrantBonusCredits(request)

    assert (first.replayed, again.replayed) == (False, True)
    assert again.credit_grant.grant_id == first.credit_grant.grant_id
    quota = await stubs[0].GetQuota(pb.GetQuotaRequest(org_id=org))
    assert quota.bonus_remaining == "25"  # granted once, not 50
    assert await pool.fetchval(
        "SELECT count(*) FROM credit_grants WHERE org_id = $1 AND kind = 'bonus'", org) == 1


@pytest.mark.parametrize(("changed", "field"), [
    ({"amount": "26"}, "amount"),
    ({"source": "promotion"}, "source"),
    ({"expires_at": None}, "expires_at"),
])
async def test_a_grant_key_reused_with_another_parameter_is_refused_naming_it(
    admin, pool: asyncpg.Pool, make_org, changed: dict[str, object], field: str
) -> None:
    org = await make_org()
    expires = apb.GrantBonusCreditsRequest(expires_at={"seconds": 4102444800}).expires_at  # 2100-01-01
    original = apb.GrantBonusCreditsRequest(org_id=org, amount="25", source="referral", idempotency_key="g",
                                            expires_at=expires)
    await admin.GrantBonusCredits(original)
    retry = apb.GrantBonusCreditsRequest()
    retry.CopyFrom(original)
    for name, value in changed.items():
        if value is None:
            retry.ClearField(name)
        else:
            setattr(retry, name, value)
    rows = await _rows(pool, org)

    await _refused(admin.GrantBonusCredits(retry), field)

    assert await _rows(pool, org) == rows
    assert await pool.fetchval("SELECT bonus_remaining FROM balances WHERE org_id = $1", org) == 25
