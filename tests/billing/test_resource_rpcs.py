"""ResourceService over gRPC: idempotent lifecycle, bad input named by field, nothing stored."""

from __future__ import annotations

import asyncpg
import grpc
import pytest

from services.gen.metering.v1 import billing_pb2 as bpb
from services.gen.metering.v1 import billing_pb2_grpc as bpb_grpc
from tests.metering.clients import aio_channel


@pytest.fixture
async def resources(server_addrs: list[str], platform_key: str):  # type: ignore[no-untyped-def]
    async with aio_channel(server_addrs[0], platform_key) as channel:
        yield bpb_grpc.ResourceServiceStub(channel)


async def test_create_is_idempotent_on_resource_id_and_delete_twice_is_harmless(resources, make_org) -> None:
    org = await make_org()
    request = bpb.CreateResourceRequest(org_id=org, resource_id="db-1", kind="postgres", tier="pro",
                                        name="prod-postgres", user_id="alice")
    first = await resources.CreateResource(request)
    again = await resources.CreateResource(request)
    assert not first.replayed and again.replayed
    assert again.resource.created_at == first.resource.created_at
    assert first.resource.hourly_usd == "0.0397" and first.resource.quantity == "1"
    assert first.resource.status == bpb.RESOURCE_STATUS_RUNNING
    resized = await resources.ResizeResource(bpb.ResizeResourceRequest(org_id=org, resource_id="db-1",
                                                                       tier="scale"))
    assert resized.resource.tier == "scale" and resized.resource.hourly_usd == "0.1355"
    gone = await resources.DeleteResource(bpb.DeleteResourceRequest(org_id=org, resource_id="db-1"))
    twice = await resources.DeleteResource(bpb.DeleteResourceRequest(org_id=org, resource_id="db-1"))
    assert not gone.replayed and twice.replayed
    assert twice.resource.deleted_at == gone.resource.deleted_at
    listed = await resources.ListResources(bpb.ListResourcesRequest(org_id=org))
    assert list(listed.resources) == []
    listed = await resources.ListResources(bpb.ListResourcesRequest(org_id=org, include_deleted=True))
    assert [r.resource_id for r in listed.resources] == ["db-1"]


@pytest.mark.parametrize(("fields", "code", "field"), [
    ({"resource_id": ""}, grpc.StatusCode.INVALID_ARGUMENT, "resource_id"),
    ({"kind": "Postgres!"}, grpc.StatusCode.INVALID_ARGUMENT, "kind"),
    ({"quantity": "-1"}, grpc.StatusCode.INVALID_ARGUMENT, "quantity"),
    ({"quantity": "0"}, grpc.StatusCode.INVALID_ARGUMENT, "quantity"),
    ({"quantity": "1.2345"}, grpc.StatusCode.INVALID_ARGUMENT, "quantity"),
    ({"quantity": "1e3"}, grpc.StatusCode.INVALID_ARGUMENT, "quantity"),
    ({"tier": "platinum"}, grpc.StatusCode.NOT_FOUND, "tier"),
    ({"kind": "quantum_computer", "tier": ""}, grpc.StatusCode.NOT_FOUND, "kind"),
    ({"org_id": "no-such-org"}, grpc.StatusCode.NOT_FOUND, "org_id"),
])
async def test_bad_create_requests_name_the_field_and_store_nothing(
    resources, make_org, pool: asyncpg.Pool, fields: dict[str, str], code: grpc.StatusCode, field: str
) -> None:
    org = await make_org()
    request = {"org_id": org, "resource_id": "r1", "kind": "postgres", "tier": "pro", **fields}
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await resources.CreateResource(bpb.CreateResourceRequest(**request))
    assert failure.value.code() == code and failure.value.details().startswith(f"{field}:")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM resources WHERE org_id = $1", org) == 0


@pytest.mark.parametrize(("changed", "field"), [
    ({"kind": "namespace"}, "kind"),
    ({"tier": "scale"}, "tier"),
    ({"quantity": "2"}, "quantity"),
    ({"name": "other"}, "name"),
    ({"user_id": "bob"}, "user_id"),
])
async def test_a_resource_id_reused_with_another_parameter_is_refused_naming_it(
    resources, make_org, pool: asyncpg.Pool, changed: dict[str, str], field: str
) -> None:
    org = await make_org()
    original = {"org_id": org, "resource_id": "x", "kind": "postgres", "tier": "pro", "name": "db",
                "user_id": "alice"}
    await resources.CreateResource(bpb.CreateResourceRequest(**original))
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await resources.CreateResource(bpb.CreateResourceRequest(**{**original, **changed}))
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.value.details().startswith(f"{field}: ")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM resource_segments WHERE org_id = $1", org) == 1
    same = await resources.CreateResource(bpb.CreateResourceRequest(**{**original, "quantity": "1.000"}))
    assert same.replayed


async def test_unknown_resources_are_not_found(resources, make_org) -> None:
    org = await make_org()
    for call, request in (
        (resources.DeleteResource, bpb.DeleteResourceRequest(org_id=org, resource_id="nope")),
        (resources.GetResource, bpb.GetResourceRequest(org_id=org, resource_id="nope")),
        (resources.ResizeResource, bpb.ResizeResourceRequest(org_id=org, resource_id="nope", tier="pro")),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await call(request)
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
