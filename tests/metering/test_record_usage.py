"""RecordUsage: exactly once across replicas, batches answered per event."""

from __future__ import annotations

import asyncio
import itertools

import asyncpg
import grpc
import pytest

from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc

EVENTS = 10_000
BATCHED = 5_000  # the first half travels in batches, the second half one event per call
BATCH = 100
CALLERS = 32


def _event(i: int) -> pb.UsageEvent:
    return pb.UsageEvent(
        idempotency_key=f"evt-{i}",
        meter="llm_tokens",
        quantity=str(i % 97 + 1),
        workspace_id=f"ws-{i % 5}",
        source=pb.SOURCE_CLI,
        model="claude-sonnet-4",
        token_kind=pb.TOKEN_KIND_OUTPUT,
    )


def _calls(org: str) -> list[pb.RecordUsageRequest]:
    batches = [
        pb.RecordUsageRequest(org_id=org, events=[_event(i) for i in range(start, start + BATCH)])
        for start in range(0, BATCHED, BATCH)
    ]
    singles = [pb.RecordUsageRequest(org_id=org, event=_event(i)) for i in range(BATCHED, EVENTS)]
    return batches + singles


async def _send_all(
    stubs: list[pb_grpc.MeteringServiceStub], calls: list[tuple[int, pb.RecordUsageRequest]]
) -> list[pb.RecordUsageResponse]:
    queue = iter(calls)
    answers: list[pb.RecordUsageResponse] = []

    async def caller() -> None:
        for server, request in queue:
            answers.append(await stubs[server].RecordUsage(request, timeout=30))

    await asyncio.gather(*(caller() for _ in range(CALLERS)))
    return answers


async def test_events_sent_twice_to_three_servers_are_stored_exactly_once(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    calls = _calls(org)
    # Every call goes out twice, to two different servers, interleaved so originals and retries race.
    twice = [(n % 3, c) for n, c in enumerate(calls)] + [((n + 1) % 3, c) for n, c in enumerate(calls)]
    interleaved = list(
        itertools.chain.from_iterable(zip(twice[: len(calls)], twice[len(calls) :], strict=True))
    )
    answers = await _send_all(stubs, interleaved)

    by_key: dict[str, list[pb.EventResult]] = {}
    for answer in answers:
        for result in answer.results:
            by_key.setdefault(result.idempotency_key, []).append(result)
    assert len(by_key) == EVENTS
    for key, results in by_key.items():
        assert sorted(r.status for r in results) == [pb.EVENT_STATUS_ACCEPTED, pb.EVENT_STATUS_DUPLICATE], key
        assert results[0].event_id == results[1].event_id
        assert results[0].recorded_at == results[1].recorded_at

    stored = await pool.fetchrow(
        "SELECT count(*) AS n, sum(quantity) AS total FROM usage_events WHERE org_id = $1", org
    )
    assert stored["n"] == EVENTS
    assert stored["total"] == sum(i % 97 + 1 for i in range(EVENTS))


async def test_batch_answers_each_event_and_one_bad_event_does_not_sink_it(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    request = pb.RecordUsageRequest(
        org_id=org,
        events=[
            pb.UsageEvent(idempotency_key="a", meter="queries", quantity="3"),
            pb.UsageEvent(idempotency_key="b", meter="no_such_meter", quantity="1"),
            pb.UsageEvent(idempotency_key="c", meter="queries", quantity="NaN"),
            pb.UsageEvent(idempotency_key="a", meter="queries", quantity="3"),
            pb.UsageEvent(idempotency_key="a", meter="queries", quantity="4"),
            pb.UsageEvent(idempotency_key="d", meter="queries", quantity="0.5"),
        ],
    )
    answer = await stubs[0].RecordUsage(request)
    statuses = [r.status for r in answer.results]
    assert statuses == [
        pb.EVENT_STATUS_ACCEPTED,
        pb.EVENT_STATUS_REJECTED,
        pb.EVENT_STATUS_REJECTED,
        pb.EVENT_STATUS_DUPLICATE,
        pb.EVENT_STATUS_REJECTED,
        pb.EVENT_STATUS_ACCEPTED,
    ]
    assert answer.results[1].violation.field == "events[1].meter"
    assert answer.results[1].violation.code == "NOT_FOUND"
    assert answer.results[2].violation.field == "events[2].quantity"
    assert answer.results[4].violation.field == "events[4].idempotency_key"
    assert (answer.accepted, answer.duplicates, answer.rejected) == (2, 1, 3)
    rows = await pool.fetch(
        "SELECT idempotency_key, quantity FROM usage_events WHERE org_id = $1 ORDER BY idempotency_key", org
    )
    assert [(r["idempotency_key"], str(r["quantity"])) for r in rows] == [("a", "3"), ("d", "0.5")]


async def test_single_invalid_event_fails_the_call_and_stores_nothing(
    stubs: list[pb_grpc.MeteringServiceStub], pool: asyncpg.Pool, make_org
) -> None:
    org = await make_org()
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await stubs[1].RecordUsage(
            pb.RecordUsageRequest(
                org_id=org, event=pb.UsageEvent(idempotency_key="x", meter="nope", quantity="1")
            )
        )
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND
    assert failure.value.details().startswith("event.meter")
    assert await pool.fetchval("SELECT count(*) FROM usage_events WHERE org_id = $1", org) == 0
