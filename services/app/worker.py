"""What `metering worker` runs: configuration, secret redaction in logs, the optional test server."""

from __future__ import annotations

import logging
import os

from services.billing.config import WorkerConfig
from services.billing.service.worker import parse_now, run_worker
from services.kit.config import ConfigError


class RedactSecret(logging.Filter):
    """Replaces a secret in every log record, whoever logs it (a second line of defence: the
    worker itself never logs the Stripe key)."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.secret in message:
            record.msg, record.args = message.replace(self.secret, "sk_***"), None
        return True


def redact_in_logs(secret: str) -> None:
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactSecret(secret))


async def worker_main(once: bool, now: str | None, stripe_test_server: str | None) -> None:
    moment = parse_now(now)
    if moment is not None and not once:
        raise ConfigError("--now only makes sense with --once")
    env = dict(os.environ)
    server = None
    if stripe_test_server is not None:
        from devstack.stripe_test_server import StripeTestServer

        host, _, port = stripe_test_server.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"--stripe-test-server must be host:port, got {stripe_test_server!r}")
        env.setdefault("STRIPE_API_KEY", "sk_test_metering_dev")
        server = StripeTestServer(env["STRIPE_API_KEY"])
        env["STRIPE_API_BASE"] = await server.start(host, int(port))
        logging.getLogger(__name__).info("Stripe test server on %s", env["STRIPE_API_BASE"])
    config = WorkerConfig.from_env(env)
    redact_in_logs(config.stripe.api_key)
    try:
        await run_worker(config, once=once, now=moment)
    finally:
        if server is not None:
            await server.stop()
