"""Invariant 6: bad input on every RPC is refused with the field named, and nothing is stored."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import asyncpg
import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc
from tests.metering.clients import sync_channel

TABLES = ("usage_events", "deductions", "holds", "ledger_entries", "credit_grants")
EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))

bad_ids = st.one_of(
    st.just(""),
    st.text(min_size=65, max_size=300, alphabet="abc"),
    st.text(min_size=1, max_size=20).filter(lambda s: any(c in s for c in " /\n\t#") or not s.isascii()),
)
bad_keys = st.one_of(
    st.just(""),
    st.text(alphabet="k", min_size=256, max_size=400),
    st.sampled_from(["with space", "tab\t", "naïve", "new\nline"]),
)
bad_quantities = st.one_of(
    st.sampled_from(
        [
            "-1",
            "NaN",
            "nan",
            "Infinity",
            "-0.5",
            "1e3",
            "1E-2",
            "abc",
            "1.2.3",
            " 1",
            "0x10",
            "1" * 30,
            "0." + "1" * 25,
            "+1",
            "",
        ]
    ),
    st.decimals(max_value=-1, allow_nan=False, places=3).map(str),
)


@pytest.fixture(scope="module")
def stub(server_addrs: list[str], platform_key: str) -> Iterator[pb_grpc.MeteringServiceStub]:
    with sync_channel(server_addrs[0], platform_key) as channel:
        yield pb_grpc.MeteringServiceStub(channel)


@pytest.fixture(scope="module")
def org(database_url: str) -> str:
    async def create() -> None:
        from services.metering.store.organizations import NewOrganization, create_organization

        conn = await asyncpg.connect(database_url)
        await create_organization(conn, NewOrganization("bad-input-org", "Bad input"))
        await conn.close()

    asyncio.run(create())
    return "bad-input-org"


@pytest.fixture
def stores_nothing(database_url: str) -> Iterator[None]:
    def counts() -> dict[str, int]:
        async def read() -> dict[str, int]:
            conn = await asyncpg.connect(database_url)
            try:
                return {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}
            finally:
                await conn.close()

        return asyncio.run(read())

    before = counts()
    yield
    assert counts() == before


def refused(
    call: Callable[[], Any], field: str, code: grpc.StatusCode = grpc.StatusCode.INVALID_ARGUMENT
) -> None:
    with pytest.raises(grpc.RpcError) as failure:
        call()
    assert failure.value.code() == code, failure.value.details()
    assert failure.value.details().startswith(field), failure.value.details()


@EXAMPLES
@given(org_id=bad_ids)
def test_bad_org_id_is_refused_on_every_rpc(stub, stores_nothing, org_id: str) -> None:
    event = pb.UsageEvent(idempotency_key="k", meter="queries", quantity="1")
    for call in (
        lambda: stub.RecordUsage(pb.RecordUsageRequest(org_id=org_id, event=event)),
        lambda: stub.Deduct(pb.DeductRequest(org_id=org_id, idempotency_key="k", amount="1")),
        lambda: stub.Reserve(pb.ReserveRequest(org_id=org_id, idempotency_key="k", amount="1")),
        lambda: stub.Release(pb.ReleaseRequest(org_id=org_id, hold_id="k")),
        lambda: stub.GetQuota(pb.GetQuotaRequest(org_id=org_id)),
        lambda: stub.Project(pb.ProjectRequest(org_id=org_id)),
    ):
        refused(call, "org_id")


@EXAMPLES
@given(key=bad_keys)
def test_bad_idempotency_key_is_refused(stub, org, stores_nothing, key: str) -> None:
    refused(
        lambda: stub.RecordUsage(
            pb.RecordUsageRequest(
                org_id=org, event=pb.UsageEvent(idempotency_key=key, meter="queries", quantity="1")
            )
        ),
        "event.idempotency_key",
    )
    refused(
        lambda: stub.Deduct(pb.DeductRequest(org_id=org, idempotency_key=key, amount="1")), "idempotency_key"
    )
    refused(
        lambda: stub.Reserve(pb.ReserveRequest(org_id=org, idempotency_key=key, amount="1")),
        "idempotency_key",
    )
    refused(lambda: stub.Release(pb.ReleaseRequest(org_id=org, hold_id=key)), "hold_id")


@EXAMPLES
@given(quantity=bad_quantities)
def test_bad_quantities_and_amounts_are_refused(stub, org, stores_nothing, quantity: str) -> None:
    refused(
        lambda: stub.RecordUsage(
            pb.RecordUsageRequest(
                org_id=org, event=pb.UsageEvent(idempotency_key="q", meter="queries", quantity=quantity)
            )
        ),
        "event.quantity",
    )
    refused(lambda: stub.Deduct(pb.DeductRequest(org_id=org, idempotency_key="q", amount=quantity)), "amount")
    refused(
        lambda: stub.Reserve(pb.ReserveRequest(org_id=org, idempotency_key="q", amount=quantity)), "amount"
    )
    if quantity:  # an empty token count means 0 tokens of that kind
        refused(
            lambda: stub.Deduct(
                pb.DeductRequest(
                    org_id=org,
                    idempotency_key="q",
                    tokens=pb.LlmTokens(model="gpt-4o", input_tokens=quantity),
                )
            ),
            "tokens.input_tokens",
        )


@EXAMPLES
@given(seconds_ahead=st.integers(min_value=301, max_value=10**9))
def test_timestamps_far_in_the_future_are_refused(stub, org, stores_nothing, seconds_ahead: int) -> None:
    import time

    when = Timestamp(seconds=int(time.time()) + seconds_ahead)
    refused(
        lambda: stub.RecordUsage(
            pb.RecordUsageRequest(
                org_id=org,
                event=pb.UsageEvent(idempotency_key="t", meter="queries", quantity="1", occurred_at=when),
            )
        ),
        "event.occurred_at",
    )


def test_unknown_org_meter_and_model_are_not_found(stub, org, stores_nothing) -> None:
    nf = grpc.StatusCode.NOT_FOUND
    event = pb.UsageEvent(idempotency_key="u", meter="queries", quantity="1")
    refused(lambda: stub.RecordUsage(pb.RecordUsageRequest(org_id="no-such-org", event=event)), "org_id", nf)
    refused(
        lambda: stub.Deduct(pb.DeductRequest(org_id="no-such-org", idempotency_key="u", amount="1")),
        "org_id",
        nf,
    )
    refused(lambda: stub.GetQuota(pb.GetQuotaRequest(org_id="no-such-org")), "org_id", nf)
    refused(lambda: stub.Project(pb.ProjectRequest(org_id="no-such-org")), "org_id", nf)
    refused(
        lambda: stub.RecordUsage(
            pb.RecordUsageRequest(
                org_id=org, event=pb.UsageEvent(idempotency_key="u", meter="no_such_meter", quantity="1")
            )
        ),
        "event.meter",
        nf,
    )
    refused(lambda: stub.GetQuota(pb.GetQuotaRequest(org_id=org, meter="no_such_meter")), "meter", nf)
    refused(
        lambda: stub.Deduct(
            pb.DeductRequest(
                org_id=org, idempotency_key="u", tokens=pb.LlmTokens(model="no-such-model", input_tokens="10")
            )
        ),
        "tokens.model",
        nf,
    )


def test_malformed_requests_name_the_field(stub, org, stores_nothing) -> None:
    event = pb.UsageEvent(idempotency_key="m", meter="queries", quantity="1")
    refused(lambda: stub.RecordUsage(pb.RecordUsageRequest(org_id=org)), "events")
    refused(
        lambda: stub.RecordUsage(pb.RecordUsageRequest(org_id=org, event=event, events=[event])), "events"
    )
    refused(lambda: stub.RecordUsage(pb.RecordUsageRequest(org_id=org, events=[event] * 5001)), "events")
    refused(lambda: stub.Deduct(pb.DeductRequest(org_id=org, idempotency_key="m")), "amount")
    refused(lambda: stub.Deduct(pb.DeductRequest(org_id=org, idempotency_key="m", amount="0")), "amount")
    refused(
        lambda: stub.Deduct(
            pb.DeductRequest(org_id=org, idempotency_key="m", tokens=pb.LlmTokens(model="gpt-4o"))
        ),
        "tokens",
    )
    refused(
        lambda: stub.Deduct(
            pb.DeductRequest(
                org_id=org, idempotency_key="m", tokens=pb.LlmTokens(model="gpt-4o", output_tokens="1.5")
            )
        ),
        "tokens.output_tokens",
    )
    refused(
        lambda: stub.Reserve(pb.ReserveRequest(org_id=org, idempotency_key="m", amount="1", ttl_seconds=-5)),
        "ttl_seconds",
    )
    refused(
        lambda: stub.Deduct(pb.DeductRequest(org_id=org, idempotency_key="m", amount="1", user_id="x" * 129)),
        "user_id",
    )
    refused(lambda: stub.GetQuota(pb.GetQuotaRequest(org_id=org, meter="Bad Meter")), "meter")
