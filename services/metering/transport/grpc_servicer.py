"""metering.v1.MeteringService over gRPC: validate, call the metering service, map the result."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc
from services.kit import inputs
from services.kit.decimals import format_decimal
from services.kit.errors import FieldError
from services.kit.grpc_status import abort_with_field_error, rpc
from services.kit.wire import timestamp
from services.metering.domain import quota
from services.metering.domain.billing_period import BillingPeriod
from services.metering.domain.readings import Usage
from services.metering.service.metering import Metering
from services.metering.store.usage import NewEvent, StoredEvent
from services.metering.transport import requests
from services.metering.transport.credit_messages import (
    UNITS,
    deduct_response,
    release_response,
    reserve_response,
)
from services.metering.transport.peers import HERE, Peers, Routed
from services.metering.transport.streaming_servicer import DeductSessionServicer

Context = grpc.aio.ServicerContext[Any, Any]

STATES = {
    quota.QuotaState.OK: pb.QUOTA_STATE_OK,
    quota.QuotaState.WARNING: pb.QUOTA_STATE_WARNING,
    quota.QuotaState.CRITICAL: pb.QUOTA_STATE_CRITICAL,
    quota.QuotaState.OVERAGE: pb.QUOTA_STATE_OVERAGE,
}


class MeteringServicer(DeductSessionServicer, pb_grpc.MeteringServiceServicer):
    def __init__(self, metering: Metering, peers: Peers | None = None) -> None:
        self.metering = metering
        # With replicas set up, calls for organizations another replica owns are applied there.
        self.peers = peers

    @rpc
    async def RecordUsage(self, request: pb.RecordUsageRequest, context: Context) -> pb.RecordUsageResponse:
        org = inputs.org_id(request.org_id)
        events = requests.usage_events(request, datetime.now(UTC))
        results = await self.metering.record_usage(org, events, single=request.HasField("event"))
        if request.HasField("event") and isinstance(results[0], FieldError):
            await abort_with_field_error(context, results[0])
        return _usage_response(events, results)

    @rpc
    async def Deduct(self, request: pb.DeductRequest, context: Context) -> pb.DeductResponse:
        op = requests.deduct(request)
        routed = await self._route(request.org_id, deduct=request)
        if routed.outcome:
            return routed.outcome.deduct
        deduction = await self.metering.deduct(request.org_id, op)
        routed.check_applied_here(deduction.replayed)
        return deduct_response(deduction)

    @rpc
    async def Reserve(self, request: pb.ReserveRequest, context: Context) -> pb.ReserveResponse:
        op = requests.reserve(request)
        routed = await self._route(request.org_id, reserve=request)
        if routed.outcome:
            return routed.outcome.reserve
        reservation = await self.metering.reserve(request.org_id, op)
        routed.check_applied_here(reservation.replayed)
        return reserve_response(reservation)

    @rpc
    async def Release(self, request: pb.ReleaseRequest, context: Context) -> pb.ReleaseResponse:
        op = requests.release(request)
        routed = await self._route(request.org_id, release=request)
        if routed.outcome:
            return routed.outcome.release
        return release_response(await self.metering.release(request.org_id, op))

    async def _route(self, org_id: str, **operation: Any) -> Routed:
        """Where a Deduct, Reserve or Release is answered: by its owner replica, or here."""
        return await self.peers.forward(org_id, **operation) if self.peers else HERE

    @rpc
    async def GetQuota(self, request: pb.GetQuotaRequest, context: Context) -> pb.GetQuotaResponse:
        org = inputs.org_id(request.org_id)
        usage = await self.metering.usage(org, requests.optional_meter(request.meter))
        return pb.GetQuotaResponse(
            org_id=usage.org_id, meter=usage.meter, unit=_unit(usage), used=format_decimal(usage.used),
            limit=_limit(usage), unlimited=usage.limit is None,
            percent=_percent(usage),
            state=STATES[quota.quota_state(usage.used, usage.limit)],
            monthly_remaining=format_decimal(usage.monthly_remaining),
            bonus_remaining=format_decimal(usage.bonus_remaining),
            reserved=format_decimal(usage.reserved), period=_period(usage.period, usage.now),
        )

    @rpc
    async def Project(self, request: pb.ProjectRequest, context: Context) -> pb.ProjectResponse:
        org = inputs.org_id(request.org_id)
        usage = await self.metering.usage(org, requests.optional_meter(request.meter))
        p = quota.project(usage.used, usage.left, usage.limit, usage.period, usage.now, usage.aggregation)
        return pb.ProjectResponse(
            org_id=usage.org_id, meter=usage.meter, unit=_unit(usage), used=format_decimal(usage.used),
            limit=_limit(usage), unlimited=usage.limit is None,
            average_per_day=format_decimal(p.average_per_day),
            projected_period_end=format_decimal(p.projected_period_end),
            run_out_in_days="" if p.run_out_in_days is None else format_decimal(p.run_out_in_days),
            will_exceed=p.will_exceed, period=_period(usage.period, usage.now),
        )


def _usage_response(events: list[Any], results: list[StoredEvent | FieldError]) -> pb.RecordUsageResponse:
    response = pb.RecordUsageResponse()
    stamps: dict[datetime, Timestamp] = {}  # one insert shares one recorded_at
    for index, (event, result) in enumerate(zip(events, results, strict=True)):
        item = response.results.add(index=index)
        if isinstance(event, NewEvent):
            item.idempotency_key = event.idempotency_key
        if isinstance(result, FieldError):
            item.status = pb.EVENT_STATUS_REJECTED
            item.violation.CopyFrom(pb.FieldViolation(field=result.field, description=result.reason,
                                                      code=result.code))
            response.rejected += 1
        elif result.conflicting:
            item.status = pb.EVENT_STATUS_REJECTED
            item.violation.CopyFrom(pb.FieldViolation(
                field=f"events[{index}].idempotency_key",
                description="already used for an event with a different meter or quantity",
                code="INVALID_ARGUMENT",
            ))
            response.rejected += 1
        else:
            item.status = pb.EVENT_STATUS_DUPLICATE if result.duplicate else pb.EVENT_STATUS_ACCEPTED
            item.event_id = result.event_id
            if result.recorded_at not in stamps:
                stamps[result.recorded_at] = timestamp(result.recorded_at)
            item.recorded_at.CopyFrom(stamps[result.recorded_at])
            if result.duplicate:
                response.duplicates += 1
            else:
                response.accepted += 1
    return response


def _unit(usage: Usage) -> Any:
    return UNITS[usage.unit] if usage.unit else pb.UNIT_UNSPECIFIED


def _limit(usage: Usage) -> str:
    return "" if usage.limit is None else format_decimal(usage.limit)


def _period(period: BillingPeriod, now: datetime) -> pb.BillingPeriod:
    return pb.BillingPeriod(start=timestamp(period.start), end=timestamp(period.end),
                            days_elapsed=period.days_elapsed(now),
                            days_remaining=period.days_remaining(now))


def _percent(usage: Usage) -> str:
    """used / limit in percent; absent when unlimited."""
    return "" if usage.limit is None else format_decimal(quota.percent_used(usage.used, usage.limit))
