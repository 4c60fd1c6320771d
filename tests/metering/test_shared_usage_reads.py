"""GetQuota's and Project's reads are shared by the calls that queue for them: a call is answered
by a read that started after it arrived, never by one already under way, so it sees every change
committed before it called."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal

import asyncpg

from services.kit.errors import NotFoundError
from services.metering.domain.credits import DeductOp
from services.metering.domain.readings import Usage
from services.metering.service.batch_gathering import BatchGathering
from services.metering.service.credit_ledger import CreditLedger
from services.metering.service.usage_reads import UsageReads, read_usage

MakeOrg = Callable[..., Awaitable[str]]


class HeldFirstRead:
    """The real read, counted; the first one is held after its statement ran until `release`."""

    def __init__(self) -> None:
        self.reads = 0
        self.first_ran = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, conn: asyncpg.Connection, org_id: str, meter: str) -> Usage:
        self.reads += 1
        usage = await read_usage(conn, org_id, meter)
        if self.reads == 1:
            self.first_ran.set()
            await self.release.wait()
        return usage


def _reads(pool: asyncpg.Pool, read: HeldFirstRead) -> UsageReads:
    return UsageReads(pool, BatchGathering(0, lambda: 0.0), read=read)


async def test_a_call_made_while_a_read_is_under_way_gets_a_read_of_its_own_that_sees_what_committed(
    pool: asyncpg.Pool, make_org: MakeOrg,
) -> None:
    org = await make_org()  # the free plan: 500 monthly credits
    held = HeldFirstRead()
    reads = _reads(pool, held)
    first = asyncio.create_task(reads.usage(org, ""))
    await asyncio.wait_for(held.first_ran.wait(), 5)
    await CreditLedger(pool).deduct(org, DeductOp("spent-after-the-first-read", Decimal(30)))
    second = asyncio.create_task(reads.usage(org, ""))
    await asyncio.sleep(0.05)
    assert held.reads == 1  # the second call waits for the next read, not beside the first
    held.release.set()
    before, after = await asyncio.wait_for(asyncio.gather(first, second), 5)
    assert held.reads == 2
    assert (before.used, before.monthly_remaining) == (Decimal(0), Decimal(500))
    assert (after.used, after.monthly_remaining) == (Decimal(30), Decimal(470))


async def test_the_calls_queued_while_a_read_runs_share_the_next_read(
    pool: asyncpg.Pool, make_org: MakeOrg,
) -> None:
    org = await make_org(bonus=25)
    held = HeldFirstRead()
    reads = _reads(pool, held)
    first = asyncio.create_task(reads.usage(org, ""))
    await asyncio.wait_for(held.first_ran.wait(), 5)
    queued = [asyncio.create_task(reads.usage(org, "")) for _ in range(10)]
    other_meter = asyncio.create_task(reads.usage(org, "api_requests"))
    await asyncio.sleep(0.05)
    held.release.set()
    *answers, requests = await asyncio.wait_for(asyncio.gather(first, *queued, other_meter), 5)
    assert held.reads == 3  # the first; one for the ten; the other meter's, its own
    assert {(u.monthly_remaining, u.bonus_remaining) for u in answers} == {(Decimal(500), Decimal(25))}
    assert (requests.meter, requests.used) == ("api_requests", Decimal(0))


async def test_every_call_sharing_a_read_of_an_unknown_organization_gets_not_found(
    pool: asyncpg.Pool,
) -> None:
    reads = UsageReads(pool, BatchGathering(0, lambda: 0.0))
    calls = [reads.usage("org-that-does-not-exist", "") for _ in range(5)]
    outcomes = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 5)
    assert all(isinstance(o, NotFoundError) and o.field == "org_id" for o in outcomes)


async def test_a_lone_call_under_load_is_answered_from_a_read_of_its_own(
    pool: asyncpg.Pool, make_org: MakeOrg,
) -> None:
    org = await make_org(bonus=7)  # the free plan: 500 monthly credits, and 7 bonus
    saturated = BatchGathering(0.02, lambda: 1.0)
    usage = await asyncio.wait_for(UsageReads(pool, saturated).usage(org, ""), 5)
    assert (usage.used, usage.monthly_remaining, usage.bonus_remaining) == (0, 500, 7)
