"""Pushing the outbox to Stripe: one lane per (organization, meter), at most one call in flight."""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import asyncpg

from services.billing.config import WorkerConfig
from services.billing.domain.retry import Verdict, backoff_seconds, decide
from services.billing.domain.stripe_units import idempotency_key
from services.billing.service.instruments import STRIPE_PUSH_ERRORS, STRIPE_PUSHES
from services.billing.service.payments import ensure_customer
from services.billing.store import accounts, outbox
from services.billing.store.stripe_gateway import MeterEventResult, StripeFailure, StripeGateway
from services.kit.observability.outbox_lag import set_outbox_lag

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
MAX_LANES_PER_ROUND = 500
MAX_PUSHES_PER_LANE = 1000


class Pusher:
    def __init__(self, pool: asyncpg.Pool, gateway: StripeGateway, config: WorkerConfig, clock: Clock,
                 rand: random.Random | None = None) -> None:
        self.pool, self.gateway, self.config, self.clock = pool, gateway, config, clock
        self.rand = rand or random.Random()
        self._customers: dict[str, str] = {}
        self._meters: set[str] = set()

    async def push_due(self) -> Counter[str]:
        """Pushes every due row once (retries are scheduled for later, not awaited)."""
        async with self.pool.acquire() as conn:
            lanes = await outbox.due_lanes(conn, self.clock(), MAX_LANES_PER_ROUND)
            set_outbox_lag("stripe", await outbox.oldest_pending_age(conn, self.clock()))
        self.rand.shuffle(lanes)  # replicas start on different lanes
        gate = asyncio.Semaphore(self.config.push_concurrency)
        totals: Counter[str] = Counter()

        async def one(lane: tuple[str, str]) -> None:
            async with gate:
                totals.update(await self.push_lane(*lane))

        await asyncio.gather(*(one(lane) for lane in lanes))
        return totals

    async def push_lane(self, org_id: str, meter: str) -> Counter[str]:
        done: Counter[str] = Counter()
        try:
            customer = await self._customer(org_id)
            await self._meter(meter)
        except StripeFailure as error:
            log.warning("Stripe customer or meter for %s/%s not ready: %s", org_id, meter, error)
            done["not_ready"] += 1
            return done
        for _ in range(MAX_PUSHES_PER_LANE):
            verdict = await self._push_next(org_id, meter, customer)
            if verdict is None:
                break
            done[verdict.value] += 1
            if verdict in (Verdict.RETRY, Verdict.FAILED):
                break  # the lane waits for its backoff; other rows of it follow then
        return done

    async def _push_next(self, org_id: str, meter: str, customer: str) -> Verdict | None:
        async with self.pool.acquire() as conn, conn.transaction():
            if not await outbox.lock_lane(conn, org_id, meter):
                return None  # another worker is calling Stripe for this customer and meter
            push = await outbox.claim(conn, org_id, meter, self.clock())
            if push is None:
                return None
            result = await self.gateway.send_meter_event(
                push.stripe_event_name, customer, push.value, push.identifier, push.event_timestamp,
                idempotency_key(push.identifier, push.event_timestamp))
            return await self._record(conn, push, result)

    async def _record(self, conn: asyncpg.Connection, push: outbox.Push, result: MeterEventResult) -> Verdict:
        decision = decide(result.answer)
        now, error = self.clock(), _error(result)
        STRIPE_PUSHES.add(1, {"verdict": decision.verdict.value})
        if decision.verdict is not Verdict.DELIVERED:
            status = result.answer.status
            STRIPE_PUSH_ERRORS.add(1, {"status": "network" if status is None else str(status)})
        match decision.verdict:
            case Verdict.DELIVERED:
                await outbox.record_delivered(conn, push, now, result.body, result.request_id, None)
            case Verdict.ALREADY_DELIVERED:
                await outbox.record_delivered(conn, push, now, result.body, result.request_id, error)
                log.info("push %s was already delivered (%s)", push.identifier, error)
            case Verdict.RESTAMP:
                await outbox.restamp(conn, push, now, error)
                log.warning("push %s: Stripe refused its timestamp; sent into the current period",
                            push.identifier)
            case Verdict.RETRY:
                delay = backoff_seconds(push.attempts + 1, self.config.retry_base_seconds,
                                        self.config.retry_max_seconds, decision.retry_after, self.rand)
                await outbox.record_retry(conn, push, now + timedelta(seconds=delay), error, result.body,
                                          result.request_id)
                log.info("push %s: retry in %.2fs after %s", push.identifier, delay, error)
            case Verdict.FAILED:
                await outbox.record_failed(conn, push, error, result.body, result.request_id)
                log.error("push %s failed for good: %s", push.identifier, error)
        return decision.verdict

    async def _customer(self, org_id: str) -> str:
        if org_id in self._customers:
            return self._customers[org_id]
        async with self.pool.acquire() as conn:
            found = await ensure_customer(conn, self.gateway, org_id)
        self._customers[org_id] = found
        return found

    async def _meter(self, meter: str) -> None:
        if meter in self._meters:
            return
        async with self.pool.acquire() as conn:
            found = await accounts.meter(conn, meter)
            if found is None:  # pushes reference billing_meters, so only a dropped meter gets here
                raise LookupError(f"no billing meter {meter!r}")
            if found.stripe_meter_id is None:
                stripe_id = await self.gateway.meter_id(found.stripe_event_name, found.display_name,
                                                        found.aggregation)
                await accounts.save_meter(conn, meter, stripe_id)
        self._meters.add(meter)


def _error(result: MeterEventResult) -> str:
    answer = result.answer
    if answer.status is None:
        return answer.message or "no response"
    return f"HTTP {answer.status}: {answer.message}"[:500] if answer.status >= 300 else ""
