"""`metering call`: one metering.v1 call against a running server (METERING_GRPC_ADDR), printed as JSON.

A first thing to try once `metering dev` is up, without grpcurl or a hand-written client.
"""

from __future__ import annotations

import os
import uuid
from typing import Annotated, Any

import typer

from services.app.config import ServerConfig

call_app = typer.Typer(no_args_is_help=True,
                       help="Call a running metering server (METERING_GRPC_ADDR); prints the answer as JSON.")

Org = Annotated[str, typer.Option("--org", help="Organization id, e.g. demo.")]
ApiKey = Annotated[str | None, typer.Option(
    "--api-key", envvar="METERING_API_KEY", show_default=False,
    help="Bearer API key (default: the demo keys `metering dev` keeps in its data folder).")]
Key = Annotated[str | None, typer.Option("--key", help="Idempotency key (default: a new one); "
                                         "repeat it to see a retry answered from the ledger.")]
TIMEOUT_SECONDS = 10.0


@call_app.command()
def deduct(org: Org, amount: Annotated[str, typer.Option("--amount", help="Credits (USD for BYOM).")],
           key: Key = None, api_key: ApiKey = None) -> None:
    """Spend an amount from an organization's balance (Deduct)."""
    from services.gen.metering.v1 import metering_pb2 as pb

    _call("Deduct", pb.DeductRequest(org_id=org, idempotency_key=key or _new_key(), amount=amount),
          api_key)


@call_app.command()
def record(org: Org, meter: Annotated[str, typer.Option("--meter", help="e.g. api_requests.")],
           quantity: Annotated[str, typer.Option("--quantity")] = "1", key: Key = None,
           api_key: ApiKey = None) -> None:
    """Record one usage event (RecordUsage)."""
    from services.gen.metering.v1 import metering_pb2 as pb

    event = pb.UsageEvent(idempotency_key=key or _new_key(), meter=meter, quantity=quantity)
    _call("RecordUsage", pb.RecordUsageRequest(org_id=org, event=event), api_key)


@call_app.command()
def quota(org: Org,
          meter: Annotated[str, typer.Option("--meter", help="Empty: the credit quota.")] = "",
          api_key: ApiKey = None) -> None:
    """Show used, limit and state for this billing period (GetQuota)."""
    from services.gen.metering.v1 import metering_pb2 as pb

    _call("GetQuota", pb.GetQuotaRequest(org_id=org, meter=meter), api_key)


def _new_key() -> str:
    return f"cli-{uuid.uuid4().hex}"


def _call(method: str, request: Any, api_key: str | None) -> None:
    import grpc
    from google.protobuf.json_format import MessageToJson

    from services.gen.metering.v1 import metering_pb2_grpc as pb_grpc

    addr = os.environ.get("METERING_GRPC_ADDR") or ServerConfig.grpc_addr
    with grpc.insecure_channel(addr) as channel:
        stub = pb_grpc.MeteringServiceStub(channel)  # type: ignore[no-untyped-call]
        try:
            response = getattr(stub, method)(request, timeout=TIMEOUT_SECONDS,
                                             metadata=_authorization(api_key, request.org_id))
        except grpc.RpcError as error:
            typer.echo(f"metering call: {_describe(error, addr)}", err=True)
            raise typer.Exit(1) from None
    typer.echo(MessageToJson(response, preserving_proto_field_name=True))


def _authorization(api_key: str | None, org_id: str) -> list[tuple[str, str]]:
    from devstack.home import DevHome
    from services.app.dev.keys import read_keys, token_for

    token = api_key or token_for(read_keys(DevHome.choose(None).api_keys), org_id)
    return [("authorization", f"Bearer {token}")] if token else []


def _describe(error: Any, addr: str) -> str:
    code = error.code()
    if code.name == "UNAVAILABLE":
        return f"no metering server answers on {addr} (is `metering dev` running? METERING_GRPC_ADDR)"
    if code.name == "UNAUTHENTICATED":
        return (f"UNAUTHENTICATED: {error.details()} (pass --api-key, or set METERING_DEV_HOME to the "
                f"data folder of `metering dev`, whose demo keys are then used)")
    return f"{code.name}: {error.details()}"
