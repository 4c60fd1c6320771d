"""What every process's configuration shares: the one error type, and readers of environment values.

Each reader takes the environment, a variable's name and its default (used when the variable is
unset or empty), and raises ConfigError naming the variable when its value is malformed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping


class ConfigError(ValueError):
    """Missing or malformed configuration; the message is one line meant for the operator."""


def database_url(env: Mapping[str, str]) -> str:
    """`METERING_DATABASE_URL`: the PostgreSQL DSN every process of the service works on."""
    url = env.get("METERING_DATABASE_URL", "").strip()
    if not url:
        raise ConfigError("METERING_DATABASE_URL is not set (e.g. postgresql://postgres@127.0.0.1/metering)")
    if not url.startswith(("postgres://", "postgresql://")):
        raise ConfigError("METERING_DATABASE_URL must be a postgresql:// URL")
    return url


def whole_number(env: Mapping[str, str], name: str, default: int) -> int:
    """Any integer, e.g. a pool size or a port."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def whole_number_within(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """A whole number written in digits, from `low` to `high`, e.g. a minute past the hour."""
    raw = env.get(name, "")
    if raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, got {raw!r}")
    return int(raw)


def seconds(env: Mapping[str, str], name: str, default: float, zero_allowed: bool = False) -> float:
    """A positive number of seconds, e.g. a period or a timeout; with `zero_allowed`, 0 too
    (e.g. a wait that 0 turns off)."""
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if zero_allowed and not value >= 0:
        raise ConfigError(f"{name} must be 0 or more")
    if not zero_allowed and not value > 0:
        raise ConfigError(f"{name} must be positive")
    return value


def switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    """On or off: 1, true, yes, on / 0, false, no, off (any case)."""
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be on or off (1/0, true/false, yes/no), got {raw!r}")


def is_host_port(value: str) -> bool:
    """Whether `value` reads host:port with a port within 0..65535."""
    host, sep, port = value.rpartition(":")
    return bool(sep and host and port.isdigit() and 0 <= int(port) <= 65535)


def redact_dsn(dsn: str) -> str:
    """The DSN with any password (in the authority or a `password=` parameter) replaced, for log lines."""
    dsn = re.sub(r"(?i)([?&]password=)[^&]*", r"\1***", dsn)
    scheme, sep, rest = dsn.partition("://")
    creds, at, host = rest.rpartition("@")
    if not at or ":" not in creds:
        return dsn
    user = creds.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"
