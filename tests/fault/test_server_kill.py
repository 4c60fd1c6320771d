"""A metering server SIGKILLed mid-load, twice (each replica once), and restarted on its address.

A kill lands between a batch's COMMIT and its answers now and then: the caller saw a dropped
connection for a deduction that was applied, retries it on the other replica, and must be told
the original result (replayed), never have it applied twice.

Run twice: replicas that each apply what they receive, and replicas that route each
organization's credit calls to its owner, where each kill also takes down the owner of some
organizations with forwarded calls in its batches.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest

from devstack.supervised import metering_server
from tests.fault.conftest import MeteringDatabase
from tests.fault.deduct_race import Race, assert_deductions_exact, assert_events_exact, race_across

PAUSE_BETWEEN_KILLS = 1.5


@pytest.fixture(scope="module", params=["each replica alone", "routed to owners"])
async def kills(request: pytest.FixtureRequest, metering_db: MeteringDatabase,
                tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Race]:
    logs = tmp_path_factory.mktemp("kill")
    peer_token = secrets.token_hex(16) if request.param == "routed to owners" else None
    servers = [metering_server(f"metering-{i}", metering_db.dsn, logs / f"metering-{i}.log",
                               peer_token=peer_token, METERING_PEER_HEARTBEAT_SECONDS="0.5")
               for i in range(2)]

    async def kill_each_replica() -> None:
        for server in servers:
            server.kill()
            await asyncio.sleep(PAUSE_BETWEEN_KILLS)  # the other replica takes the retries
            await asyncio.to_thread(server.start)

    race = await race_across(servers, kill_each_replica, metering_db.dsn, metering_db.platform_key)
    print(race.summary(f"SIGKILL of each replica ({request.param})"))  # shown with -s, and on a failure
    yield race


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
