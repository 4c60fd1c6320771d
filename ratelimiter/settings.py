"""The sidecar's settings, from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from services.kit.config import ConfigError, is_host_port, switch


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything `ratelimiter serve` reads from the environment."""

    redis_url: str = "redis://127.0.0.1:6379/0"
    """RATELIMITER_REDIS_URL: redis://, rediss://, unix://, or redis+cluster:// (any one node of a
    Redis Cluster; the others are discovered)."""
    grpc_addr: str = "127.0.0.1:50052"
    """RATELIMITER_GRPC_ADDR: host:port of the gRPC server (Check, ShouldRateLimit, health)."""
    http_addr: str = "127.0.0.1:8081"
    """RATELIMITER_HTTP_ADDR: host:port of the HTTP server (check, /healthz, /metrics)."""
    config_path: Path | None = None
    """RATELIMITER_CONFIG: a YAML file or a directory of them; unset uses the built-in limits."""
    redis_timeout_s: float = 0.05
    """RATELIMITER_REDIS_TIMEOUT_MS: longest wait for Redis before the failure policy decides."""
    key_prefix: str = "rl:"
    """RATELIMITER_KEY_PREFIX: prefix of every bucket key (several deployments on one Redis)."""
    reload_interval_s: float = 2.0
    """RATELIMITER_RELOAD_INTERVAL_S: how often the config file is checked for changes (0: never;
    SIGHUP always reloads)."""
    log_level: str = "INFO"
    """RATELIMITER_LOG_LEVEL: DEBUG, INFO, WARNING or ERROR."""
    batch_helper_threads: bool = True
    """RATELIMITER_BATCH_HELPER_THREADS: on Linux, run grpc's own threads under SCHED_BATCH so
    that their wake-ups do not preempt the event loop's thread (services/kit/loop_thread.py)."""


def _host_port(name: str, value: str) -> str:
    if not is_host_port(value):
        raise ConfigError(f"{name}={value!r} is not host:port")
    return value


def _number(name: str, value: str, *, minimum: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a number") from None
    if number < minimum:
        raise ConfigError(f"{name}={value!r} must be at least {minimum:g}")
    return number


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Reads the RATELIMITER_* variables; raises ConfigError naming the bad one."""
    env = os.environ if env is None else env
    defaults = Settings()
    redis_url = env.get("RATELIMITER_REDIS_URL", defaults.redis_url)
    scheme = redis_url.partition("://")[0]
    if scheme not in {"redis", "rediss", "unix", "redis+cluster", "rediss+cluster"}:
        raise ConfigError("RATELIMITER_REDIS_URL must start with redis://, rediss://, unix:// "
                            "or redis+cluster://")
    config = env.get("RATELIMITER_CONFIG") or None
    config_path = Path(config) if config else None
    if config_path is not None and not config_path.exists():
        raise ConfigError(f"RATELIMITER_CONFIG={config!r}: no such file or directory")
    prefix = env.get("RATELIMITER_KEY_PREFIX", defaults.key_prefix)
    if "{" in prefix or "}" in prefix:
        raise ConfigError("RATELIMITER_KEY_PREFIX must not contain { or } (hash tags are ours)")
    level = env.get("RATELIMITER_LOG_LEVEL", defaults.log_level).upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError(f"RATELIMITER_LOG_LEVEL={level!r} is not DEBUG/INFO/WARNING/ERROR")
    timeout_ms = env.get("RATELIMITER_REDIS_TIMEOUT_MS")
    return Settings(
        redis_url=redis_url,
        grpc_addr=_host_port("RATELIMITER_GRPC_ADDR",
                             env.get("RATELIMITER_GRPC_ADDR", defaults.grpc_addr)),
        http_addr=_host_port("RATELIMITER_HTTP_ADDR",
                             env.get("RATELIMITER_HTTP_ADDR", defaults.http_addr)),
        config_path=config_path,
        redis_timeout_s=(_number("RATELIMITER_REDIS_TIMEOUT_MS", timeout_ms, minimum=1) / 1000
                         if timeout_ms else defaults.redis_timeout_s),
        key_prefix=prefix,
        reload_interval_s=_number(
            "RATELIMITER_RELOAD_INTERVAL_S",
            env.get("RATELIMITER_RELOAD_INTERVAL_S", str(defaults.reload_interval_s)), minimum=0),
        log_level=level,
        batch_helper_threads=switch(env, "RATELIMITER_BATCH_HELPER_THREADS", defaults.batch_helper_threads),
    )
