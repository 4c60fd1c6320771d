"""The core cases against a real three-node Redis Cluster started by the test on loopback,
reached through redis-py's cluster client (RATELIMITER_REDIS_URL=redis+cluster://...)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
import redis
from redis.crc import key_slot

from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2 as pb
from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2_grpc as pb_grpc
from tests.ratelimiter.harness import RedisClusterNodes, Sidecar, descriptor

LIMITS = """\
domain: api
descriptors:
  - key: remote_address
    rate_limit: {unit: minute, requests_per_unit: 100}
  - key: two_limits
    rate_limits:
      - {requests_per_unit: 2, window: 10s}
      - {requests_per_unit: 100, unit: hour}
  - key: hot
    rate_limit: {requests_per_unit: 50, window: 1s, burst: 20}
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterNodes]:
    nodes = RedisClusterNodes(tmp_path_factory.mktemp("cluster"))
    try:
        yield nodes.start()
    finally:
        nodes.stop()


@pytest.fixture
def on_cluster(tmp_path: Path, prefix: str, cluster: RedisClusterNodes,
               start_sidecar: Callable[..., Sidecar]) -> Callable[[], Sidecar]:
    config = tmp_path / "limits.yaml"
    config.write_text(LIMITS)
    return lambda: start_sidecar(prefix, redis_url=cluster.url, config=config,
                                 extra_env={"RATELIMITER_REDIS_TIMEOUT_MS": "3000"})


def stub_of(sidecar: Sidecar) -> pb_grpc.RateLimiterStub:
    return pb_grpc.RateLimiterStub(grpc.insecure_channel(sidecar.grpc_addr))


def check(stub: pb_grpc.RateLimiterStub, *descriptors: pb.Descriptor) -> pb.CheckResponse:
    return stub.Check(pb.CheckRequest(domain="api", descriptors=list(descriptors)))


def test_cluster_refuses_the_101st_request_per_minute_with_remaining_and_reset(
    on_cluster: Callable[[], Sidecar],
):
    stub = stub_of(on_cluster())
    answers = [check(stub, descriptor(("remote_address", "203.0.113.70"))) for _ in range(101)]
    assert [a.allowed for a in answers] == [True] * 100 + [False]
    assert answers[0].remaining == 99 and answers[100].remaining == 0
    assert 55_000 <= answers[100].reset_after.ToMilliseconds() <= 60_000


def test_cluster_spreads_descriptors_over_nodes_and_keeps_one_descriptor_in_one_slot(
    on_cluster: Callable[[], Sidecar], cluster: RedisClusterNodes, prefix: str,
):
    stub = stub_of(on_cluster())
    ips = [descriptor(("remote_address", f"10.7.0.{i}")) for i in range(12)]
    answer = check(stub, *ips)  # one request, twelve slots, all in one pipelined call
    assert answer.allowed and [s.remaining for s in answer.statuses] == [99] * 12
    owners = {i for i, node in enumerate(cluster.nodes)
              if any(True for _ in redis.Redis(port=node.port).scan_iter(match=prefix + "*"))}
    assert len(owners) >= 2
    answers = [check(stub, descriptor(("two_limits", "x"))) for _ in range(3)]
    assert [a.allowed for a in answers] == [True, True, False]
    two = [k for k in cluster.keys(prefix) if b"two_limits" in k]
    assert len(two) == 2 and len({key_slot(k) for k in two}) == 1


async def test_cluster_replicas_hold_capacity_plus_rate_times_elapsed(
    on_cluster: Callable[[], Sidecar], cluster: RedisClusterNodes,
):
    sidecars = [on_cluster(), on_cluster()]
    request = pb.CheckRequest(domain="api", descriptors=[descriptor(("hot", "k"))])
    channels = [grpc.aio.insecure_channel(s.grpc_addr) for s in sidecars]
    counts = {"answered": 0, "admitted": 0}
    node = redis.Redis(port=cluster.nodes[0].port)

    def server_ms() -> int:
        seconds, micros = node.time()
        return int(seconds) * 1000 + int(micros) // 1000

    async def caller(stub: pb_grpc.RateLimiterStub) -> None:
        while counts["answered"] < 1500:
            answer = await stub.Check(request)
            counts["answered"] += 1
            counts["admitted"] += answer.allowed and not answer.degraded

    start = server_ms()
    await asyncio.wait_for(asyncio.gather(*(caller(pb_grpc.RateLimiterStub(c))
                                            for c in channels for _ in range(8))), timeout=30)
    elapsed = server_ms() - start
    for channel in channels:
        await channel.close()
    assert counts["answered"] > counts["admitted"]
    assert counts["admitted"] <= 20 + 50 * elapsed / 1000


def test_cluster_bad_input_is_invalid_argument_and_writes_nothing(
    on_cluster: Callable[[], Sidecar], cluster: RedisClusterNodes, prefix: str,
):
    stub = stub_of(on_cluster())
    with pytest.raises(grpc.RpcError) as caught:
        check(stub, descriptor(("remote_address", "1.2.3.4")), descriptor(("", "x")))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith("descriptors[1].entries[0].key: ")
    assert cluster.keys(prefix) == []


def test_cluster_reloads_the_script_on_noscript(
    on_cluster: Callable[[], Sidecar], cluster: RedisClusterNodes,
):
    stub = stub_of(on_cluster())
    d = descriptor(("remote_address", "10.8.0.1"))
    assert check(stub, d).remaining == 99
    for node in cluster.nodes:  # our own cluster: flushing its script caches harms nobody
        redis.Redis(port=node.port).script_flush()
    answer = check(stub, d)
    assert answer.allowed and not answer.degraded and answer.remaining == 98


@pytest.fixture(autouse=True)
def _delete_cluster_keys(cluster: RedisClusterNodes, prefix: str) -> Iterator[None]:
    yield
    for node in cluster.nodes:
        client = redis.Redis(port=node.port)
        for key in list(client.scan_iter(match=prefix + "*")):
            client.delete(key)
