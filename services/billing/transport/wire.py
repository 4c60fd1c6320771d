"""Domain values to metering.v1 billing messages."""

from __future__ import annotations

from services.billing.store.resources import ResourceView
from services.gen.metering.v1 import billing_pb2 as bpb
from services.kit.decimals import format_decimal
from services.kit.wire import optional_timestamp, timestamp

RESOURCE_STATUSES = {"running": bpb.RESOURCE_STATUS_RUNNING, "deleted": bpb.RESOURCE_STATUS_DELETED}


def resource(view: ResourceView) -> bpb.Resource:
    return bpb.Resource(
        org_id=view.org_id, resource_id=view.resource_id, kind=view.kind, name=view.name, tier=view.tier,
        quantity=format_decimal(view.quantity), user_id=view.user_id or "",
        status=RESOURCE_STATUSES[view.status], created_at=timestamp(view.created_at),
        deleted_at=optional_timestamp(view.deleted_at), hourly_usd=format_decimal(view.hourly_usd),
        billed_seconds=format_decimal(view.billed_seconds), cost_usd=format_decimal(view.cost_usd),
    )
