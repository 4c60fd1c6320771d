"""Validation of report parameters, shared by the gRPC and HTTP transports (names as in /api/v1)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from services.kit import inputs
from services.kit.errors import FieldError
from services.reporting.domain.catalogue import CREDITS, optional_resource, resource_name
from services.reporting.domain.periods import ChartRange, Granularity, Period

ALERT_STATUSES = ("active", "resolved")
ALERT_SEVERITIES = ("warning", "critical", "overage", "budget")
KINDS = {"workspaces": "workspace", "workspace_groups": "group", "groups": "group", "users": "user"}


def _choice(raw: str, field: str, options: list[str]) -> str:
    if raw not in options:
        raise FieldError(field, f"must be one of {', '.join(options)}")
    return raw


def period(raw: str, field: str = "period") -> Period:
    return Period(_choice(raw or "current", field, [p.value for p in Period]))


def granularity(raw: str, field: str = "granularity") -> Granularity:
    return Granularity(_choice(raw or "daily", field, [g.value for g in Granularity]))


def chart_range(raw: str, field: str = "range") -> ChartRange:
    return ChartRange(_choice(raw or "7d", field, [c.value for c in ChartRange]))


def consumer_kind(raw: str, field: str = "kind") -> str:
    return KINDS[_choice(raw, field, list(KINDS))]


def months(raw: str | int, field: str = "months") -> int:
    if raw in ("", 0):
        return 1
    value = raw if isinstance(raw, int) else inputs.count(raw, field)
    if not 1 <= value <= 24:
        raise FieldError(field, "must be a whole number within 1..24")
    return value


def resource(raw: str, field: str = "resource_type") -> str:
    return resource_name(raw, field)


def any_resource(raw: str, field: str = "resource_type") -> str:
    return optional_resource(raw, field)


def projection_resource(raw: str, field: str = "resource_type") -> str:
    return CREDITS if raw == CREDITS else optional_resource(raw, field)


def quota_resource(raw: str, field: str = "resource") -> str:
    return CREDITS if raw == CREDITS else resource_name(raw, field)


def alert_filter(raw: str, field: str = "status") -> tuple[str, str]:
    """(severity, status) for alerts.list_alerts: a severity means the active alerts of it."""
    if not raw:
        return "", ""
    choice = _choice(raw, field, [*ALERT_STATUSES, *ALERT_SEVERITIES])
    return ("", choice) if choice in ALERT_STATUSES else (choice, "active")


def limit(raw: str | None, field: str) -> Decimal | None:
    return None if raw in (None, "") else inputs.decimal(raw, field)


def percent(raw: int | None, field: str) -> int | None:
    if raw is None or raw == 0:
        return None
    if not 1 <= raw <= 1000:
        raise FieldError(field, "must be within 1..1000")
    return raw


def moment(raw: str, field: str) -> datetime:
    return inputs.rfc3339(raw, field)


def optional_moment(raw: str | None, field: str) -> datetime | None:
    return None if not raw else moment(raw, field)


def export_id(raw: str, field: str = "export_id") -> str:
    if not raw:
        raise FieldError(field, "is required")
    return inputs.text(raw, field, 64)


def ip_address(raw: str, field: str = "ip") -> str:
    import ipaddress

    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        raise FieldError(field, "must be an IPv4 or IPv6 address") from None
