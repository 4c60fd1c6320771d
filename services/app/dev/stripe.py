"""The Stripe test server that `metering worker --stripe-test-server host:port` serves itself, so a
development worker never reaches the real Stripe."""

from __future__ import annotations

import logging

from devstack.stripe_test_server import StripeTestServer
from services.kit.config import ConfigError

log = logging.getLogger(__name__)


async def serve_stripe_test_server(addr: str, env: dict[str, str]) -> StripeTestServer:
    """Serves the Stripe test server on `addr` and points `env`'s STRIPE_API_BASE at it."""
    host, _, port = addr.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"--stripe-test-server must be host:port, got {addr!r}")
    env.setdefault("STRIPE_API_KEY", "sk_test_metering_dev")
    server = StripeTestServer(env["STRIPE_API_KEY"])
    env["STRIPE_API_BASE"] = await server.start(host, int(port))
    log.info("Stripe test server on %s", env["STRIPE_API_BASE"])
    return server
