"""Telemetry and logs: spans for RPCs and SQL, the service metrics, JSON logs with request ids."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys

import grpc

from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc
from services.kit.observability.telemetry import TelemetrySettings
from tests.metering.clients import aio_channel
from tests.metering.conftest import start_server


def _probe(database_url: str, key: str, org: str) -> subprocess.CompletedProcess[str]:
    # Its own process: the probe installs global telemetry providers and patches asyncpg.
    return subprocess.run(
        [sys.executable, "-m", "tests.metering.telemetry_probe", database_url, key, org],
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_rpcs_emit_spans_with_sql_children_and_metrics(
    database_url: str, platform_key: str, make_org
) -> None:
    org = await make_org()
    done = _probe(database_url, platform_key, org)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["granted"] and seen["denied"]
    rpc_spans = [s for s in seen["spans"] if s["name"] == "/metering.v1.MeteringService/Deduct"]
    assert len(rpc_spans) == 3 and all(s["kind"] == "SERVER" for s in rpc_spans)
    rpc_ids = {s["id"] for s in rpc_spans}
    sql = [s for s in seen["spans"] if s["kind"] == "CLIENT" and s["parent"] in rpc_ids]
    assert sql, "no SQL span is a child of an RPC span"
    by_name: dict[str, list[dict]] = {}
    for point in seen["metrics"]:
        by_name.setdefault(point["name"], []).append(point)
    requests = {
        p["attributes"]["rpc.grpc.status_code"]: p["value"]
        for p in by_name["metering.rpc.requests"]
        if p["attributes"]["rpc.method"] == "Deduct"
    }
    assert requests == {"OK": 2, "INVALID_ARGUMENT": 1}
    decisions = {
        (p["attributes"]["outcome"], p["attributes"]["reason"]): p["value"]
        for p in by_name["metering.deductions"]
    }
    assert decisions == {("granted", ""): 1, ("denied", "insufficient_credits"): 1}
    assert sum(p["value"] for p in by_name["metering.rpc.duration"]) >= 3  # histogram counts


def test_telemetry_is_off_unless_the_environment_asks_for_it() -> None:
    assert not TelemetrySettings.from_env({}).enabled
    assert TelemetrySettings.from_env(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}
    ) == TelemetrySettings("otlp", "otlp")
    assert TelemetrySettings.from_env({"OTEL_TRACES_EXPORTER": "console"}) == TelemetrySettings(
        "console", None
    )
    assert not TelemetrySettings.from_env(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "x", "OTEL_SDK_DISABLED": "true"}
    ).enabled


async def test_logs_are_json_lines_carrying_the_request_id(
    database_url: str, platform_key: str, make_org, tmp_path
) -> None:
    org = await make_org()
    log_file = tmp_path / "server.log"
    with log_file.open("w") as sink:
        addr, proc = start_server(database_url, output=sink, METERING_LOG_LEVEL="DEBUG")
        try:
            async with aio_channel(addr, platform_key) as channel:
                stub = pb_grpc.MeteringServiceStub(channel)
                await stub.GetQuota(
                    pb.GetQuotaRequest(org_id=org), metadata=[("x-request-id", "req-abc-123")]
                )
                with contextlib.suppress(grpc.aio.AioRpcError):
                    await stub.GetQuota(pb.GetQuotaRequest(org_id="nobody-here"))
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    lines = [json.loads(line) for line in log_file.read_text().splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    calls = [line for line in lines if line["message"].startswith("GetQuota")]
    assert [c["request_id"] for c in calls][:1] == ["req-abc-123"]
    assert len(calls) == 2 and calls[1]["request_id"] and calls[1]["message"].startswith("GetQuota NOT_FOUND")
    # Served on uvloop, as every process is unless METERING_EVENT_LOOP asks for asyncio's loop,
    # with grpc's helper threads under SCHED_BATCH.
    assert any(re.match(r"metering gRPC listening on .*event loop uvloop, [1-9][0-9]* helper threads "
                        r"SCHED_BATCH\)$", line["message"]) for line in lines)
