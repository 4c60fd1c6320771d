"""Configuration of the billing worker and of the Stripe client, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from services.kit.config import ConfigError, database_url, seconds, whole_number_within


@dataclass(frozen=True)
class StripeSettings:
    api_key: str = field(repr=False)
    """Secret key (`STRIPE_API_KEY`); never logged, never in a repr."""

    api_base: str | None = None
    """Override of Stripe's endpoint (`STRIPE_API_BASE`), e.g. the Stripe test server."""

    timeout_seconds: float = 10.0
    """How long one call to Stripe may take before it counts as failed (`STRIPE_TIMEOUT_SECONDS`)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StripeSettings:
        env = os.environ if env is None else env
        key = env.get("STRIPE_API_KEY", "").strip()
        if not key:
            raise ConfigError("STRIPE_API_KEY is not set (a Stripe secret key, sk_live_... or sk_test_...)")
        base = env.get("STRIPE_API_BASE", "").strip().rstrip("/") or None
        if base is not None and not base.startswith(("http://", "https://")):
            raise ConfigError("STRIPE_API_BASE must be an http(s):// URL")
        return cls(key, base, seconds(env, "STRIPE_TIMEOUT_SECONDS", cls.timeout_seconds))


@dataclass(frozen=True)
class WorkerConfig:
    database_url: str
    """PostgreSQL DSN (`METERING_DATABASE_URL`), the metering database."""

    stripe: StripeSettings
    """Where and how to reach Stripe."""

    rollup_minute: int = 5
    """Minute past each hour at which the previous hour is rolled up (`BILLING_ROLLUP_MINUTE`)."""

    sync_hour: int = 2
    """Hour (UTC) at which the previous day is sent to Stripe (`BILLING_SYNC_HOUR`)."""

    tick_seconds: float = 30.0
    """How often the worker looks for roll-ups and days that are due (`BILLING_TICK_SECONDS`)."""

    push_poll_seconds: float = 2.0
    """How often the outbox is looked at for pushes that are due (`BILLING_PUSH_POLL_SECONDS`)."""

    retry_base_seconds: float = 1.0
    """First retry delay of a failed push; doubles per attempt, with jitter (`BILLING_RETRY_BASE_SECONDS`)."""

    retry_max_seconds: float = 300.0
    """Longest retry delay (`BILLING_RETRY_MAX_SECONDS`)."""

    push_concurrency: int = 4
    """(customer, meter) lanes pushed at once per worker; one call per lane (`BILLING_PUSH_CONCURRENCY`)."""

    invoice_sync_seconds: float = 3600.0
    """How often Stripe invoices are copied into the database (`BILLING_INVOICE_SYNC_SECONDS`)."""

    health_addr: str | None = None
    """host:port of the worker's gRPC health service (`BILLING_GRPC_ADDR`); unset: none."""

    stuck_seconds: float = 900.0
    """A job running longer than this reports the worker NOT_SERVING (`BILLING_STUCK_SECONDS`)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WorkerConfig:
        env = os.environ if env is None else env
        config = cls(
            database_url=database_url(env),
            stripe=StripeSettings.from_env(env),
            rollup_minute=whole_number_within(env, "BILLING_ROLLUP_MINUTE", cls.rollup_minute, 0, 59),
            sync_hour=whole_number_within(env, "BILLING_SYNC_HOUR", cls.sync_hour, 0, 23),
            tick_seconds=seconds(env, "BILLING_TICK_SECONDS", cls.tick_seconds),
            push_poll_seconds=seconds(env, "BILLING_PUSH_POLL_SECONDS", cls.push_poll_seconds),
            retry_base_seconds=seconds(env, "BILLING_RETRY_BASE_SECONDS", cls.retry_base_seconds),
            retry_max_seconds=seconds(env, "BILLING_RETRY_MAX_SECONDS", cls.retry_max_seconds),
            push_concurrency=whole_number_within(env, "BILLING_PUSH_CONCURRENCY", cls.push_concurrency,
                                                 1, 64),
            invoice_sync_seconds=seconds(env, "BILLING_INVOICE_SYNC_SECONDS", cls.invoice_sync_seconds),
            health_addr=env.get("BILLING_GRPC_ADDR", "").strip() or None,
            stuck_seconds=seconds(env, "BILLING_STUCK_SECONDS", cls.stuck_seconds),
        )
        if config.health_addr is not None and ":" not in config.health_addr:
            raise ConfigError(f"BILLING_GRPC_ADDR must be host:port, got {config.health_addr!r}")
        return config

