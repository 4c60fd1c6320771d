"""Invariant 6: bad input on every RPC is refused with the field named, and nothing is stored.

The descriptor-driven fuzz at the end calls every RPC of every gRPC service (the metering server's
and the rate-limiter sidecar's) with hostile values in every field; a new RPC is fuzzed as soon
as it is in a service descriptor.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg
import grpc
import pytest
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ratelimiter.gen.ratelimiter.v1 import ratelimiter_pb2
from services.gen.metering.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    billing_pb2,
    metering_pb2,
    reporting_pb2,
    reporting_pb2_grpc,
)
from services.gen.metering.v1 import metering_pb2 as pb
from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc
from services.reporting.service.api_metrics import ApiMetricsRecorder
from tests import stores
from tests.metering.clients import sync_channel
from tests.metering.conftest import _session_database, start_server
from tests.metering.fuzzing import FUZZ_ORG, YEAR_1, YEAR_10000, field_names, requests
from tests.ratelimiter.harness import Sidecar, delete_prefix, keys_with_prefix, unique_prefix

TABLES = ("usage_events", "deductions", "holds", "ledger_entries", "credit_grants")
EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))

bad_ids = st.one_of(
    st.just(""),
    st.text(min_size=65, max_size=300, alphabet="abc"),
    st.text(min_size=1, max_size=20).filter(lambda s: any(c in s for c in " /\n\t#") or not s.isascii()),
    st.sampled_from(["demo\n", "a\x00b", "org\r", "\u0661\u0662", "\uff4f\uff52\uff47"]),
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
            "1\n",
            "\uff11\uff12",
            "\u0661\u0662",
            "\u0663.\u0665",
            "1\x00",
            "\n1",
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



# --- the hostile values that once got through, one by one -------------------------------------

@pytest.fixture(scope="module")
def admin_stub(server_addrs: list[str],
               platform_key: str) -> Iterator[admin_pb2_grpc.MeteringAdminServiceStub]:
    with sync_channel(server_addrs[0], platform_key) as channel:
        yield admin_pb2_grpc.MeteringAdminServiceStub(channel)


@pytest.fixture(scope="module")
def reporting_stub(server_addrs: list[str],
                   platform_key: str) -> Iterator[reporting_pb2_grpc.ReportingServiceStub]:
    with sync_channel(server_addrs[0], platform_key) as channel:
        yield reporting_pb2_grpc.ReportingServiceStub(channel)


def test_a_year_1_expiry_refuses_the_grant_and_the_organization_keeps_working(
        admin_stub, org, stores_nothing) -> None:
    refused(lambda: admin_stub.GrantBonusCredits(admin_pb2.GrantBonusCreditsRequest(
        org_id=org, amount="5", source="promotion", expires_at=Timestamp(seconds=YEAR_1))), "expires_at")
    admin_stub.ListCreditGrants(admin_pb2.ListCreditGrantsRequest(org_id=org))


@pytest.mark.parametrize("seconds", [YEAR_1, -1, YEAR_10000], ids=["year-1", "1969", "year-10000"])
def test_prices_and_credit_rates_outside_1970_to_9999_are_refused_and_lists_keep_working(
        admin_stub, seconds: int) -> None:
    when = Timestamp()
    when.seconds = seconds  # out of protobuf's own range for year 10000, as a foreign client may send
    refused(lambda: admin_stub.SetLlmPrice(admin_pb2.SetLlmPriceRequest(price=admin_pb2.LlmPrice(
        model="fuzz-model", effective_from=when, input_usd_per_mtok="1", output_usd_per_mtok="1",
        cache_read_usd_per_mtok="1", cache_write_usd_per_mtok="1"))), "price.effective_from")
    refused(lambda: admin_stub.SetCreditRate(admin_pb2.SetCreditRateRequest(
        rate=admin_pb2.CreditRate(effective_from=when, credits_per_usd="100"))), "rate.effective_from")
    admin_stub.ListLlmPrices(admin_pb2.ListLlmPricesRequest())
    listed = admin_stub.ListLlmPrices(admin_pb2.ListLlmPricesRequest()).prices
    assert all(p.model != "fuzz-model" for p in listed)


def test_null_bytes_are_refused_naming_the_field_before_reaching_the_database(
        admin_stub, reporting_stub, org, stores_nothing) -> None:
    refused(lambda: admin_stub.CreateOrganization(admin_pb2.CreateOrganizationRequest(
        org_id="null-plan-org", name="Null plan", plan_id="free\x00")), "plan_id")
    refused(lambda: admin_stub.ListLlmPrices(admin_pb2.ListLlmPricesRequest(model="a\x00b")), "model")
    refused(lambda: admin_stub.ListResourceRates(admin_pb2.ListResourceRatesRequest(resource="a\x00b")),
            "resource")
    refused(lambda: reporting_stub.GetUsageExport(reporting_pb2.GetUsageExportRequest(
        org_id=org, export_id="a\x00b")), "export_id")


@pytest.mark.parametrize("org_id", ["demo\n", "demo\r\n", "\ndemo", "de\x00mo"])
def test_an_organization_id_with_a_newline_or_null_byte_is_not_created(admin_stub, org_id: str) -> None:
    refused(lambda: admin_stub.CreateOrganization(admin_pb2.CreateOrganizationRequest(
        org_id=org_id, name="Newline")), "org_id")
    refused(lambda: admin_stub.GetOrganization(admin_pb2.GetOrganizationRequest(org_id="demo")), "org_id",
            grpc.StatusCode.NOT_FOUND)


@pytest.mark.parametrize("quantity",
                         ["\uff11\uff12", "\u0661\u0662", "\u0663.\u0665", "1\n", "12\x00"],
                         ids=["fullwidth", "arabic-indic", "arabic-indic-fraction", "newline", "null"])
def test_quantities_and_amounts_accept_ascii_digits_only(stub, org, stores_nothing, quantity: str) -> None:
    event = pb.UsageEvent(idempotency_key="digits", meter="queries", quantity=quantity)
    refused(lambda: stub.RecordUsage(pb.RecordUsageRequest(org_id=org, event=event)), "event.quantity")
    refused(lambda: stub.Deduct(pb.DeductRequest(org_id=org, idempotency_key="digits", amount=quantity)),
            "amount")


def test_a_null_byte_org_id_does_not_stop_api_metrics_of_real_organizations(
        reporting_stub, org, database_url: str) -> None:
    refused(lambda: reporting_stub.GetUsageSummary(reporting_pb2.GetUsageSummaryRequest(org_id="a\x00b")),
            "org_id")
    reporting_stub.GetUsageSummary(reporting_pb2.GetUsageSummaryRequest(org_id=org))

    async def counted() -> int:
        conn = await asyncpg.connect(database_url)
        try:
            return int(await conn.fetchval(
                "SELECT coalesce(sum(requests), 0) FROM api_request_metrics"
                " WHERE org_id = $1 AND surface = 'grpc'", org))
        finally:
            await conn.close()

    deadline = time.monotonic() + 20  # the servers flush every 2 s
    while asyncio.run(counted()) == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert asyncio.run(counted()) >= 1



async def test_api_metrics_keep_only_well_formed_ids_of_existing_organizations(pool, make_org) -> None:
    org = await make_org()
    recorder = ApiMetricsRecorder(pool)
    for hostile in ("a\x00b", "demo\n", "", "x" * 65):
        recorder.record(hostile, "grpc", 1_000_000)
    recorder.record("no-such-org", "grpc", 1_000_000)
    recorder.record(org, "grpc", 2_000_000)
    recorder.record(org, "grpc", 4_000_000)
    await recorder.flush()
    rows = await pool.fetch("SELECT org_id, requests, latency_ms_sum FROM api_request_metrics"
                            " WHERE org_id = ANY($1::text[])", [org, "no-such-org", "demo\n"])
    # two calls of 2 ms and 4 ms: 2 requests, 6 ms in all
    assert [(r["org_id"], r["requests"], r["latency_ms_sum"]) for r in rows] == [(org, 2, Decimal(6))]
    await recorder.flush()  # nothing was kept back for a retry
    assert await pool.fetchval("SELECT requests FROM api_request_metrics WHERE org_id = $1", org) == 2


# --- every field of every RPC, from the service descriptors ---------------------------------

SERVICES = [
    *metering_pb2.DESCRIPTOR.services_by_name.values(),
    *admin_pb2.DESCRIPTOR.services_by_name.values(),
    *reporting_pb2.DESCRIPTOR.services_by_name.values(),
    *billing_pb2.DESCRIPTOR.services_by_name.values(),
    *ratelimiter_pb2.DESCRIPTOR.services_by_name.values(),
]
RPCS = [method for service in SERVICES for method in service.methods]
# Errors that are never an answer to input, whatever it holds (the database and Redis stay up).
NEVER = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.UNAVAILABLE}
QUIET = {  # the fuzz server's own background jobs wait, so only requests change rows
    "METERING_HOLD_SWEEP_SECONDS": "86400", "METERING_METRICS_FLUSH_SECONDS": "86400",
    "METERING_EXPORT_POLL_SECONDS": "86400", "METERING_NOTIFY_SECONDS": "86400",
}


# The lapse of an earlier hold or grant (its release as 'expired', its expiry) is written by
# whichever call next loads the organization's credit book, whatever that call answers: it is not
# the call's own write.
# An export's chunks are written by the export runner after the creating call has answered, so
# they may land during any later call.
HOUSEKEEPING = {
    "ledger_entries": "WHERE kind <> 'expire' AND reference IS DISTINCT FROM 'expired'",
    "usage_export_chunks": "WHERE false",
}


def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck),
                    derandomize=False, database=None)


class RowCounts:
    """The row count of every table of a database, read in one statement."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.conn: asyncpg.Connection = self.loop.run_until_complete(asyncpg.connect(url))
        tables = self.loop.run_until_complete(self.conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"))
        self.names = [t["tablename"] for t in tables]
        self.sql = "SELECT " + ", ".join(
            f'(SELECT count(*) FROM "{n}" {HOUSEKEEPING.get(n, "")})' for n in self.names)

    def read(self) -> dict[str, int]:
        row = self.loop.run_until_complete(self.conn.fetchrow(self.sql))
        return dict(zip(self.names, row, strict=True))

    def close(self) -> None:
        self.loop.run_until_complete(self.conn.close())
        self.loop.close()


@dataclass
class FuzzTarget:
    metering: grpc.Channel
    sidecar: grpc.Channel
    rows: RowCounts
    redis_prefix: str

    def channel(self, method: MethodDescriptor) -> grpc.Channel:
        limiter = method.containing_service.full_name.startswith("ratelimiter.")
        return self.sidecar if limiter else self.metering

    def redis_keys(self) -> set[bytes]:
        return set(keys_with_prefix(stores.redis_url(), self.redis_prefix))


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    """A database, a metering server and a sidecar of the fuzz's own, called with a platform key."""
    databases = _session_database()
    url = next(databases)
    key = asyncio.run(_seed_fuzz_org(url))
    addr, server = start_server(url, **QUIET)
    prefix = unique_prefix("fuzz")
    sidecar = Sidecar(prefix=prefix).start(tmp_path_factory.mktemp("fuzz-sidecar"))
    rows = RowCounts(url)
    with sync_channel(addr, key) as metering, grpc.insecure_channel(sidecar.grpc_addr) as limiter:
        yield FuzzTarget(metering, limiter, rows, prefix)
    rows.close()
    sidecar.stop()
    delete_prefix(stores.redis_url(), prefix)
    server.terminate()
    server.wait(timeout=15)
    next(databases, None)


async def _seed_fuzz_org(url: str) -> str:
    from services.kit.caller import Role
    from services.metering.store.api_keys import create_api_key
    from services.metering.store.organizations import NewOrganization, add_bonus_grant, create_organization

    conn = await asyncpg.connect(url)
    try:
        await create_organization(conn, NewOrganization(FUZZ_ORG, "Fuzz"))
        await add_bonus_grant(conn, FUZZ_ORG, Decimal(1000), "fuzz")
        return (await create_api_key(conn, None, Role.PLATFORM_ADMIN, "fuzz"))[1]
    finally:
        await conn.close()


def names_a_field(error: grpc.RpcError, request: Message) -> bool:
    """The message starts with a field path of the request, or the BadRequest detail names one."""
    fields = field_names(request.DESCRIPTOR)
    paths = [error.details().split(":", 1)[0]]
    status = rpc_status.from_call(error)
    for detail in status.details if status else []:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            paths += [v.field for v in bad.field_violations]
    return any(re.match(r"[a-z_]+", p) and re.match(r"[a-z_]+", p)[0] in fields for p in paths)  # type: ignore[index]


def call_once(target: FuzzTarget, method: MethodDescriptor, request: Message) -> None:
    request_class = type(request)
    response_class = GetMessageClass(method.output_type)
    path = f"/{method.containing_service.full_name}/{method.name}"
    if method.client_streaming:  # a stream of this one message, every answer read
        stream = target.channel(method).stream_stream(
            path, request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString)

        def call(message: Message, timeout: float) -> object:
            return list(stream(iter([message]), timeout=timeout))
    else:
        unary = target.channel(method).unary_unary(
            path, request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString)

        def call(message: Message, timeout: float) -> object:
            return unary(message, timeout=timeout)
    rows, keys = target.rows.read(), target.redis_keys()
    try:
        call(request, timeout=30)
    except grpc.RpcError as error:
        code = error.code()
        assert code not in NEVER, f"{method.full_name} answered {code.name} to {request!r}: {error.details()}"
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            assert names_a_field(error, request), f"{method.full_name}: {error.details()!r} names no field"
        assert target.rows.read() == rows, f"{method.full_name} stored rows, then answered {code.name}"
        # Buckets of earlier calls may expire meanwhile; a new one would be this call's write.
        new_keys = target.redis_keys() - keys
        assert not new_keys, f"{method.full_name} wrote Redis keys {new_keys}, then answered {code.name}"


def fuzz(target: FuzzTarget, method: MethodDescriptor, examples: int) -> None:
    @fuzz_settings(examples)
    @given(request=requests(method.input_type))
    def every_field(request: Message) -> None:
        call_once(target, method, request)

    every_field()


@pytest.mark.parametrize("method", RPCS, ids=lambda m: m.full_name)
def test_every_rpc_refuses_hostile_fields_without_internal_errors_or_stored_rows(
        fuzz_target: FuzzTarget, method: MethodDescriptor) -> None:
    fuzz(fuzz_target, method, examples=25)


@pytest.mark.slow
@pytest.mark.parametrize("method", RPCS, ids=lambda m: m.full_name)
def test_every_rpc_refuses_hostile_fields_at_length(fuzz_target: FuzzTarget,
                                                    method: MethodDescriptor) -> None:
    fuzz(fuzz_target, method, examples=400)
