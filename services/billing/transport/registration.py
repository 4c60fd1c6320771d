"""Adds the billing services to the metering server (its guard authenticates them)."""

from __future__ import annotations

import asyncpg
import grpc

from services.billing.transport.billing_servicer import BillingServicer
from services.billing.transport.resource_servicer import ResourceServicer
from services.gen.metering.v1 import billing_pb2, billing_pb2_grpc

BILLING_SERVICE_NAMES = tuple(
    billing_pb2.DESCRIPTOR.services_by_name[name].full_name for name in ("ResourceService", "BillingService")
)


def add_billing_servicers(server: grpc.aio.Server, pool: asyncpg.Pool) -> None:
    billing_pb2_grpc.add_ResourceServiceServicer_to_server(  # type: ignore[no-untyped-call]
        ResourceServicer(pool), server
    )
    billing_pb2_grpc.add_BillingServiceServicer_to_server(  # type: ignore[no-untyped-call]
        BillingServicer(pool), server
    )
