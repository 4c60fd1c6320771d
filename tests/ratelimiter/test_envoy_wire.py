"""ShouldRateLimit called by a client built from Envoy's own generated protos (xds-protos).

This process imports xds-protos only; the sidecar (with our own subset of the same protos)
runs as a subprocess, so the two never share a descriptor pool.
"""

from __future__ import annotations

import json

import grpc
import pytest
from envoy.extensions.common.ratelimit.v3 import ratelimit_pb2 as common
from envoy.service.ratelimit.v3 import rls_pb2, rls_pb2_grpc
from envoy.type.v3 import ratelimit_unit_pb2
from google.protobuf.wrappers_pb2 import UInt64Value

from tests import stores
from tests.ratelimiter.harness import Sidecar, keys_with_prefix

OK = rls_pb2.RateLimitResponse.OK
OVER_LIMIT = rls_pb2.RateLimitResponse.OVER_LIMIT
MINUTE = rls_pb2.RateLimitResponse.RateLimit.MINUTE


def envoy_descriptor(*entries: tuple[str, str], hits: int | None = None
                     ) -> common.RateLimitDescriptor:
    d = common.RateLimitDescriptor(
        entries=[common.RateLimitDescriptor.Entry(key=k, value=v) for k, v in entries])
    if hits is not None:
        d.hits_addend.CopyFrom(UInt64Value(value=hits))
    return d


@pytest.fixture
def rls(sidecar: Sidecar) -> rls_pb2_grpc.RateLimitServiceStub:
    return rls_pb2_grpc.RateLimitServiceStub(grpc.insecure_channel(sidecar.grpc_addr))


def test_several_descriptors_with_hits_addend_get_per_descriptor_statuses(
    rls: rls_pb2_grpc.RateLimitServiceStub,
):
    api = envoy_descriptor(("remote_address", "203.0.113.20"))
    webhook = envoy_descriptor(("generic_key", "webhook"), ("remote_address", "203.0.113.20"))
    request = rls_pb2.RateLimitRequest(domain="api", descriptors=[api, webhook], hits_addend=10)

    first = rls.ShouldRateLimit(request)
    assert first.overall_code == OK
    assert [s.code for s in first.statuses] == [OK, OK]
    assert [s.limit_remaining for s in first.statuses] == [90, 20]
    assert [(s.current_limit.requests_per_unit, s.current_limit.unit, s.current_limit.name)
            for s in first.statuses] == [(100, MINUTE, "api_per_ip"), (30, MINUTE, "webhook_per_ip")]
    assert 0 < first.statuses[1].duration_until_reset.ToMilliseconds() <= 20_000

    rls.ShouldRateLimit(request)
    rls.ShouldRateLimit(request)  # webhook bucket now empty, api at 70
    refused = rls.ShouldRateLimit(request)
    assert refused.overall_code == OVER_LIMIT
    assert [s.code for s in refused.statuses] == [OK, OVER_LIMIT]
    assert refused.statuses[1].limit_remaining == 0
    body = json.loads(refused.raw_body)
    assert body["error"] == "rate limited" and body["retry_after_seconds"] >= 1
    headers = {h.key: h.value for h in refused.response_headers_to_add}
    assert headers["ratelimit-policy"] == '"webhook_per_ip";q=30;w=60'
    assert headers["ratelimit"].startswith('"webhook_per_ip";r=0;t=')
    assert int(headers["retry-after"]) >= 1


def test_hits_addend_unset_means_one_and_descriptor_hits_zero_only_checks(
    rls: rls_pb2_grpc.RateLimitServiceStub,
):
    d = envoy_descriptor(("remote_address", "203.0.113.21"))
    assert rls.ShouldRateLimit(rls_pb2.RateLimitRequest(domain="api", descriptors=[d])
                               ).statuses[0].limit_remaining == 99
    peek = envoy_descriptor(("remote_address", "203.0.113.21"), hits=0)
    for _ in range(3):
        answer = rls.ShouldRateLimit(
            rls_pb2.RateLimitRequest(domain="api", descriptors=[peek], hits_addend=50))
        assert answer.overall_code == OK and answer.statuses[0].limit_remaining == 99
    own = envoy_descriptor(("remote_address", "203.0.113.21"), hits=9)
    answer = rls.ShouldRateLimit(rls_pb2.RateLimitRequest(domain="api", descriptors=[own],
                                                          hits_addend=50))
    assert answer.statuses[0].limit_remaining == 90
    headers = {h.key: h.value for h in answer.response_headers_to_add}
    assert headers["ratelimit"].startswith('"api_per_ip";r=90;t=') and not answer.raw_body


def test_request_limit_override_replaces_the_configured_limit(
    rls: rls_pb2_grpc.RateLimitServiceStub,
):
    d = envoy_descriptor(("remote_address", "203.0.113.22"))
    d.limit.requests_per_unit = 2
    d.limit.unit = ratelimit_unit_pb2.SECOND
    request = rls_pb2.RateLimitRequest(domain="api", descriptors=[d])
    codes = [rls.ShouldRateLimit(request).overall_code for _ in range(3)]
    assert codes == [OK, OK, OVER_LIMIT]
    status = rls.ShouldRateLimit(request).statuses[0]
    assert status.current_limit.requests_per_unit == 2
    assert status.current_limit.unit == rls_pb2.RateLimitResponse.RateLimit.SECOND


def test_a_descriptor_without_configuration_is_ok_without_a_limit(
    rls: rls_pb2_grpc.RateLimitServiceStub,
):
    answer = rls.ShouldRateLimit(rls_pb2.RateLimitRequest(
        domain="api", descriptors=[envoy_descriptor(("header_match", "x"))]))
    assert answer.overall_code == OK and not answer.statuses[0].HasField("current_limit")


@pytest.mark.parametrize(("request_", "field"), [
    (rls_pb2.RateLimitRequest(domain="unknown",
                              descriptors=[envoy_descriptor(("remote_address", "1"))]), "domain"),
    (rls_pb2.RateLimitRequest(domain="api"), "descriptors"),
    (rls_pb2.RateLimitRequest(domain="api", descriptors=[envoy_descriptor()]),
     "descriptors[0].entries"),
    (rls_pb2.RateLimitRequest(domain="api", descriptors=[
        envoy_descriptor(("remote_address", "1")), envoy_descriptor(("remote_address", "x" * 9000))]),
     "descriptors[1].entries[0].value"),
    (rls_pb2.RateLimitRequest(domain="api", descriptors=[
        envoy_descriptor(("remote_address", "1"), hits=2**40)]), "descriptors[0].hits_addend"),
])
def test_bad_envoy_requests_are_invalid_argument_and_write_nothing(
    sidecar: Sidecar, rls: rls_pb2_grpc.RateLimitServiceStub,
    request_: rls_pb2.RateLimitRequest, field: str,
):
    with pytest.raises(grpc.RpcError) as caught:
        rls.ShouldRateLimit(request_)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith(f"{field}: ")
    assert keys_with_prefix(stores.redis_url(), sidecar.prefix) == []
