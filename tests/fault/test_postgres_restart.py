"""PostgreSQL restarted while deductions and usage events race through two metering servers.

The outage is longer than the servers' API-key cache (5 s), so authentication meets the dead
database too. `fast` is an orderly restart (sessions are told and ended); `immediate` is a crash
(no checkpoint, crash recovery at the next start).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devstack.private_stores import PrivatePostgres
from devstack.supervised import metering_server
from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc
from tests.fault.conftest import MeteringDatabase
from tests.fault.deduct_race import Race, assert_deductions_exact, assert_events_exact, race_across
from tests.fault.store import new_org
from tests.metering.clients import aio_channel

OUTAGE_SECONDS = 6.0  # longer than the KeyRing's 5 s cache of API keys


@pytest.fixture(scope="module", params=["fast", "immediate"])
async def restart(request: pytest.FixtureRequest, private_postgres: PrivatePostgres,
                  metering_db: MeteringDatabase, tmp_path_factory: pytest.TempPathFactory
                  ) -> AsyncIterator[Race]:
    """Runs the race through one restart; the tests below each check one property of it."""
    mode: str = request.param
    log_dir = tmp_path_factory.mktemp(f"pg-{mode}")
    servers = [metering_server(f"metering-{i}", metering_db.dsn, log_dir / f"metering-{i}.log")
               for i in range(2)]

    async def restart_postgres() -> None:
        await asyncio.to_thread(private_postgres.stop, mode)
        await asyncio.sleep(OUTAGE_SECONDS)
        await asyncio.to_thread(private_postgres.start)

    try:
        race = await race_across(servers, restart_postgres, metering_db.dsn, metering_db.platform_key)
    finally:
        if not private_postgres.running():  # a failure mid-outage must not strand later tests
            private_postgres.start()
    print(race.summary(f"postgres {mode} restart"))  # shown with -s, and on a failure
    yield race


async def test_postgres_restart_loses_no_deduction(restart: Race, metering_db: MeteringDatabase) -> None:
    assert restart.traffic.log.failures > 0, "the restart was not noticed: nothing was proved"
    for org, before in restart.orgs.items():
        await assert_deductions_exact(metering_db.dsn, restart.traffic, org, before)
    # The poor organization ran dry: refusals were answered, never an overdraft.
    assert any(not a.answer.granted for a in restart.traffic.deductions.values())


async def test_postgres_restart_loses_no_usage_event(restart: Race, metering_db: MeteringDatabase) -> None:
    assert restart.traffic.events
    await assert_events_exact(metering_db.dsn, restart.traffic, restart.usage_org)


def test_retries_after_postgres_restart_replay_the_original(restart: Race) -> None:
    # Checked right after the race (assert_retries_replay); here, that it checked something.
    assert restart.replayed_again >= len(restart.traffic.retried()) > 0


def test_postgres_outage_is_reported_as_unavailable(restart: Race) -> None:
    assert restart.traffic.log.unexpected() == {}, (
        f"callers saw {dict(restart.traffic.log.codes)} during the outage")


def test_servers_recover_when_postgres_is_back(restart: Race) -> None:
    # The pools reconnect by themselves: no server restart, a few hundred answers within seconds.
    assert restart.recovered_in < 30, f"recovery took {restart.recovered_in:.1f}s"


async def test_server_started_during_an_outage_serves_once_postgres_is_back(
        private_postgres: PrivatePostgres, metering_db: MeteringDatabase, tmp_path: Path) -> None:
    server = metering_server("metering-late", metering_db.dsn, tmp_path / "metering-late.log")
    await asyncio.to_thread(private_postgres.stop, "fast")
    try:
        starting = asyncio.create_task(asyncio.to_thread(server.start, 60.0))
        await asyncio.sleep(3)  # a replica (re)scheduled while the database is away
        await asyncio.to_thread(private_postgres.start)
        await starting
        async with aio_channel(server.grpc_addr, metering_db.platform_key) as channel:
            org = await new_org(metering_db.dsn)
            await pb_grpc.MeteringServiceStub(channel).GetQuota(pb.GetQuotaRequest(org_id=org), timeout=10)
    finally:
        server.stop()
        if not private_postgres.running():
            private_postgres.start()
