"""`metering keys create|list|revoke`: API keys of a running deployment, through its admin API.

The calls go to `metering.v1.MeteringAdminService` on METERING_GRPC_ADDR with a platform admin key
(`--api-key` or METERING_API_KEY; on a `metering dev` machine the platform key in its data folder),
so they work against any deployment, not only a local database. A new key's token is printed once,
on a line of its own; listing never shows a secret.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from services.app.config import ServerConfig

keys_app = typer.Typer(no_args_is_help=True,
                       help="Create, list and revoke API keys (a platform admin key; METERING_GRPC_ADDR).")

# The command line's role names and the wire's (metering.v1.Role).
ROLES = {"platform-admin": "ROLE_PLATFORM_ADMIN", "tenant-admin": "ROLE_TENANT_ADMIN",
         "billing-contact": "ROLE_BILLING_CONTACT", "service": "ROLE_SERVICE"}
TIMEOUT_SECONDS = 10.0

Org = Annotated[str, typer.Option("--org", help="Organization id; leave out for platform admin keys.")]
PlatformKey = Annotated[str | None, typer.Option(
    "--api-key", envvar="METERING_API_KEY", show_default=False,
    help="A platform admin key (default: the one `metering dev` keeps in its data folder).")]


@keys_app.command()
def create(
    org: Org = "",
    role: Annotated[str, typer.Option("--role", help=f"One of {', '.join(ROLES)}.")] = "service",
    name: Annotated[str, typer.Option("--name", help="What the key is for (shown by list).")] = "",
    api_key: PlatformKey = None,
) -> None:
    """Create a key for an organization and role; its token is printed once."""
    from services.gen.metering.v1 import admin_pb2 as apb

    if role not in ROLES:
        typer.echo(f"metering keys: --role must be one of {', '.join(ROLES)}", err=True)
        raise typer.Exit(2)
    label = name or f"{role} key" + (f" of {org}" if org else "")
    answer = _call("CreateApiKey", apb.CreateApiKeyRequest(org_id=org, role=ROLES[role], name=label),
                   api_key)
    typer.echo(f"created {answer.key.key_id}: {_describe(answer.key)}")
    typer.echo("token (shown this once; store it now):")
    typer.echo(answer.secret)


@keys_app.command("list")
def list_keys(
    org: Org = "",
    api_key: PlatformKey = None,
) -> None:
    """List an organization's keys (id, prefix, role, name, created, revoked); never a secret."""
    from services.gen.metering.v1 import admin_pb2 as apb

    answer = _call("ListApiKeys", apb.ListApiKeysRequest(org_id=org), api_key)
    if not answer.keys:
        typer.echo("no keys")
    for key in answer.keys:
        typer.echo(f"{key.key_id}  {key.prefix}…  {_describe(key)}")


@keys_app.command()
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id, as list shows it.")],
    org: Annotated[str, typer.Option("--org", help="The key's organization; leave out for a platform "
                                     "admin key.")] = "",
    api_key: PlatformKey = None,
) -> None:
    """Revoke a key: every replica refuses it within seconds."""
    from services.gen.metering.v1 import admin_pb2 as apb

    answer = _call("RevokeApiKey", apb.RevokeApiKeyRequest(org_id=org, key_id=key_id), api_key)
    typer.echo(f"revoked {answer.api_key.key_id}: {_describe(answer.api_key)}")


def _describe(key: Any) -> str:
    from services.gen.metering.v1 import admin_pb2 as apb

    wire = apb.Role.Name(key.role)
    role = next((name for name, value in ROLES.items() if value == wire), wire)
    owner = key.org_id or "platform"
    created = key.created_at.ToDatetime().strftime("%Y-%m-%dT%H:%M:%SZ")
    revoked = (f", revoked {key.revoked_at.ToDatetime().strftime('%Y-%m-%dT%H:%M:%SZ')}"
               if key.HasField("revoked_at") else "")
    return f"{role} of {owner}, {key.name!r}, created {created}{revoked}"


def _call(method: str, request: Any, api_key: str | None) -> Any:
    import grpc

    from services.app.dev.keys import dev_platform_key
    from services.gen.metering.v1 import admin_pb2_grpc

    token = api_key or dev_platform_key()
    if not token:
        typer.echo("metering keys: a platform admin key is needed: --api-key or METERING_API_KEY", err=True)
        raise typer.Exit(2)
    addr = os.environ.get("METERING_GRPC_ADDR") or ServerConfig.grpc_addr
    with grpc.insecure_channel(addr) as channel:
        stub = admin_pb2_grpc.MeteringAdminServiceStub(channel)  # type: ignore[no-untyped-call]
        try:
            return getattr(stub, method)(request, timeout=TIMEOUT_SECONDS,
                                         metadata=[("authorization", f"Bearer {token}")])
        except grpc.RpcError as error:
            code = error.code()  # type: ignore[attr-defined]
            where = (f" (no metering server answers on {addr}; METERING_GRPC_ADDR)"
                     if code.name == "UNAVAILABLE" else "")
            typer.echo(f"metering keys: {code.name}: {error.details()}{where}", err=True)  # type: ignore[attr-defined]
            raise typer.Exit(1) from None
