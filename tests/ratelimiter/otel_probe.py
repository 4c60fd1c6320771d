"""Records a sidecar's telemetry in memory and prints it as JSON. Its own process: it installs the
global providers and instruments redis-py.

`python -m tests.ratelimiter.otel_probe metrics`: counts a few decisions.
`python -m tests.ratelimiter.otel_probe traces PREFIX`: serves one Check from an in-process
sidecar on the machine's Redis and prints the finished spans.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import replace

import grpc
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from devstack.ports import free_port
from services.kit.observability import telemetry
from tests import stores


def metrics() -> list[dict[str, object]]:
    reader = InMemoryMetricReader()
    telemetry.configure("ratelimiter", telemetry.TelemetrySettings(None, None), metric_readers=[reader])
    from ratelimiter.metrics import Metrics
    from ratelimiter.model import Decision, LimitStatus, State

    recorder = Metrics()
    for state in (State.OK, State.OK, State.WARNING, State.LIMITED):
        decision = Decision(allowed=state is not State.LIMITED, statuses=(LimitStatus(state, None),))
        recorder.decided("api", decision, None)
    return [
        {"name": m.name, "attributes": dict(p.attributes), "value": p.value}
        for rm in reader.get_metrics_data().resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        for p in m.data.data_points
    ]


async def traces(prefix: str) -> list[dict[str, object]]:
    spans = InMemorySpanExporter()
    telemetry.configure("ratelimiter", telemetry.TelemetrySettings(None, None),
                        span_processors=[SimpleSpanProcessor(spans)])
    from ratelimiter.app import Sidecar
    from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2 as pb
    from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2_grpc as pb_grpc
    from ratelimiter.settings import Settings

    settings = replace(Settings(), redis_url=stores.redis_url(), grpc_addr=f"127.0.0.1:{free_port()}",
                       http_addr=f"127.0.0.1:{free_port()}", key_prefix=prefix, redis_timeout_s=2.0)
    sidecar = Sidecar(settings)
    await sidecar.start()
    try:
        async with grpc.aio.insecure_channel(settings.grpc_addr) as channel:
            answer = await pb_grpc.RateLimiterStub(channel).Check(pb.CheckRequest(
                domain="api", descriptors=[pb.Descriptor(entries=[pb.Entry(key="remote_address",
                                                                           value="10.9.8.7")])]))
            assert answer.allowed and not answer.degraded
    finally:
        await sidecar.stop()
    return [{"name": s.name, "kind": s.kind.name, "id": s.context.span_id,
             "parent": s.parent.span_id if s.parent else None,
             "statement": s.attributes.get("db.statement") if s.attributes else None}
            for s in spans.get_finished_spans()]


if __name__ == "__main__":
    if sys.argv[1] == "metrics":
        print(json.dumps(metrics()))
    else:
        print(json.dumps(asyncio.run(traces(sys.argv[2]))))
