"""ratelimiter.v1.RateLimiter/Check over real gRPC against a sidecar process and real Redis."""

from __future__ import annotations

import asyncio
import os
import time

import grpc
import pytest
import redis
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2 as pb
from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2_grpc as pb_grpc
from tests import stores
from tests.ratelimiter.harness import (
    Sidecar,
    descriptor,
    keys_with_prefix,
    run_within,
)
from tests.thread_policies import loop_and_helper_policies


def ip(address: str) -> pb.Descriptor:
    return descriptor(("remote_address", address))


@pytest.fixture
def stub(sidecar: Sidecar) -> pb_grpc.RateLimiterStub:
    return pb_grpc.RateLimiterStub(grpc.insecure_channel(sidecar.grpc_addr))


def redis_ms() -> int:
    seconds, micros = redis.Redis.from_url(stores.redis_url()).time()
    return int(seconds) * 1000 + int(micros) // 1000


async def burst(sidecar: Sidecar, request: pb.CheckRequest, n: int) -> list[pb.CheckResponse]:
    """n concurrent Checks: done well inside one token's refill time even on a busy machine."""
    async with grpc.aio.insecure_channel(sidecar.grpc_addr) as channel:
        stub = pb_grpc.RateLimiterStub(channel)
        return list(await asyncio.gather(*(stub.Check(request) for _ in range(n))))


async def test_api_allows_100_per_minute_per_ip_and_refuses_the_101st(
    sidecar: Sidecar, stub: pb_grpc.RateLimiterStub
):
    async def attempt(n: int) -> tuple[list[pb.CheckResponse], pb.CheckResponse]:
        request = pb.CheckRequest(domain="api", descriptors=[ip(f"203.0.113.{7 + n}")])
        return await burst(sidecar, request, 100), stub.Check(request)

    # all 101 inside the 600 ms a token takes to come back
    answers, refused = await run_within(600, attempt)

    assert all(a.allowed for a in answers)
    assert sorted(a.remaining for a in answers) == list(range(100))
    assert all(a.limit.requests == 100 and a.limit.window.seconds == 60 for a in answers)
    assert answers[0].limit.name == "api_per_ip"
    assert not refused.allowed
    assert refused.state == pb.STATE_LIMITED and refused.remaining == 0
    # 100 tokens spent within a moment: the bucket is full again about a minute later, and
    # one token (0.6 s at 100/min) comes back first.
    assert 55_000 <= refused.reset_after.ToMilliseconds() <= 60_000
    assert 0 < refused.retry_after.ToMilliseconds() <= 600
    # another IP has its own bucket
    assert stub.Check(pb.CheckRequest(domain="api", descriptors=[ip("203.0.114.8")])).remaining == 99


def test_state_turns_warning_above_80_percent_used(stub: pb_grpc.RateLimiterStub):
    def check(hits: int) -> pb.CheckResponse:
        return stub.Check(pb.CheckRequest(domain="api", descriptors=[ip("198.51.100.1")],
                                          hits=hits))

    assert check(79).state == pb.STATE_OK
    assert check(1).state == pb.STATE_OK  # 80 used of 100: not above 80 %
    assert check(1).state == pb.STATE_WARNING


async def test_webhook_allows_30_per_minute_per_ip(sidecar: Sidecar, stub: pb_grpc.RateLimiterStub):
    for domain, entries in [("webhook", [("remote_address", "192.0.2.1")]),
                            ("api", [("generic_key", "webhook"), ("remote_address", "192.0.2.1")])]:
        async def attempt(n: int) -> tuple[list[pb.CheckResponse], pb.CheckResponse]:
            request = pb.CheckRequest(domain=domain, descriptors=[  # noqa: B023
                descriptor(*entries[:-1], ("remote_address", f"192.0.2.{n}"))])  # noqa: B023
            return await burst(sidecar, request, 30), stub.Check(request)

        answers, refused = await run_within(2000, attempt)
        assert all(a.allowed for a in answers), domain
        assert not refused.allowed, domain
        assert {a.limit.requests for a in answers} == {30}
        assert max(a.remaining for a in answers) == 29


def test_tokens_come_back_at_the_configured_rate(stub: pb_grpc.RateLimiterStub):
    request = pb.CheckRequest(domain="api", descriptors=[ip("198.51.100.2")])
    assert stub.Check(pb.CheckRequest(domain="api", descriptors=[ip("198.51.100.2")],
                                      hits=100)).allowed
    emptied = redis_ms()
    assert not stub.Check(request).allowed
    time.sleep(1.5)  # 100/min is one token per 600 ms
    peek = stub.Check(pb.CheckRequest(domain="api", descriptors=[ip("198.51.100.2")], hits=0))
    elapsed = redis_ms() - emptied
    assert peek.allowed and peek.remaining in {elapsed // 600, elapsed // 600 + 1}
    assert peek.remaining >= 2
    taken = stub.Check(pb.CheckRequest(domain="api", descriptors=[ip("198.51.100.2")],
                                       hits=peek.remaining))
    assert taken.allowed and taken.remaining == 0


def test_hits_take_several_tokens_and_zero_hits_only_reads(stub: pb_grpc.RateLimiterStub):
    d = ip("198.51.100.3")
    assert stub.Check(pb.CheckRequest(domain="api", descriptors=[d], hits=40)).remaining == 60
    assert stub.Check(pb.CheckRequest(domain="api", descriptors=[d], hits=0)).remaining == 60
    refused = stub.Check(pb.CheckRequest(domain="api", descriptors=[d], hits=61))
    assert not refused.allowed and refused.remaining == 60  # a refusal spends nothing
    assert stub.Check(pb.CheckRequest(domain="api", descriptors=[d], hits=60)).allowed


def test_a_descriptor_without_a_configured_limit_is_allowed(stub: pb_grpc.RateLimiterStub):
    answer = stub.Check(pb.CheckRequest(domain="api", descriptors=[descriptor(("user", "x"))]))
    assert answer.allowed and not answer.HasField("limit")


def test_per_request_limit_override_is_honoured(stub: pb_grpc.RateLimiterStub):
    d = ip("198.51.100.4")
    d.limit_override.requests = 3
    d.limit_override.window.seconds = 10
    answers = [stub.Check(pb.CheckRequest(domain="api", descriptors=[d])) for _ in range(4)]
    assert [a.allowed for a in answers] == [True, True, True, False]
    assert answers[0].limit.requests == 3 and answers[0].limit.window.seconds == 10


def test_health_and_reflection_are_served(sidecar: Sidecar):
    channel = grpc.insecure_channel(sidecar.grpc_addr)
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "ratelimiter.v1.RateLimiter",
                    "envoy.service.ratelimit.v3.RateLimitService"):
        reply = health.Check(health_pb2.HealthCheckRequest(service=service))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


BAD_REQUESTS = [
    (pb.CheckRequest(domain="api"), "descriptors"),
    (pb.CheckRequest(domain="", descriptors=[ip("1.1.1.1")]), "domain"),
    (pb.CheckRequest(domain="nope", descriptors=[ip("1.1.1.1")]), "domain"),
    (pb.CheckRequest(domain="api", descriptors=[ip("1.1.1.1")], hits=-1), "hits"),
    (pb.CheckRequest(domain="api", descriptors=[ip("1.1.1.1"), pb.Descriptor()]),
     "descriptors[1].entries"),
    (pb.CheckRequest(domain="api", descriptors=[descriptor(("", "v"))]),
     "descriptors[0].entries[0].key"),
    (pb.CheckRequest(domain="api", descriptors=[ip("1" * 600)]),
     "descriptors[0].entries[0].value"),
    (pb.CheckRequest(domain="api", descriptors=[descriptor(("k" * 200, "v"))]),
     "descriptors[0].entries[0].key"),
    (pb.CheckRequest(domain="api", descriptors=[descriptor(("remote_address", "1"), hits=-5)]),
     "descriptors[0].hits"),
    (pb.CheckRequest(domain="api", descriptors=[ip("1.1.1.1")] * 33), "descriptors"),
]


@pytest.mark.parametrize(("request_", "field"), BAD_REQUESTS)
def test_bad_input_is_invalid_argument_naming_the_field_and_writes_nothing(
    sidecar: Sidecar, stub: pb_grpc.RateLimiterStub, request_: pb.CheckRequest, field: str
):
    with pytest.raises(grpc.RpcError) as caught:
        stub.Check(request_)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith(f"{field}: ")
    assert keys_with_prefix(stores.redis_url(), sidecar.prefix) == []


entry_text = st.text(max_size=40)
bad_descriptor = st.one_of(
    st.builds(lambda v: descriptor(("", v)), entry_text),
    st.builds(lambda k, v: descriptor((k, v)), entry_text.filter(bool),
              st.text(min_size=513, max_size=700)),
    st.builds(lambda k, v, h: descriptor((k, v), hits=h), entry_text.filter(bool), entry_text,
              st.integers(min_value=-(2**63), max_value=-1)),
    st.just(pb.Descriptor()),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(good=st.lists(st.builds(lambda v: ip(v), st.text(max_size=30)), max_size=3),
       bad=bad_descriptor, hits=st.one_of(st.none(), st.integers(min_value=0, max_value=10)))
def test_any_request_with_a_bad_descriptor_is_refused_and_stores_nothing(
    sidecar: Sidecar, stub: pb_grpc.RateLimiterStub, good: list[pb.Descriptor],
    bad: pb.Descriptor, hits: int | None
):
    request = pb.CheckRequest(domain="api", descriptors=[*good, bad])
    if hits is not None:
        request.hits = hits
    with pytest.raises(grpc.RpcError) as caught:
        stub.Check(request)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith(f"descriptors[{len(good)}]")
    assert keys_with_prefix(stores.redis_url(), sidecar.prefix) == []


@pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="Linux scheduling policies")
def test_grpc_helper_threads_run_batch_and_the_loop_thread_does_not(sidecar: Sidecar):
    assert sidecar.process is not None
    loop, helpers = loop_and_helper_policies(sidecar.process.pid)
    assert loop == os.SCHED_OTHER
    assert len(helpers) >= 2  # grpc's poller and event engine at least
    assert set(helpers) == {os.SCHED_BATCH}
