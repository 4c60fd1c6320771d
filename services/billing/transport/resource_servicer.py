"""metering.v1.ResourceService: validate, call one store function, map the result."""

from __future__ import annotations

from typing import Any

import asyncpg
import grpc

from services.billing.domain import resources as valid
from services.billing.service.resources import Resources
from services.billing.store import resources as store
from services.billing.transport import requests as req
from services.billing.transport import wire
from services.gen.metering.v1 import billing_pb2 as bpb
from services.gen.metering.v1 import billing_pb2_grpc as bpb_grpc
from services.kit.grpc_status import rpc
from services.kit.inputs import org_id as valid_org

Context = grpc.aio.ServicerContext[Any, Any]


class ResourceServicer(bpb_grpc.ResourceServiceServicer):
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.resources = Resources(pool)

    @rpc
    async def CreateResource(self, request: bpb.CreateResourceRequest,
                             context: Context) -> bpb.CreateResourceResponse:
        new = store.NewResource(
            org_id=valid_org(request.org_id), resource_id=req.ident(request.resource_id, "resource_id"),
            kind=valid.kind(request.kind), tier=valid.tier(request.tier),
            quantity=valid.quantity(request.quantity),
            name=req.name(request.name) if request.name else request.resource_id,
            user_id=req.ident(request.user_id, "user_id") if request.user_id else None,
        )
        view, replayed = await self.resources.create(new)
        return bpb.CreateResourceResponse(resource=wire.resource(view), replayed=replayed)

    @rpc
    async def ResizeResource(self, request: bpb.ResizeResourceRequest,
                             context: Context) -> bpb.ResizeResourceResponse:
        org, resource_id = valid_org(request.org_id), req.ident(request.resource_id, "resource_id")
        tier = valid.tier(request.tier) if request.tier else None
        quantity = valid.quantity(request.quantity) if request.quantity else None
        view, replayed = await self.resources.resize(org, resource_id, tier, quantity)
        return bpb.ResizeResourceResponse(resource=wire.resource(view), replayed=replayed)

    @rpc
    async def DeleteResource(self, request: bpb.DeleteResourceRequest,
                             context: Context) -> bpb.DeleteResourceResponse:
        org, resource_id = valid_org(request.org_id), req.ident(request.resource_id, "resource_id")
        view, replayed = await self.resources.delete(org, resource_id)
        return bpb.DeleteResourceResponse(resource=wire.resource(view), replayed=replayed)

    @rpc
    async def GetResource(self, request: bpb.GetResourceRequest, context: Context) -> bpb.GetResourceResponse:
        org, resource_id = valid_org(request.org_id), req.ident(request.resource_id, "resource_id")
        view = await self.resources.get(org, resource_id)
        return bpb.GetResourceResponse(resource=wire.resource(view))

    @rpc
    async def ListResources(self, request: bpb.ListResourcesRequest,
                            context: Context) -> bpb.ListResourcesResponse:
        org = valid_org(request.org_id)
        kind = valid.kind(request.kind) if request.kind else ""
        views = await self.resources.list(org, kind, request.include_deleted)
        return bpb.ListResourcesResponse(resources=[wire.resource(v) for v in views])
