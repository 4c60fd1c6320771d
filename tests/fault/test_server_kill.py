"""A metering server SIGKILLed mid-load, twice (each replica once), and restarted on its address.

A kill lands between a batch's COMMIT and its answers now and then: the caller saw a dropped
connection for a deduction that was applied, retries it on the other replica, and must be told
the original result (replayed), never have it applied twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest

from devstack.supervised import metering_server
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc
from tests.fault.conftest import MeteringDatabase
from tests.fault.deduct_race import Race, assert_deductions_exact, assert_events_exact, race_through
from tests.metering.clients import aio_channel

PAUSE_BETWEEN_KILLS = 1.5


@pytest.fixture(scope="module")
async def kills(metering_db: MeteringDatabase, tmp_path_factory: pytest.TempPathFactory
                ) -> AsyncIterator[Race]:
    logs = tmp_path_factory.mktemp("kill")
    servers = [metering_server(f"metering-{i}", metering_db.dsn, logs / f"metering-{i}.log")
               for i in range(2)]
    channels: list[grpc.aio.Channel] = []

    async def kill_each_replica() -> None:
        for server in servers:
            server.kill()
            await asyncio.sleep(PAUSE_BETWEEN_KILLS)  # the other replica takes the retries
            await asyncio.to_thread(server.start)

    try:
        for server in servers:
            await asyncio.to_thread(server.start)
        channels = [aio_channel(s.grpc_addr, metering_db.platform_key) for s in servers]
        race = await race_through(kill_each_replica, metering_db.dsn,
                                  [pb_grpc.MeteringServiceStub(c) for c in channels])
        print(race.summary("SIGKILL of each replica"))  # shown with -s, and on a failure
        yield race
    finally:
        for channel in channels:
            await channel.close()
        for server in servers:
            server.stop()


async def test_sigkilled_server_loses_no_deduction(kills: Race, metering_db: MeteringDatabase) -> None:
    assert kills.traffic.log.failures > 0, "no call met a killed server: nothing was proved"
    for org, before in kills.orgs.items():
        await assert_deductions_exact(metering_db.dsn, kills.traffic, org, before)


async def test_sigkilled_server_loses_no_usage_event(kills: Race, metering_db: MeteringDatabase) -> None:
    await assert_events_exact(metering_db.dsn, kills.traffic, kills.usage_org)


def test_retries_after_a_kill_replay_the_original(kills: Race) -> None:
    assert kills.replayed_again >= len(kills.traffic.retried()) > 0


def test_a_killed_server_looks_unavailable_to_callers(kills: Race) -> None:
    assert kills.traffic.log.unexpected() == {}, f"callers saw {dict(kills.traffic.log.codes)}"
