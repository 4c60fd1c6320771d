"""`ratelimiter serve`: the sidecar's command line."""

from __future__ import annotations

import asyncio
import os
import sys

import typer

from ratelimiter.settings import load_settings
from services.kit.config import ConfigError
from services.kit.observability import telemetry
from services.kit.observability.logs import configure_logging

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Rate-limiter sidecar: Redis token buckets behind gRPC, Envoy RLS and HTTP.")


@app.callback()
def _root() -> None:
    """Rate-limiter sidecar."""


@app.command()
def serve() -> None:
    """Serve Check, Envoy's ShouldRateLimit and HTTP checks (settings: RATELIMITER_* env)."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        _fail(str(exc))
    configure_logging(os.environ.get("RATELIMITER_LOG_FORMAT", "json"), settings.log_level)
    try:
        telemetry.configure("ratelimiter")
    except ValueError as exc:
        _fail(f"invalid configuration: {exc}")
    from ratelimiter.app import serve as run

    try:
        asyncio.run(run(settings))
    except ConfigError as exc:
        _fail(f"invalid configuration: {exc}")
    except OSError as exc:
        _fail(f"cannot start: {exc}")
    except KeyboardInterrupt:
        pass


def _fail(message: str) -> None:
    print(f"ratelimiter: {message}", file=sys.stderr)
    raise typer.Exit(2)


def main() -> None:
    app()
