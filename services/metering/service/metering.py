"""The metering service: what the transports call. It owns the per-process batchers and caches.

Every method takes already-validated domain values and returns domain results; status codes,
protobuf and HTTP stay in the transports.
"""

from __future__ import annotations

import asyncpg

from services.kit.errors import FieldError, NotFoundError, QuotaExceededError, event_field, within_event
from services.kit.thread_load import ThreadLoad
from services.metering.domain.credits import (
    Deduction,
    DeductOp,
    DenialReason,
    Release,
    ReleaseOp,
    Reservation,
    ReserveOp,
    Unit,
)
from services.metering.domain.readings import Usage
from services.metering.service.batch_gathering import DEFAULT_WAIT_SECONDS, BatchGathering
from services.metering.service.credit_ledger import CreditLedger
from services.metering.service.instruments import DEDUCTIONS
from services.metering.service.organizations import unknown_organization
from services.metering.service.streaming import DeductionSessions
from services.metering.service.usage_reads import UsageReads
from services.metering.service.usage_recorder import UsageRecorder
from services.metering.store.catalogue import Catalogue
from services.metering.store.deduction_usage import CREDITS_SPENT
from services.metering.store.usage import NewEvent, StoredEvent


class Metering:
    def __init__(self, pool: asyncpg.Pool, batch_wait: float = DEFAULT_WAIT_SECONDS) -> None:
        self.pool = pool
        self.catalogue = Catalogue(pool)
        self.recorder = UsageRecorder(pool)
        load = ThreadLoad().share  # the event loop's, measured once for every kind of batch
        self.ledger = CreditLedger(pool, batch_wait=batch_wait, load=load)
        self.usage_reads = UsageReads(pool, BatchGathering(batch_wait, load))
        self.sessions = DeductionSessions(self.ledger, pool)

    async def record_usage(self, org_id: str, events: list[NewEvent | FieldError],
                           single: bool = False) -> list[StoredEvent | FieldError]:
        """Stores the valid events of one organization; invalid ones come back as their errors."""
        await self.require_organization(org_id)
        named = {e.meter for e in events if isinstance(e, NewEvent)}
        meters = await self.catalogue.meters()
        if not named <= meters:
            meters = await self.catalogue.meters(refresh=True)
        checked: list[NewEvent | FieldError] = []
        for i, event in enumerate(events):
            if isinstance(event, NewEvent) and event.meter not in meters:
                event = NotFoundError(event_field(i, single, "meter"),
                                      f"meter {event.meter!r} does not exist")
            elif isinstance(event, NewEvent) and event.meter == CREDITS_SPENT:
                event = FieldError(event_field(i, single, "meter"),
                                   "'credits' usage is recorded by granted deductions only")
            checked.append(event)
        valid = [e for e in checked if isinstance(e, NewEvent)]
        stored = iter(await self.recorder.record(valid) if valid else [])
        results: list[StoredEvent | FieldError] = []
        for i, event in enumerate(checked):
            result = next(stored) if isinstance(event, NewEvent) else event
            if isinstance(result, QuotaExceededError):
                result = within_event(result, i, single)
            results.append(result)
        return results

    async def deduct(self, org_id: str, op: DeductOp) -> Deduction:
        result = await self.ledger.deduct(org_id, op)
        if not result.replayed:
            _count_decision("deduct", result.granted, result.denial_reason, result.unit)
        return result

    async def reserve(self, org_id: str, op: ReserveOp) -> Reservation:
        result = await self.ledger.reserve(org_id, op)
        if not result.replayed:
            _count_decision("reserve", result.granted, result.denial_reason, result.unit)
        return result

    async def release(self, org_id: str, op: ReleaseOp) -> Release:
        return await self.ledger.release(org_id, op)

    async def usage(self, org_id: str, meter: str) -> Usage:
        """The organization's credits (`meter` empty) or one meter's use, from a read shared with
        the calls that queued for it (see usage_reads)."""
        return await self.usage_reads.usage(org_id, meter)

    async def require_organization(self, org_id: str) -> None:
        if not await self.catalogue.organization_exists(org_id):
            raise unknown_organization(org_id)


def _count_decision(kind: str, granted: bool, reason: DenialReason | None, unit: Unit) -> None:
    DEDUCTIONS.add(1, {"kind": kind, "outcome": "granted" if granted else "denied",
                       "reason": reason.value if reason else "", "unit": unit.value})
