"""Deductions and usage events racing through a fault, and the proof that none was lost or doubled.

Callers run closed loops against every replica until told to stop; each request is retried with
the same idempotency key (on the next replica) until one answers. Afterwards the database must
hold exactly the requests sent, the answers the callers kept must be the stored results, and the
credits they were told were granted must be exactly what left the balances and entered the ledger.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal

import asyncpg
import grpc

from devstack.supervised import ServedProcess
from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc
from tests.fault.retrying import RetryLog, until_answered
from tests.fault.store import available, connected, new_org
from tests.metering.clients import aio_channel
from tests.metering.ledger_checks import assert_ledger_reproduces_balances

CALL_TIMEOUT = 10.0  # per attempt; an outage answers at once, a busy machine may need seconds
LOAD_BEFORE_SECONDS = 2.0
ANSWERS_AFTER_FAULT = 300


@dataclass
class Answered:
    request: pb.DeductRequest
    answer: pb.DeductResponse
    attempts: int


@dataclass
class Recorded:
    event: pb.UsageEvent
    result: pb.EventResult
    attempts: int


@dataclass
class Traffic:
    """Everything the callers sent and the answer each finally got."""

    deductions: dict[tuple[str, str], Answered] = field(default_factory=dict)
    events: dict[str, Recorded] = field(default_factory=dict)
    log: RetryLog = field(default_factory=RetryLog)

    @property
    def answered(self) -> int:
        return len(self.deductions) + len(self.events)

    def retried(self) -> list[Answered]:
        return [a for a in self.deductions.values() if a.attempts > 1]


async def deduct_until(stop: asyncio.Event, stubs: list[pb_grpc.MeteringServiceStub], orgs: list[str],
                       traffic: Traffic, caller: int, seed: int) -> None:
    """One caller: deductions of 0.01..4.00 credits, rotating over the organizations."""
    rng = random.Random(seed * 1_000 + caller)
    n = 0
    while not stop.is_set():
        org = orgs[n % len(orgs)]
        request = pb.DeductRequest(org_id=org, idempotency_key=f"c{caller}-{n}",
                                   amount=str(Decimal(rng.randint(1, 400)) / 100))

        def attempt(k: int, request: pb.DeductRequest = request) -> Awaitable[pb.DeductResponse]:
            return stubs[(caller + k) % len(stubs)].Deduct(request, timeout=CALL_TIMEOUT)

        answer, attempts = await until_answered(attempt, traffic.log)
        traffic.deductions[(org, request.idempotency_key)] = Answered(request, answer, attempts)
        n += 1


async def record_until(stop: asyncio.Event, stubs: list[pb_grpc.MeteringServiceStub], org: str,
                       traffic: Traffic, caller: int) -> None:
    """One caller: single usage events (the group-insert path), each key unique."""
    n = 0
    while not stop.is_set():
        event = pb.UsageEvent(idempotency_key=f"u{caller}-{n}", meter="api_requests", quantity="1")
        request = pb.RecordUsageRequest(org_id=org, event=event)

        def attempt(k: int, request: pb.RecordUsageRequest = request
                    ) -> Awaitable[pb.RecordUsageResponse]:
            return stubs[(caller + k) % len(stubs)].RecordUsage(request, timeout=CALL_TIMEOUT)

        answer, attempts = await until_answered(attempt, traffic.log)
        traffic.events[event.idempotency_key] = Recorded(event, answer.results[0], attempts)
        n += 1


async def run_traffic(stop: asyncio.Event, stubs: list[pb_grpc.MeteringServiceStub], orgs: list[str],
                      usage_org: str, traffic: Traffic, deducters: int = 24, recorders: int = 8,
                      seed: int = 1) -> None:
    await asyncio.gather(
        *(deduct_until(stop, stubs, orgs, traffic, i, seed) for i in range(deducters)),
        *(record_until(stop, stubs, usage_org, traffic, i) for i in range(recorders)),
    )


async def wait_for_answers(traffic: Traffic, more: int, within: float) -> None:
    """Waits until `more` further calls were answered: the service is back, not just up."""
    target = traffic.answered + more
    deadline = asyncio.get_running_loop().time() + within
    while traffic.answered < target:
        assert asyncio.get_running_loop().time() < deadline, (
            f"only {traffic.answered - target + more} of {more} calls answered in {within:.0f}s "
            f"after the fault: {dict(traffic.log.codes)}")
        await asyncio.sleep(0.1)


DEDUCTIONS = """
SELECT idempotency_key, granted, amount, from_monthly, from_bonus, created_at
FROM deductions WHERE org_id = $1"""
DEDUCTED_BY_LEDGER = """
SELECT coalesce(-sum(amount), 0) FROM ledger_entries WHERE org_id = $1 AND kind = 'deduct'"""


async def assert_deductions_exact(dsn: str, traffic: Traffic, org: str, available_before: Decimal) -> Decimal:
    """One stored deduction per key sent, equal to the answer kept; granted = ledger = balance drop.

    Returns the credits granted, for the caller's report.
    """
    sent = {key: a for (o, key), a in traffic.deductions.items() if o == org}
    async with connected(dsn) as conn:
        rows = {r["idempotency_key"]: r for r in await conn.fetch(DEDUCTIONS, org)}
        lost = sorted(set(sent) - set(rows))
        unknown = sorted(set(rows) - set(sent))
        assert not lost and not unknown, f"{org}: answered but not stored {lost[:5]}, stored but never " \
                                         f"sent {unknown[:5]}"
        for key, answered in sent.items():
            _assert_answer_is_stored(key, answered, rows[key])
        granted = sum((Decimal(a.answer.amount) for a in sent.values() if a.answer.granted), Decimal(0))
        ledger = await conn.fetchval(DEDUCTED_BY_LEDGER, org)
        after = await conn.fetchval(
            "SELECT monthly_remaining + bonus_remaining FROM balances WHERE org_id = $1", org)
        assert granted == ledger == available_before - after, (
            f"{org}: clients were granted {granted}, the ledger deducted {ledger}, the balance fell by "
            f"{available_before - after}")
        assert after >= 0
        await assert_ledger_reproduces_balances(conn, org)
    return granted


def _assert_answer_is_stored(key: str, answered: Answered, row: asyncpg.Record) -> None:
    answer = answered.answer
    stored = (row["granted"], row["amount"], row["from_monthly"], row["from_bonus"], row["created_at"])
    seen = (answer.granted, Decimal(answer.amount), Decimal(answer.from_monthly or "0"),
            Decimal(answer.from_bonus or "0"), answer.created_at.ToDatetime(tzinfo=UTC))
    assert seen == stored, f"{key}: the caller kept {seen}, the database holds {stored}"
    # A replay is the answer to a retry of something already applied: never to a first attempt.
    assert not answer.replayed or answered.attempts > 1, f"{key}: first attempt answered as a replay"


async def assert_events_exact(dsn: str, traffic: Traffic, org: str) -> None:
    """One stored event per key sent, with the event id its caller was given."""
    async with connected(dsn) as conn:
        rows = {r["idempotency_key"]: r["event_id"] for r in await conn.fetch(
            "SELECT idempotency_key, event_id FROM usage_events WHERE org_id = $1", org)}
    assert set(rows) == set(traffic.events), (
        f"lost {sorted(set(traffic.events) - set(rows))[:5]}, "
        f"unknown {sorted(set(rows) - set(traffic.events))[:5]}")
    for key, recorded in traffic.events.items():
        assert recorded.result.status in (pb.EVENT_STATUS_ACCEPTED, pb.EVENT_STATUS_DUPLICATE), key
        assert recorded.result.event_id == rows[key], f"{key}: told event {recorded.result.event_id}, " \
                                                      f"stored {rows[key]}"
        # DUPLICATE is the answer to a retry of an event already stored: never to a first attempt.
        if recorded.result.status == pb.EVENT_STATUS_DUPLICATE:
            assert recorded.attempts > 1, f"{key}: first attempt answered DUPLICATE"


async def assert_retries_replay(stubs: list[pb_grpc.MeteringServiceStub], traffic: Traffic,
                                sample: int = 400, seed: int = 3) -> int:
    """Sends again every request that needed a retry and a sample of the others: each is answered
    as a replay of what its caller kept, and changes nothing (the caller re-checks the totals).

    Returns how many were sent again.
    """
    rng = random.Random(seed)
    others = [a for a in traffic.deductions.values() if a.attempts == 1]
    chosen = traffic.retried() + rng.sample(others, min(sample, len(others)))
    queue = iter(chosen)
    log = RetryLog()

    async def caller(n: int) -> None:
        for answered in queue:
            def attempt(k: int, answered: Answered = answered) -> Awaitable[pb.DeductResponse]:
                return stubs[(n + k) % len(stubs)].Deduct(answered.request, timeout=CALL_TIMEOUT)

            again, _ = await until_answered(attempt, log, patience=60)
            first = answered.answer
            assert again.replayed, f"{answered.request.idempotency_key}: applied again"
            assert (again.granted, again.amount, again.from_monthly, again.from_bonus, again.created_at) == (
                first.granted, first.amount, first.from_monthly, first.from_bonus, first.created_at)

    await asyncio.gather(*(caller(n) for n in range(16)))
    return len(chosen)


@dataclass
class Race:
    """A race through one fault, ready for the tests to check property by property."""

    traffic: Traffic
    orgs: dict[str, Decimal]  # deducting organizations -> available credits before the race
    usage_org: str
    replayed_again: int  # requests sent once more after the race, each answered as a replay
    recovered_in: float  # seconds from the end of the fault to ANSWERS_AFTER_FAULT more answers

    def in_doubt(self) -> int:
        return sum(a.answer.replayed for a in self.traffic.retried())

    def summary(self, what: str) -> str:
        codes = {code.name: n for code, n in self.traffic.log.codes.items()}
        return (f"{what}: {len(self.traffic.deductions)} deductions, {len(self.traffic.events)} events, "
                f"{len(self.traffic.retried())} deductions retried ({self.in_doubt()} of them applied before "
                f"the failure their caller saw, answered as replays), failed attempts {codes}, "
                f"{ANSWERS_AFTER_FAULT} answers {self.recovered_in:.1f}s after the fault")


async def race_across(servers: list[ServedProcess], fault: Callable[[], Awaitable[None]], dsn: str,
                      platform_key: str) -> Race:
    """Starts the replicas, races through `fault` across them (they must all be alive afterwards),
    and stops them again."""
    channels: list[grpc.aio.Channel] = []
    try:
        for server in servers:
            await asyncio.to_thread(server.start)
        channels = [aio_channel(s.grpc_addr, platform_key) for s in servers]
        race = await race_through(fault, dsn, [pb_grpc.MeteringServiceStub(c) for c in channels])
        assert all(s.alive() for s in servers), "a metering server died in the race"
        return race
    finally:
        for channel in channels:
            await channel.close()
        for server in servers:
            server.stop()


async def race_through(fault: Callable[[], Awaitable[None]], dsn: str,
                       stubs: list[pb_grpc.MeteringServiceStub]) -> Race:
    """Deductions and usage events race while `fault` runs; then the service must answer again."""
    # A rich organization keeps granting; a poor one runs dry early, so refusals race through the
    # fault too.
    rich, poor, usage_org = await new_org(dsn, bonus=1_000_000), await new_org(dsn), await new_org(dsn)
    orgs = {org: await available(dsn, org) for org in (rich, poor)}
    traffic, stop = Traffic(), asyncio.Event()
    await _spend_most_of(stubs[0], poor, orgs[poor] - 40, traffic)
    load = asyncio.create_task(run_traffic(stop, stubs, list(orgs), usage_org, traffic))
    try:
        await asyncio.sleep(LOAD_BEFORE_SECONDS)
        await fault()
        back = time.monotonic()
        await wait_for_answers(traffic, ANSWERS_AFTER_FAULT, within=90)
        recovered_in = time.monotonic() - back
    finally:
        stop.set()
        await load
    return Race(traffic, orgs, usage_org, await assert_retries_replay(stubs, traffic), recovered_in)


async def _spend_most_of(stub: pb_grpc.MeteringServiceStub, org: str, amount: Decimal,
                         traffic: Traffic) -> None:
    request = pb.DeductRequest(org_id=org, idempotency_key="spend-most", amount=str(amount))
    answer = await stub.Deduct(request, timeout=CALL_TIMEOUT)
    assert answer.granted
    traffic.deductions[(org, request.idempotency_key)] = Answered(request, answer, 1)
