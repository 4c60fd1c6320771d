"""`metering`: serve, migrate, worker, dev, call, keys. Configuration comes from the environment
(see README)."""

from __future__ import annotations

import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from services.app.config import ServerConfig
from services.app.dev.call import call_app
from services.app.keys import keys_app
from services.kit import event_loop
from services.kit.config import ConfigError
from services.kit.observability import telemetry
from services.kit.observability.logs import configure_logging

app = typer.Typer(help="Metering server: usage, credits, quotas.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.add_typer(call_app, name="call")
app.add_typer(keys_app, name="keys")
T = TypeVar("T")


def _setup_logging(default_format: str = "json", telemetry_service: str | None = None) -> None:
    """JSON logs unless METERING_LOG_FORMAT says otherwise; OpenTelemetry when OTEL_* asks for it."""
    configure_logging(os.environ.get("METERING_LOG_FORMAT", default_format))
    if telemetry_service is not None:
        try:
            telemetry.configure(telemetry_service)
        except ValueError as error:
            typer.echo(f"metering: configuration error: {error}", err=True)
            raise typer.Exit(2) from None


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Runs the coroutine on the event loop METERING_EVENT_LOOP names; configuration and connection
    problems end in one line, not a traceback."""
    try:
        return event_loop.run(coro, event_loop.loop_named(os.environ, "METERING_EVENT_LOOP"))
    except ConfigError as error:
        coro.close()  # not started when the loop's own setting is wrong; a no-op once it ran
        typer.echo(f"metering: configuration error: {error}", err=True)
        raise typer.Exit(2) from None
    except (OSError, ConnectionError) as error:
        typer.echo(f"metering: cannot reach the database: {error}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except Exception as error:
        if type(error).__module__.startswith("asyncpg"):
            typer.echo(f"metering: database error: {error}", err=True)
            raise typer.Exit(1) from None
        raise


@app.command()
def serve() -> None:
    """Serve metering.v1 over gRPC (METERING_DATABASE_URL, METERING_GRPC_ADDR)."""
    from services.app.server import serve as serve_forever

    _setup_logging(telemetry_service="metering")

    async def main() -> None:
        await serve_forever(ServerConfig.from_env())

    _run(main())


@app.command()
def migrate(
    citus: Annotated[bool, typer.Option("--citus", help="Then distribute the schema by organization on the "
                                        "Citus coordinator METERING_DATABASE_URL points at (docs/citus.md).")]
    = False,
) -> None:
    """Apply pending schema migrations to METERING_DATABASE_URL (safe from several replicas)."""
    from services.schema.citus import DistributionError
    from services.schema.migrations import distribute_schema
    from services.schema.migrations import migrate as apply

    _setup_logging()

    async def database_url() -> str:  # inside _run: a configuration error is one line
        return ServerConfig.from_env().database_url

    dsn = _run(database_url())
    applied = _run(apply(dsn))
    typer.echo(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
    if citus:
        try:
            steps = _run(distribute_schema(dsn))
        except DistributionError as error:
            typer.echo(f"metering migrate --citus: {error}", err=True)
            raise typer.Exit(1) from None
        kinds = {k: sum(s.kind == k for s in steps) for k in ("reference", "organizations", "tenant")}
        typer.echo(f"distributed {len(steps)} table(s): {kinds['reference']} reference, "
                   f"{kinds['organizations'] + kinds['tenant']} by org_id")


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Run every job once (late events, roll-ups, "
                                       "planning, pushes, invoices) and exit.")] = False,
    now: Annotated[str | None, typer.Option("--now", help="With --once: act as if it were this UTC time "
                                            "(ISO 8601).", show_default=False)] = None,
    stripe_test_server: Annotated[str | None, typer.Option(
        "--stripe-test-server", envvar="METERING_STRIPE_TEST_SERVER", help="Serve the bundled Stripe "
        "test server on host:port and use it (local development).", show_default=False)] = None,
) -> None:
    """Billing worker: hourly roll-ups, daily Stripe sync (METERING_DATABASE_URL, STRIPE_API_KEY)."""
    from services.app.worker import worker_main

    _setup_logging(telemetry_service="metering-worker")
    _run(worker_main(once, now, stripe_test_server))


@app.command()
def dev(
    fresh: Annotated[bool, typer.Option("--fresh", help="Wipe the data folder first: empty ledger, "
                                        "demo data seeded again.")] = False,
    home: Annotated[Path | None, typer.Option("--home", help="Data folder (default: $METERING_DEV_HOME, "
                                              "else ./.metering-dev).", show_default=False)] = None,
) -> None:
    """Everything on this machine: embedded PostgreSQL and Redis, demo data, gRPC (METERING_GRPC_ADDR)."""
    from services.app.dev.command import run_dev

    _setup_logging("text")
    raise typer.Exit(run_dev(home, fresh))


def main() -> None:
    sys.exit(app())


if __name__ == "__main__":
    main()
