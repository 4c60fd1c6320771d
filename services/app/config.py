"""Configuration of the metering server, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from services.kit.config import ConfigError, database_url, is_host_port, seconds, switch, whole_number
from services.metering.service.batch_gathering import DEFAULT_WAIT_SECONDS


def read_batch_wait(env: Mapping[str, str]) -> float:
    """`METERING_BATCH_WAIT_SECONDS`, for the server and for whatever describes its settings."""
    return seconds(env, "METERING_BATCH_WAIT_SECONDS", DEFAULT_WAIT_SECONDS, zero_allowed=True)


def read_batch_helper_threads(env: Mapping[str, str]) -> bool:
    """`METERING_BATCH_HELPER_THREADS`, for the server and for whatever describes its settings."""
    return switch(env, "METERING_BATCH_HELPER_THREADS", ServerConfig.batch_helper_threads)


@dataclass(frozen=True)
class ServerConfig:
    database_url: str
    """PostgreSQL DSN (`METERING_DATABASE_URL`), e.g. postgresql://user@host:5432/metering."""

    grpc_addr: str = "127.0.0.1:50051"
    """host:port the gRPC server listens on (`METERING_GRPC_ADDR`)."""

    pool_min_size: int = 2
    """Connections kept open to PostgreSQL per process (`METERING_DB_POOL_MIN`)."""

    pool_max_size: int = 10
    """Upper bound of connections per process (`METERING_DB_POOL_MAX`)."""

    batch_wait_seconds: float = DEFAULT_WAIT_SECONDS
    """While the server is CPU-bound, how long an organization's next batch of credit calls, or
    its next shared usage read, may wait for as many calls as the last one took
    (`METERING_BATCH_WAIT_SECONDS`); 0: they never wait. A server with CPU to spare never waits."""

    batch_helper_threads: bool = True
    """Whether grpc's helper threads run under the kernel's SCHED_BATCH policy, so that their
    wake-ups do not preempt the event loop's thread (`METERING_BATCH_HELPER_THREADS`, on by
    default; Linux only). See services/kit/loop_thread.py."""

    hold_sweep_seconds: float = 5.0
    """How often expired holds are looked for and released (`METERING_HOLD_SWEEP_SECONDS`)."""

    smtp_host: str | None = None
    """SMTP server for alert emails (`METERING_SMTP_HOST`); unset: email deliveries wait and retry."""

    smtp_port: int = 25
    """SMTP port (`METERING_SMTP_PORT`)."""

    smtp_sender: str = "metering@localhost"
    """From address of alert emails (`METERING_SMTP_FROM`)."""

    notify_seconds: float = 2.0
    """How often each server looks for alert deliveries that are due (`METERING_NOTIFY_SECONDS`)."""

    http_addr: str = "127.0.0.1:8080"
    """host:port of the HTTP/JSON usage API and the /dashboard page (`METERING_HTTP_ADDR`)."""

    ratelimiter_url: str = "http://127.0.0.1:8081"
    """The rate-limiter sidecar's HTTP address, read for the rate-limit bars
    (`METERING_RATELIMITER_URL`)."""

    ratelimiter_addr: str = ""
    """The rate-limiter sidecar's HTTP address (host:port or URL, its RATELIMITER_HTTP_ADDR) that every
    /api request is checked against, per client IP (`METERING_RATELIMITER_ADDR`); unset: no
    limiting. An unreachable sidecar lets requests through (fail open)."""

    rate_limit_ips: tuple[str, ...] = ()
    """Client IPs whose rate-limit bars the dashboard shows besides the caller's own, comma
    separated (`METERING_RATE_LIMIT_IPS`), e.g. an office's public address behind a proxy."""

    public_url: str = ""
    """Base URL under which clients reach the HTTP API, e.g. `https://usage.example.com`
    (`METERING_PUBLIC_URL`); export download URLs start with it. Unset: HTTP answers use the
    request's X-Forwarded-Proto / X-Forwarded-Host (else its own scheme and Host), gRPC answers
    `http://` + METERING_HTTP_ADDR."""

    client_ip_header: str = ""
    """Header the gateway sets to the client's address, read for the dashboard's rate-limit bars
    (`METERING_CLIENT_IP_HEADER`, e.g. `x-envoy-external-address` behind Envoy with
    use_remote_address); unset: the connection's peer. Set it only behind a gateway that
    overwrites the header."""

    export_ttl_seconds: float = 7 * 86_400.0
    """How long a finished usage export can be downloaded (`METERING_EXPORT_TTL_SECONDS`)."""

    export_poll_seconds: float = 5.0
    """How often each server looks for usage exports waiting to run (`METERING_EXPORT_POLL_SECONDS`)."""

    metrics_flush_seconds: float = 2.0
    """How often API request metrics are added to PostgreSQL (`METERING_METRICS_FLUSH_SECONDS`)."""

    db_connect_seconds: float = 30.0
    """At start, how long to keep trying to reach PostgreSQL before giving up
    (`METERING_DB_CONNECT_SECONDS`), so a replica started during an outage waits for it."""

    shutdown_grace_seconds: float = 10.0
    """On SIGTERM, how long in-flight calls may take to finish (`METERING_SHUTDOWN_GRACE_SECONDS`)."""

    peer_addr: str = ""
    """host:port where the other replicas reach this one's gRPC server (`METERING_PEER_ADDR`, e.g.
    the pod's IP and the gRPC port). Set on every replica, each organization's Deduct, Reserve and
    Release calls are applied by one owner replica, which batches them together; unset: this
    replica applies every call it receives itself."""

    peer_token: str = ""
    """The secret the replicas present to each other (`METERING_PEER_TOKEN`); required with
    METERING_PEER_ADDR, the same on every replica, never logged."""

    peer_heartbeat_seconds: float = 2.0
    """How often a replica announces itself and reads the live replicas
    (`METERING_PEER_HEARTBEAT_SECONDS`); a replica silent for three of these is no longer an
    owner."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServerConfig:
        env = os.environ if env is None else env
        config = cls(
            database_url=database_url(env),
            grpc_addr=env.get("METERING_GRPC_ADDR", cls.grpc_addr),
            pool_min_size=whole_number(env, "METERING_DB_POOL_MIN", cls.pool_min_size),
            pool_max_size=whole_number(env, "METERING_DB_POOL_MAX", cls.pool_max_size),
            batch_wait_seconds=read_batch_wait(env),
            batch_helper_threads=read_batch_helper_threads(env),
            hold_sweep_seconds=seconds(env, "METERING_HOLD_SWEEP_SECONDS", cls.hold_sweep_seconds),
            smtp_host=env.get("METERING_SMTP_HOST") or None,
            smtp_port=whole_number(env, "METERING_SMTP_PORT", cls.smtp_port),
            smtp_sender=env.get("METERING_SMTP_FROM", cls.smtp_sender),
            notify_seconds=seconds(env, "METERING_NOTIFY_SECONDS", cls.notify_seconds),
            shutdown_grace_seconds=seconds(env, "METERING_SHUTDOWN_GRACE_SECONDS",
                                           cls.shutdown_grace_seconds),
            db_connect_seconds=seconds(env, "METERING_DB_CONNECT_SECONDS", cls.db_connect_seconds),
            http_addr=env.get("METERING_HTTP_ADDR", cls.http_addr),
            ratelimiter_url=env.get("METERING_RATELIMITER_URL", cls.ratelimiter_url),
            ratelimiter_addr=env.get("METERING_RATELIMITER_ADDR", cls.ratelimiter_addr).strip(),
            rate_limit_ips=tuple(ip.strip() for ip in env.get("METERING_RATE_LIMIT_IPS", "").split(",")
                                 if ip.strip()),
            client_ip_header=env.get("METERING_CLIENT_IP_HEADER", cls.client_ip_header).strip(),
            public_url=env.get("METERING_PUBLIC_URL", cls.public_url).strip().rstrip("/"),
            export_ttl_seconds=seconds(env, "METERING_EXPORT_TTL_SECONDS", cls.export_ttl_seconds),
            export_poll_seconds=seconds(env, "METERING_EXPORT_POLL_SECONDS", cls.export_poll_seconds),
            metrics_flush_seconds=seconds(env, "METERING_METRICS_FLUSH_SECONDS", cls.metrics_flush_seconds),
            peer_addr=env.get("METERING_PEER_ADDR", cls.peer_addr).strip(),
            peer_token=env.get("METERING_PEER_TOKEN", cls.peer_token).strip(),
            peer_heartbeat_seconds=seconds(env, "METERING_PEER_HEARTBEAT_SECONDS",
                                           cls.peer_heartbeat_seconds),
        )
        if ":" not in config.grpc_addr:
            raise ConfigError(f"METERING_GRPC_ADDR must be host:port, got {config.grpc_addr!r}")
        if not is_host_port(config.http_addr):
            raise ConfigError(f"METERING_HTTP_ADDR must be host:port, got {config.http_addr!r}")
        if not config.ratelimiter_url.startswith(("http://", "https://")):
            raise ConfigError("METERING_RATELIMITER_URL must be an http(s):// URL")
        if config.ratelimiter_addr and not (config.ratelimiter_addr.startswith(("http://", "https://"))
                                            or is_host_port(config.ratelimiter_addr)):
            raise ConfigError("METERING_RATELIMITER_ADDR must be host:port or an http(s):// URL")
        if config.public_url and not config.public_url.startswith(("http://", "https://")):
            raise ConfigError("METERING_PUBLIC_URL must be an http(s):// URL")
        if config.peer_addr and not is_host_port(config.peer_addr):
            raise ConfigError(f"METERING_PEER_ADDR must be host:port, got {config.peer_addr!r}")
        if config.peer_addr and len(config.peer_token) < 16:
            raise ConfigError("METERING_PEER_TOKEN must be at least 16 characters with METERING_PEER_ADDR")
        if not 1 <= config.pool_min_size <= config.pool_max_size:
            raise ConfigError("METERING_DB_POOL_MIN must be >= 1 and <= METERING_DB_POOL_MAX")
        return config

