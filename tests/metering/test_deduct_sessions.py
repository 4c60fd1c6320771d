"""DeductSession: one stream per response charges exactly what its chunks used, once per key,
never overdraws across replicas, settles dropped streams and strands no hold past its TTL."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest

from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc
from services.kit.caller import Role
from services.metering.store.api_keys import create_api_key
from services.metering.store.quota_limits import set_quota
from tests.metering.clients import aio_channel
from tests.metering.conftest import start_server
from tests.metering.ledger_checks import assert_ledger_reproduces_balances

MODEL = "claude-sonnet-4"  # per million tokens: input $3, output $15; 100 credits per USD
USAGE_ROWS = "SELECT idempotency_key, meter, quantity, token_kind FROM usage_events WHERE org_id = $1 " \
             "ORDER BY idempotency_key"


def opening(org: str, key: str, amount: str = "10", **fields: Any) -> pb.DeductSessionRequest:
    return pb.DeductSessionRequest(
        org_id=org, open=pb.DeductSessionOpen(idempotency_key=key, amount=amount, **fields))


def amount(value: str) -> pb.DeductSessionRequest:
    return pb.DeductSessionRequest(chunk=pb.DeductSessionChunk(amount=value))


def tokens(model: str = MODEL, **counts: str) -> pb.DeductSessionRequest:
    return pb.DeductSessionRequest(chunk=pb.DeductSessionChunk(tokens=pb.LlmTokens(model=model, **counts)))


CLOSE = pb.DeductSessionRequest(close=pb.DeductSessionClose())


async def run_session(stub: pb_grpc.MeteringServiceStub, first: pb.DeductSessionRequest,
                      chunks: list[pb.DeductSessionRequest]) -> list[pb.DeductSessionResponse]:
    """Opens, sends each chunk after the previous one's answer, closes; returns every answer."""
    call = stub.DeductSession()
    await call.write(first)
    answers = [await call.read()]
    if answers[0].WhichOneof("step") == "opened" and answers[0].opened.granted:
        for chunk in chunks:
            await call.write(chunk)
            answers.append(await call.read())
        await call.write(CLOSE)
        answers.append(await call.read())
    await call.done_writing()
    return answers


async def wait_for_settlement(pool: asyncpg.Pool, org: str, key: str) -> asyncpg.Record:
    for _ in range(100):
        row = await pool.fetchrow("SELECT * FROM deductions WHERE org_id = $1 AND idempotency_key = $2",
                                  org, key)
        if row is not None:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"session {key} was not settled")


async def test_a_session_charges_exactly_the_sum_of_its_chunks_and_records_them_as_usage(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()  # 500 monthly credits
    answers = await run_session(stubs[0], opening(org, "reply-1", "10", source=pb.SOURCE_CLI), [
        tokens(input_tokens="1000"),   # 1,000 x $3 / 1M = $0.003 = 0.3 credits
        tokens(output_tokens="2000"),  # 2,000 x $15 / 1M = $0.03 = 3 credits
        amount("2.5"),
        tokens(output_tokens="4000"),  # $0.06 = 6 credits: past the 10 held, the hold grows
    ])
    opened, *chunks, settled = answers
    assert (opened.opened.granted, opened.opened.held, opened.opened.balance.available) == (True, "10", "490")
    assert [(c.chunk.index, c.chunk.granted, c.chunk.amount, c.chunk.total, c.chunk.hold_remaining)
            for c in chunks] == [
        (0, True, "0.3", "0.3", "9.7"), (1, True, "3", "3.3", "6.7"), (2, True, "2.5", "5.8", "4.2"),
        # 11.8 needs 1.8 more; the hold grows by its opening amount, 10, to 20: 8.2 left.
        (3, True, "6", "11.8", "8.2"),
    ]
    s = settled.settled
    assert (s.charged, s.from_hold, s.replayed) == ("11.8", "11.8", False)
    assert (s.balance.monthly_remaining, s.balance.reserved) == ("488.2", "0")
    rows = [tuple(r) for r in await pool.fetch(USAGE_ROWS, org)]
    assert rows == [
        ("reply-1 credits", "credits", Decimal("11.8"), None),
        ("reply-1 input", "llm_tokens", Decimal(1000), "input"),
        ("reply-1 output", "llm_tokens", Decimal(6000), "output"),
    ]
    # Two visits to the balance row for four chunks: the hold, then its one extension.
    reserves = await pool.fetchval(
        "SELECT count(*) FROM ledger_entries WHERE org_id = $1 AND kind = 'reserve'", org)
    assert reserves == 2
    async with pool.acquire() as conn:
        await assert_ledger_reproduces_balances(conn, org)


async def test_sessions_and_deducts_racing_on_two_servers_never_overdraw(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()  # 500 credits

    async def session(n: int) -> tuple[Decimal, list[pb.DeductSessionResponse]]:
        answers = await run_session(stubs[n % 2], opening(org, f"s-{n}", "40"), [amount("7")] * 50)
        granted = sum((Decimal(a.chunk.amount) for a in answers if a.chunk.granted), Decimal(0))
        return granted, answers

    async def deducts(n: int) -> Decimal:
        spent = Decimal(0)
        for i in range(40):
            answer = await stubs[n % 2].Deduct(
                pb.DeductRequest(org_id=org, idempotency_key=f"d-{n}-{i}", amount="3"))
            spent += Decimal(answer.amount) if answer.granted else 0
        return spent

    results = await asyncio.gather(session(0), session(1), deducts(0), deducts(1))
    (first, a), (second, b) = results[0], results[1]
    unary = results[2] + results[3]
    # Two sessions of 50 x 7 and 80 deducts of 3 ask for 940: the 500 run out mid-stream.
    refused = [c for c in a + b if c.WhichOneof("step") == "chunk" and not c.chunk.granted]
    assert refused and all(
        c.chunk.denial_reason == pb.DENIAL_REASON_INSUFFICIENT_CREDITS for c in refused)
    assert a[-1].settled.charged == str(first) and b[-1].settled.charged == str(second)
    spent = first + second + unary
    assert spent <= 500
    balance = await pool.fetchrow("SELECT * FROM balances WHERE org_id = $1", org)
    assert (balance["monthly_remaining"], balance["reserved"]) == (500 - spent, 0)
    assert balance["period_used"] == spent
    async with pool.acquire() as conn:
        await assert_ledger_reproduces_balances(conn, org)


async def test_a_credit_hard_limit_refuses_chunks_past_it_and_the_session_goes_on(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    async with pool.acquire() as conn:
        await set_quota(conn, org, "credits", None, Decimal(30), None, True)
    answers = await run_session(stubs[1], opening(org, "capped", "10"), [amount("4")] * 10)
    chunks, settled = answers[1:-1], answers[-1].settled
    # Held 10, grown to 20, then to 30 (the limit); 7 chunks of 4 = 28, the 8th would pass 30.
    assert [c.chunk.granted for c in chunks] == [True] * 7 + [False] * 3
    assert {c.chunk.denial_reason for c in chunks[7:]} == {pb.DENIAL_REASON_HARD_LIMIT}
    assert (chunks[-1].chunk.total, settled.charged) == ("28", "28")
    balance = await pool.fetchrow("SELECT * FROM balances WHERE org_id = $1", org)
    assert (balance["monthly_remaining"], balance["reserved"], balance["period_used"]) == (472, 0, 28)


async def test_an_open_the_balance_cannot_hold_is_refused_and_stays_refused(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    answers = [await run_session(stubs[n], opening(org, "too-big", "600"), [amount("1")]) for n in (0, 1)]
    assert all(len(a) == 1 for a in answers)
    refusals = [a[0].opened for a in answers]
    assert {(r.granted, r.denial_reason, r.held) for r in refusals} == {
        (False, pb.DENIAL_REASON_INSUFFICIENT_CREDITS, "0")}
    balance = await pool.fetchrow("SELECT * FROM balances WHERE org_id = $1", org)
    assert (balance["monthly_remaining"], balance["reserved"]) == (500, 0)
    assert await pool.fetchval("SELECT count(*) FROM deductions WHERE org_id = $1", org) == 0


async def test_an_unknown_organization_is_not_found(stubs: list[pb_grpc.MeteringServiceStub]) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await run_session(stubs[0], opening("no-such-org", "k", "1"), [])
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND
    assert failure.value.details().startswith("org_id: ")


async def test_a_session_that_used_nothing_charges_nothing_and_records_no_usage(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    first = await run_session(stubs[0], opening(org, "empty", "10"), [])
    again = await run_session(stubs[1], opening(org, "empty", "10"), [])
    assert (first[-1].settled.charged, first[-1].settled.replayed) == ("0", False)
    assert (again[-1].settled.charged, again[-1].settled.replayed) == ("0", True)
    assert await pool.fetchval("SELECT count(*) FROM usage_events WHERE org_id = $1", org) == 0
    balance = await pool.fetchrow("SELECT * FROM balances WHERE org_id = $1", org)
    assert (balance["monthly_remaining"], balance["reserved"]) == (500, 0)


async def test_a_dropped_stream_settles_what_it_received_and_is_charged_once(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    call = stubs[0].DeductSession()
    await call.write(opening(org, "dropped", "10"))
    await call.read()
    for value in ("1", "2", "4"):
        await call.write(amount(value))
        await call.read()
    call.cancel()  # the client disappears mid-response
    row = await wait_for_settlement(pool, org, "dropped")
    assert (row["amount"], row["from_hold"]) == (7, 7)
    again = await run_session(stubs[1], opening(org, "dropped", "10"), [amount("100")])
    assert len(again) == 1
    assert (again[0].settled.charged, again[0].settled.replayed) == ("7", True)
    balance = await pool.fetchrow("SELECT * FROM balances WHERE org_id = $1", org)
    assert (balance["monthly_remaining"], balance["reserved"]) == (493, 0)
    async with pool.acquire() as conn:
        await assert_ledger_reproduces_balances(conn, org)


async def test_a_silent_stream_settles_after_its_idle_timeout(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    call = stubs[2].DeductSession()
    await call.write(opening(org, "quiet", "10", idle_timeout_seconds=1, ttl_seconds=3))
    await call.read()
    await call.write(amount("1.25"))
    await call.read()
    # Nothing more is sent, the stream stays open: the server settles within the idle bound.
    settled = await asyncio.wait_for(call.read(), timeout=5)
    assert (settled.settled.charged, settled.settled.replayed) == ("1.25", False)
    assert await call.read() == grpc.aio.EOF
    row = await wait_for_settlement(pool, org, "quiet")
    assert row["amount"] == Decimal("1.25")


async def test_a_retried_session_key_is_not_charged_twice(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    live = stubs[0].DeductSession()
    await live.write(opening(org, "retry", "10"))
    await live.read()
    await live.write(amount("3"))
    await live.read()
    # A second stream with the key while the first is still open is refused, not merged.
    with pytest.raises(grpc.aio.AioRpcError) as busy:
        await run_session(stubs[1], opening(org, "retry", "10"), [amount("3")])
    assert busy.value.code() == grpc.StatusCode.ABORTED
    await live.write(CLOSE)
    first = (await live.read()).settled
    await live.done_writing()
    retries = await asyncio.gather(*(
        run_session(stubs[n % 3], opening(org, "retry", "10"), [amount("3")]) for n in range(6)))
    assert first.charged == "3" and not first.replayed
    assert all([a.WhichOneof("step") for a in answers] == ["settled"] for answers in retries)
    assert {(a[0].settled.charged, a[0].settled.replayed) for a in retries} == {("3", True)}
    assert await pool.fetchval("SELECT count(*) FROM deductions WHERE org_id = $1", org) == 1
    balance = await pool.fetchrow("SELECT * FROM balances WHERE org_id = $1", org)
    assert (balance["monthly_remaining"], balance["reserved"]) == (497, 0)


@pytest.mark.parametrize(("first", "chunks", "field"), [
    (None, [amount("1"), amount("-1")], "chunks[1].amount"),
    (None, [tokens(input_tokens="10"), tokens(input_tokens="1.5")], "chunks[1].tokens.input_tokens"),
    (None, [amount("1"), amount("2"), tokens(output_tokens="")], "chunks[2].tokens"),
    (None, [tokens(input_tokens="10"), tokens(model="gpt-4o-mini", input_tokens="1")],
     "chunks[1].tokens.model"),
    (None, [amount("1"), pb.DeductSessionRequest(org_id="other", chunk=pb.DeductSessionChunk(amount="1"))],
     "org_id"),
    (None, [amount("1"), pb.DeductSessionRequest(open=pb.DeductSessionOpen(idempotency_key="x", amount="1"))],
     "open"),
    (pb.DeductSessionOpen(idempotency_key="bad", amount="10", idle_timeout_seconds=10, ttl_seconds=20),
     [], "open.ttl_seconds"),
    (pb.DeductSessionOpen(idempotency_key="has space", amount="10"), [], "open.idempotency_key"),
    (pb.DeductSessionOpen(idempotency_key="bad"), [], "open.amount"),
])
async def test_bad_input_is_refused_with_the_field_named_and_earlier_chunks_settle(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org,
    first: pb.DeductSessionOpen | None, chunks: list[pb.DeductSessionRequest], field: str,
) -> None:
    org = await make_org()
    request = pb.DeductSessionRequest(org_id=org, open=first) if first else opening(org, "bad", "10")
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await run_session(stubs[0], request, chunks)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.value.details().startswith(f"{field}: ")
    balance = await pool.fetchrow("SELECT * FROM balances WHERE org_id = $1", org)
    good = sum((Decimal(c.chunk.amount) for c in chunks[:-1] if c.chunk.amount), Decimal(0))
    good += sum((Decimal("0.003") for c in chunks[:-1] if c.chunk.tokens.input_tokens), Decimal(0))
    assert (balance["monthly_remaining"], balance["reserved"]) == (500 - good, 0)
    settled = await pool.fetchval("SELECT count(*) FROM deductions WHERE org_id = $1", org)
    assert settled == (1 if first is None else 0)


async def test_the_first_message_must_open_the_session(
    stubs: list[pb_grpc.MeteringServiceStub], make_org
) -> None:
    org = await make_org()
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        chunk_first = pb.DeductSessionRequest(org_id=org, chunk=pb.DeductSessionChunk(amount="1"))
        await run_session(stubs[0], chunk_first, [])
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.value.details().startswith("open: ")


async def test_a_session_is_confined_to_the_callers_organization_and_role(
    server_addrs: list[str], pool: asyncpg.Pool, make_org
) -> None:
    mine, theirs = await make_org(), await make_org()
    async with pool.acquire() as conn:
        service = (await create_api_key(conn, mine, Role.SERVICE, "svc"))[1]
        billing = (await create_api_key(conn, mine, Role.BILLING_CONTACT, "billing"))[1]
    async with aio_channel(server_addrs[0], service) as channel:
        stub = pb_grpc.MeteringServiceStub(channel)
        ok = await run_session(stub, opening(mine, "own", "5"), [amount("1")])
        assert ok[-1].settled.charged == "1"
        with pytest.raises(grpc.aio.AioRpcError) as outside:
            await run_session(stub, opening(theirs, "other", "5"), [amount("1")])
        assert outside.value.code() == grpc.StatusCode.PERMISSION_DENIED
    async with aio_channel(server_addrs[0], billing) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as role:
            await run_session(pb_grpc.MeteringServiceStub(channel), opening(mine, "b", "5"), [])
        assert role.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert await pool.fetchval("SELECT count(*) FROM holds WHERE org_id = $1", theirs) == 0


async def test_a_killed_server_charges_nothing_and_strands_the_hold_no_longer_than_its_ttl(
    database_url: str, platform_key: str, stubs: list[pb_grpc.MeteringServiceStub],
    pool: asyncpg.Pool, make_org,
) -> None:
    org = await make_org()
    addr, proc = start_server(database_url, METERING_HOLD_SWEEP_SECONDS="0.2",
                              METERING_NOTIFY_SECONDS="86400")
    try:
        async with aio_channel(addr, platform_key) as channel:
            call = pb_grpc.MeteringServiceStub(channel).DeductSession()
            await call.write(opening(org, "killed", "20", idle_timeout_seconds=1, ttl_seconds=3))
            await call.read()
            await call.write(amount("5"))
            assert (await call.read()).chunk.granted
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    held = await pool.fetchrow("SELECT * FROM balances WHERE org_id = $1", org)
    assert held["reserved"] == 20
    # The other servers' sweepers release the hold once its TTL has passed; nothing is charged.
    for _ in range(100):
        if await pool.fetchval("SELECT status FROM holds WHERE org_id = $1", org) == "expired":
            break
        await asyncio.sleep(0.1)
    balance = await pool.fetchrow("SELECT * FROM balances WHERE org_id = $1", org)
    assert (balance["monthly_remaining"], balance["reserved"], balance["period_used"]) == (500, 0, 0)
    with pytest.raises(grpc.aio.AioRpcError) as ended:
        await run_session(stubs[0], opening(org, "killed", "20", idle_timeout_seconds=1, ttl_seconds=3), [])
    assert ended.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    async with pool.acquire() as conn:
        await assert_ledger_reproduces_balances(conn, org)


async def test_the_documented_example_charges_what_the_document_says(
    server_addrs: list[str], pool: asyncpg.Pool, make_org
) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "streaming-deductions.md").read_text()
    example = doc.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(example, "streaming-deductions.md", "exec"), namespace)
    org = await make_org()
    async with pool.acquire() as conn:
        service_key = (await create_api_key(conn, org, Role.SERVICE, "agent"))[1]
    async with grpc.aio.insecure_channel(server_addrs[0]) as channel:
        charge = namespace["charge_response"]
        first = await charge(channel, service_key, org, "r-1", [500, 1000])
        again = await charge(channel, service_key, org, "r-1", [500, 1000])
    assert (first.charged, first.replayed) == ("5.85", False)
    assert (again.charged, again.replayed) == ("5.85", True)
    assert await pool.fetchval("SELECT monthly_remaining FROM balances WHERE org_id = $1", org) == Decimal(
        "494.15")


CLIENT = """
import asyncio, sys
import grpc
from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc

async def main(addr, key, org):
    async with grpc.aio.insecure_channel(addr) as channel:
        call = pb_grpc.MeteringServiceStub(channel).DeductSession(
            metadata=[("authorization", f"Bearer {key}")])
        await call.write(pb.DeductSessionRequest(org_id=org, open=pb.DeductSessionOpen(
            idempotency_key="vanished", amount="10")))
        await call.read()
        for value in ("2", "3"):
            await call.write(pb.DeductSessionRequest(chunk=pb.DeductSessionChunk(amount=value)))
            await call.read()
        print("sent", flush=True)
        await asyncio.sleep(3600)

asyncio.run(main(*sys.argv[1:]))
"""


async def test_a_client_process_killed_mid_stream_is_settled_at_once(
    server_addrs: list[str], platform_key: str, pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    client = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLIENT, server_addrs[1], platform_key, org, stdout=asyncio.subprocess.PIPE)
    try:
        assert client.stdout is not None
        assert await asyncio.wait_for(client.stdout.readline(), 30) == b"sent\n"
        client.kill()  # the default idle timeout is 30 s: a settlement now comes from the broken stream
        row = await wait_for_settlement(pool, org, "vanished")
    finally:
        if client.returncode is None:
            client.kill()
        await client.wait()
    assert (row["amount"], row["from_hold"]) == (5, 5)
    balance = await pool.fetchrow("SELECT * FROM balances WHERE org_id = $1", org)
    assert (balance["monthly_remaining"], balance["reserved"]) == (495, 0)


async def test_a_stopping_server_settles_its_live_sessions_before_it_exits(
    database_url: str, platform_key: str, pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    addr, proc = start_server(database_url, METERING_SHUTDOWN_GRACE_SECONDS="0.5",
                              METERING_NOTIFY_SECONDS="86400")
    try:
        async with aio_channel(addr, platform_key) as channel:
            call = pb_grpc.MeteringServiceStub(channel).DeductSession()
            await call.write(opening(org, "draining", "10"))
            await call.read()
            await call.write(amount("6"))
            await call.read()
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(proc.wait, 15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    row = await pool.fetchrow("SELECT * FROM deductions WHERE org_id = $1", org)
    assert (row["idempotency_key"], row["amount"]) == ("draining", 6)
    balance = await pool.fetchrow("SELECT * FROM balances WHERE org_id = $1", org)
    assert (balance["monthly_remaining"], balance["reserved"]) == (494, 0)


async def test_the_readme_examples_charge_what_the_pricing_rules_say(
    server_addrs: list[str], pool: asyncpg.Pool, make_org
) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    org = await make_org()
    async with pool.acquire() as conn:
        service_key = (await create_api_key(conn, org, Role.SERVICE, "readme"))[1]
    blocks = [b.split("```", 1)[0] for b in readme.split("```python\n")[1:]]
    code = "\n".join(blocks).replace("127.0.0.1:50051", server_addrs[0]).replace('"demo"', f'"{org}"')
    namespace: dict[str, Any] = {}
    os.environ["METERING_API_KEY"] = service_key
    try:
        await asyncio.to_thread(exec, compile(code, "README.md", "exec"), namespace)
    finally:
        del os.environ["METERING_API_KEY"]
    # 12,000 input tokens at $3/M and 1,050 output tokens at $15/M: $0.05175 = 5.175 credits.
    assert (namespace["settled"].charged, namespace["settled"].replayed) == ("5.175", False)
    assert namespace["spent"].granted
    # 500 monthly credits - 5.175 - 5.
    assert await pool.fetchval("SELECT monthly_remaining FROM balances WHERE org_id = $1", org) == Decimal(
        "489.825")
    recorded = "SELECT quantity FROM usage_events WHERE org_id = $1 AND idempotency_key = 'req-42-queries'"
    assert await pool.fetchval(recorded, org) == 3
