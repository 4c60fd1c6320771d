"""The worker's gRPC health service: SERVING while its loops make progress, NOT_SERVING when a job
hangs past the stuck limit, gone after SIGTERM."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from devstack.ports import free_port
from services.billing.config import WorkerConfig
from services.billing.transport.health import HealthService, JobWatch
from services.kit.config import ConfigError
from tests.billing.stripe_harness import start_worker

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def _status(addr: str) -> int:
    async with grpc.aio.insecure_channel(addr) as channel:
        answer = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
        return int(answer.status)


async def _eventually(addr: str, wanted: int, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = await _status(addr)
            if last == wanted:
                return
        except grpc.aio.AioRpcError as error:
            last = error.code()
        await asyncio.sleep(0.1)
    raise AssertionError(f"health at {addr} is {last}, wanted {wanted}")


def test_a_job_is_stuck_only_past_the_limit() -> None:
    now = [0.0]
    watch = JobWatch(stuck_seconds=60, clock=lambda: now[0])
    with watch.running("Stripe pushes"):
        now[0] = 60.0
        assert watch.stuck() == []
        now[0] = 60.5
        assert watch.stuck() == ["Stripe pushes"]
    assert watch.stuck() == []


async def test_a_hanging_job_reports_not_serving_until_it_returns() -> None:
    now = [0.0]
    watch = JobWatch(stuck_seconds=60, clock=lambda: now[0])
    health, stop = HealthService(watch, every=0.05), asyncio.Event()
    addr = f"127.0.0.1:{free_port()}"
    await health.start(addr)
    reporting = asyncio.create_task(health.report_until(stop))
    try:
        await _eventually(addr, SERVING)
        with watch.running("roll-up and planning"):
            now[0] = 61.0
            await _eventually(addr, NOT_SERVING)
        await _eventually(addr, SERVING)
    finally:
        stop.set()
        await reporting


async def test_a_taken_port_fails_the_start() -> None:
    taken = f"127.0.0.1:{free_port()}"
    first = HealthService(JobWatch(60))
    await first.start(taken)
    try:
        with pytest.raises(OSError, match="BILLING_GRPC_ADDR"):
            await HealthService(JobWatch(60)).start(taken)
    finally:
        stop = asyncio.Event()
        stop.set()
        await first.report_until(stop)


def test_health_address_must_be_host_and_port() -> None:
    env = {"METERING_DATABASE_URL": "postgresql://x/y", "STRIPE_API_KEY": "sk_test_x"}
    assert WorkerConfig.from_env(env).health_addr is None
    assert WorkerConfig.from_env({**env, "BILLING_GRPC_ADDR": "0.0.0.0:50053"}).health_addr == "0.0.0.0:50053"
    with pytest.raises(ConfigError, match="BILLING_GRPC_ADDR"):
        WorkerConfig.from_env({**env, "BILLING_GRPC_ADDR": "50053"})


async def test_running_worker_serves_health_and_reflection_then_stops_on_sigterm(
    module_database: str, stripe_base: str, stripe_key: str, tmp_path: Path,
) -> None:
    addr = f"127.0.0.1:{free_port()}"
    log = tmp_path / "worker.log"
    with log.open("w") as sink:
        worker = start_worker(module_database, stripe_base, stripe_key, sink, BILLING_GRPC_ADDR=addr)
        try:
            await _eventually(addr, SERVING)
            async with grpc.aio.insecure_channel(addr) as channel:
                stub = reflection_pb2_grpc.ServerReflectionStub(channel)
                ask = reflection_pb2.ServerReflectionRequest(list_services="")
                answers = stub.ServerReflectionInfo(iter([ask]))
                names = [s.name async for a in answers for s in a.list_services_response.service]
            assert "grpc.health.v1.Health" in names
        finally:
            worker.terminate()
            assert await asyncio.to_thread(worker.wait, 20) == 0, log.read_text()[-2000:]
    with pytest.raises(grpc.aio.AioRpcError):
        await _status(addr)
