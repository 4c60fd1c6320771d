"""The decision engine in-process against the machine's Redis: bucket semantics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.crc import key_slot

from ratelimiter.config import Limits, load_limits
from ratelimiter.limiter import Limiter
from ratelimiter.model import CheckRequest, Descriptor, State
from ratelimiter.store import FULL_BATCH, RedisBuckets, connect
from tests import stores
from tests.ratelimiter.harness import keys_with_prefix

LIMITS = """\
domain: t
failure_mode: fail_closed
descriptors:
  - key: two_limits
    rate_limits:
      - {requests_per_unit: 2, window: 1s, name: per_second}
      - {requests_per_unit: 5, window: 1m, name: per_minute}
  - key: bursty
    rate_limit: {requests_per_unit: 1, window: 1s, burst: 5}
  - key: half_minute
    rate_limit: {requests_per_unit: 50, window: 30s}
  - key: shadowed
    shadow_mode: true
    rate_limit: {requests_per_unit: 1, unit: minute}
  - key: free
    rate_limit: {unlimited: true}
  - key: user
    rate_limit: {requests_per_unit: 3, unit: minute, name: per_user}
  - key: user_path
    rate_limit: {requests_per_unit: 10, unit: minute, replaces: [{name: per_user}]}
  - key: fast
    rate_limit: {requests_per_unit: 10, unit: second}
"""


@pytest.fixture
def limits(tmp_path: Path) -> Limits:
    path = tmp_path / "limits.yaml"
    path.write_text(LIMITS)
    return load_limits(path)


@pytest.fixture(params=[False, True], ids=["direct", "traced-pipeline"])
async def buckets(request: pytest.FixtureRequest) -> AsyncIterator[RedisBuckets]:
    # Both routes to Redis: the direct one of an untraced sidecar and redis-py's pipeline, which
    # a traced sidecar takes so that OpenTelemetry sees each script call.
    store = RedisBuckets(connect(stores.redis_url(), 2.0), timeout_s=2.0, traced=request.param)
    yield store
    await store.close()


@pytest.fixture
def limiter(limits: Limits, buckets: RedisBuckets, prefix: str) -> Limiter:
    return Limiter(limits, buckets, key_prefix=prefix)


def one(key: str, value: str = "v", hits: int = 1) -> CheckRequest:
    return CheckRequest(domain="t", descriptors=(Descriptor(entries=((key, value),)),), hits=hits)


async def test_several_limits_on_one_descriptor_are_all_enforced_all_or_nothing(limiter: Limiter):
    answers = [await limiter.decide(one("two_limits")) for _ in range(3)]
    assert [a.allowed for a in answers] == [True, True, False]
    assert answers[2].headline.limit.name == "per_second"
    await asyncio.sleep(1.05)
    again = [await limiter.decide(one("two_limits")) for _ in range(3)]
    assert [a.allowed for a in again] == [True, True, False]
    # the refusals spent nothing from the minute bucket: 4 of 5 used, one left
    await asyncio.sleep(1.05)
    last = [await limiter.decide(one("two_limits")) for _ in range(2)]
    assert [a.allowed for a in last] == [True, False]
    assert last[1].headline.limit.name == "per_minute" and last[1].headline.remaining == 0


async def test_burst_is_separate_from_the_rate(limiter: Limiter):
    answers = [await limiter.decide(one("bursty")) for _ in range(6)]
    assert [a.allowed for a in answers] == [True] * 5 + [False]
    assert 900 <= answers[5].headline.retry_after_ms <= 1000
    await asyncio.sleep(1.05)
    assert (await limiter.decide(one("bursty"))).allowed
    assert not (await limiter.decide(one("bursty"))).allowed


async def test_any_window_such_as_30_seconds(limiter: Limiter):
    answer = await limiter.decide(one("half_minute", hits=50))
    assert answer.allowed and answer.headline.remaining == 0
    assert 29_000 <= answer.headline.reset_ms <= 30_000
    refused = await limiter.decide(one("half_minute"))
    assert not refused.allowed and 500 <= refused.headline.retry_after_ms <= 600


async def test_shadow_mode_reports_refusals_without_enforcing_them(limiter: Limiter):
    first, second = [await limiter.decide(one("shadowed")) for _ in range(2)]
    assert first.allowed and second.allowed
    assert second.statuses[0].state is State.LIMITED and second.statuses[0].shadow_mode


async def test_unlimited_descriptors_are_allowed_and_store_nothing(limiter: Limiter, prefix: str):
    for _ in range(5):
        answer = await limiter.decide(one("free"))
        assert answer.allowed and answer.headline.limit is None
    assert keys_with_prefix(stores.redis_url(), prefix) == []


async def test_replaces_drops_the_named_limit_when_both_apply(limiter: Limiter):
    both = CheckRequest(domain="t", descriptors=(Descriptor(entries=(("user", "u1"),)),
                                                 Descriptor(entries=(("user_path", "u1"),))))
    answers = [await limiter.decide(both) for _ in range(5)]
    assert all(a.allowed for a in answers)  # per_user (3/min) was replaced
    assert answers[0].statuses[0].limit is None
    assert [(await limiter.decide(one("user", "u1"))).allowed for _ in range(4)] == [
        True, True, True, False]


async def test_a_bucket_expires_exactly_when_full_again(limiter: Limiter, prefix: str):
    await limiter.decide(one("fast", "idle-ip", hits=3))  # 10/s: full again in 300 ms
    client = Redis.from_url(stores.redis_url())
    (key,) = keys_with_prefix(stores.redis_url(), prefix)
    assert 200 <= await client.pttl(key) <= 300
    await asyncio.sleep(0.35)
    assert await client.exists(key) == 0
    await client.aclose()
    assert (await limiter.decide(one("fast", "idle-ip", hits=10))).allowed


async def test_keys_of_one_descriptor_share_a_hash_tag_and_descriptors_spread(
    limiter: Limiter, prefix: str
):
    await limiter.decide(one("two_limits", "a"))
    keys = keys_with_prefix(stores.redis_url(), prefix)
    assert len(keys) == 2 and len({key_slot(k) for k in keys}) == 1
    for i in range(20):
        await limiter.decide(one("fast", f"10.0.0.{i}"))
    slots = {key_slot(k) for k in keys_with_prefix(stores.redis_url(), prefix)}
    assert len(slots) > 10


async def test_concurrent_decisions_share_pipelined_round_trips(
    limiter: Limiter, buckets: RedisBuckets
):
    before = buckets.round_trips
    two = CheckRequest(domain="t", descriptors=(Descriptor(entries=(("fast", "a"),)),
                                                Descriptor(entries=(("bursty", "a"),))))
    answer = await limiter.decide(two)
    assert answer.allowed and len(answer.statuses) == 2
    assert buckets.round_trips - before == 1  # two descriptors, one round trip
    before = buckets.round_trips
    answers = await asyncio.gather(*(limiter.decide(one("half_minute", str(i)))
                                     for i in range(FULL_BATCH)))
    assert all(a.allowed for a in answers)
    # the first goes alone (an idle sidecar answers at once), the other 31 share one pipeline
    assert buckets.round_trips - before == 2
    before = buckets.round_trips
    answers = await asyncio.gather(*(limiter.decide(one("half_minute", f"b{i}"))
                                     for i in range(5 * FULL_BATCH)))
    assert all(a.allowed for a in answers)
    # a full batch leaves at once (Redis works while the next fills); while two are out the
    # rest wait and leave together: never more trips than full batches
    assert 2 <= buckets.round_trips - before <= 5
