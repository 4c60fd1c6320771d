"""Runs a metering server in this process with in-memory telemetry, makes a few calls, and prints
what was recorded as JSON. `python -m tests.metering.telemetry_probe DSN API_KEY ORG`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys

import grpc
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from devstack.ports import free_port
from services.app.config import ServerConfig
from services.app.server import serve
from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc
from services.kit.observability import telemetry
from tests.metering.clients import aio_channel


async def probe(dsn: str, key: str, org: str) -> dict[str, object]:
    spans, reader = InMemorySpanExporter(), InMemoryMetricReader()
    telemetry.configure(
        "metering",
        telemetry.TelemetrySettings(None, None),
        span_processors=[SimpleSpanProcessor(spans)],
        metric_readers=[reader],
    )
    addr, stop = f"127.0.0.1:{free_port()}", asyncio.Event()
    server = asyncio.create_task(serve(ServerConfig(database_url=dsn, grpc_addr=addr), stop))
    async with aio_channel(addr, key) as channel:
        stub = pb_grpc.MeteringServiceStub(channel)
        await channel.channel_ready()
        await asyncio.sleep(0.2)
        granted = await stub.Deduct(pb.DeductRequest(org_id=org, idempotency_key="t1", amount="5"))
        denied = await stub.Deduct(pb.DeductRequest(org_id=org, idempotency_key="t2", amount="100000"))
        with contextlib.suppress(grpc.aio.AioRpcError):
            await stub.Deduct(pb.DeductRequest(org_id=org, idempotency_key="", amount="1"))
    stop.set()
    await server
    points = []
    for resource_metrics in reader.get_metrics_data().resource_metrics:
        for scope in resource_metrics.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    value = getattr(point, "value", None) if hasattr(point, "value") else point.count
                    points.append({"name": metric.name, "attributes": dict(point.attributes), "value": value})
    return {
        "granted": granted.granted,
        "denied": not denied.granted,
        "spans": [
            {
                "name": s.name,
                "parent": s.parent.span_id if s.parent else None,
                "id": s.context.span_id,
                "kind": s.kind.name,
            }
            for s in spans.get_finished_spans()
        ],
        "metrics": points,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(probe(*sys.argv[1:4]))))
