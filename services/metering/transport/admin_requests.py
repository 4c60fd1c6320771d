"""Validation of metering.v1.MeteringAdminService requests."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from services.gen.metering.v1 import admin_pb2 as apb
from services.kit import inputs
from services.kit.caller import Role
from services.kit.errors import FieldError
from services.kit.inputs import meter
from services.metering.domain.pricing import LlmPrice

ROLES: dict[Any, Role] = {
    apb.ROLE_PLATFORM_ADMIN: Role.PLATFORM_ADMIN,
    apb.ROLE_TENANT_ADMIN: Role.TENANT_ADMIN,
    apb.ROLE_BILLING_CONTACT: Role.BILLING_CONTACT,
    apb.ROLE_SERVICE: Role.SERVICE,
}
ROLE_VALUES = {v: k for k, v in ROLES.items()}
BILLING_MODELS: dict[Any, str] = {apb.BILLING_MODEL_CREDITS: "credits", apb.BILLING_MODEL_BYOM: "byom"}
SEVERITIES: dict[Any, str] = {
    apb.ALERT_SEVERITY_WARNING: "warning",
    apb.ALERT_SEVERITY_CRITICAL: "critical",
    apb.ALERT_SEVERITY_OVERAGE: "overage",
    apb.ALERT_SEVERITY_BUDGET: "budget",
    apb.ALERT_SEVERITY_PLAN_CHANGE: "plan_change",
}
PLAN_CHANGE_STATUSES: dict[Any, str] = {apb.PLAN_CHANGE_STATUS_PENDING: "pending",
                                        apb.PLAN_CHANGE_STATUS_APPROVED: "approved",
                                        apb.PLAN_CHANGE_STATUS_REFUSED: "refused"}
STATUSES: dict[Any, str] = {apb.ALERT_STATUS_ACTIVE: "active", apb.ALERT_STATUS_RESOLVED: "resolved"}
CHANNELS: dict[Any, str] = {apb.ALERT_CHANNEL_IN_APP: "in_app", apb.ALERT_CHANNEL_EMAIL: "email",
            apb.ALERT_CHANNEL_WEBHOOK: "webhook"}
DEFAULT_PAGE = 50
MAX_PAGE = 500
MAX_NAME = 200

_EMAIL = re.compile(r"\A[^@\s]+@[^@\s]+\.[^@\s]+\Z")
_URL = re.compile(r"\Ahttps?://[^\s]+\Z")


def name(raw: str, field: str = "name") -> str:
    if len(raw) > MAX_NAME:
        raise FieldError(field, f"must be at most {MAX_NAME} characters")
    value = inputs.text(raw, field, MAX_NAME).strip()
    if not value:
        raise FieldError(field, "is required")
    return value


def search_text(raw: str, field: str) -> str:
    """A filter on a list: free text, empty for all."""
    return inputs.text(raw, field, MAX_NAME)


def secret(raw: str, field: str) -> str | None:
    return inputs.text(raw, field, MAX_NAME) or None


def email(raw: str, field: str = "email") -> str:
    if not _EMAIL.match(inputs.text(raw, field, 254)):
        raise FieldError(field, "must be an email address")
    return raw


def money(raw: str, field: str, *, required: bool = True) -> Decimal | None:
    if raw == "" and not required:
        return None
    return inputs.decimal(raw, field)


def meter_limits(limits: Sequence[apb.MeterLimit]) -> dict[str, Decimal | None]:
    """Custom limits by meter; an empty limit is unlimited."""
    by_meter: dict[str, Decimal | None] = {}
    for i, item in enumerate(limits):
        name = meter(item.meter, f"limits[{i}].meter")
        if name in by_meter:
            raise FieldError(f"limits[{i}].meter", f"meter {name!r} is named twice")
        by_meter[name] = money(item.limit, f"limits[{i}].limit", required=False)
    return by_meter


def role(value: int, field: str = "role") -> Role:
    if value not in ROLES:
        raise FieldError(field, "must be one of ROLE_PLATFORM_ADMIN, ROLE_TENANT_ADMIN, "
                                "ROLE_BILLING_CONTACT, ROLE_SERVICE")
    return ROLES[value]


def billing_model(value: int) -> str:
    if value == apb.BILLING_MODEL_UNSPECIFIED:
        return "credits"
    if value not in BILLING_MODELS:
        raise FieldError("billing_model", f"unknown value {value}")
    return BILLING_MODELS[value]


def llm_price(price: apb.LlmPrice) -> LlmPrice:
    return LlmPrice(
        model=name(price.model, "price.model"),
        input=inputs.decimal(price.input_usd_per_mtok, "price.input_usd_per_mtok"),
        output=inputs.decimal(price.output_usd_per_mtok, "price.output_usd_per_mtok"),
        cache_read=inputs.decimal(price.cache_read_usd_per_mtok, "price.cache_read_usd_per_mtok"),
        cache_write=inputs.decimal(price.cache_write_usd_per_mtok, "price.cache_write_usd_per_mtok"),
    )


def resource(raw: str) -> str:
    return "credits" if raw == "credits" else meter(raw, "resource")


def percent(value: int, field: str) -> int | None:
    if value == 0:
        return None
    if not 1 <= value <= 1000:
        raise FieldError(field, "must be within 1..1000")
    return value


def page(size: int, token: str) -> tuple[int, str]:
    if size < 0 or size > MAX_PAGE:
        raise FieldError("page_size", f"must be within 0..{MAX_PAGE}")
    try:
        after = inputs.slug(base64.urlsafe_b64decode(token.encode()).decode(), "") if token else ""
    except ValueError:
        raise FieldError("page_token", "is not a token this server issued") from None
    return size or DEFAULT_PAGE, after


def page_token(last: str) -> str:
    return base64.urlsafe_b64encode(last.encode()).decode()


def routes(items: list[apb.SeverityChannels]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for i, item in enumerate(items):
        if item.severity not in SEVERITIES:
            raise FieldError(f"routes[{i}].severity", "is required")
        chosen = []
        for j, channel in enumerate(item.channels):
            if channel not in CHANNELS:
                raise FieldError(f"routes[{i}].channels[{j}]", f"unknown channel {channel}")
            chosen.append(CHANNELS[channel])
        out[SEVERITIES[item.severity]] = chosen
    return out


def webhook_url(raw: str) -> str | None:
    if not raw:
        return None
    if not _URL.match(inputs.text(raw, "webhook_url", 2000)):
        raise FieldError("webhook_url", "must be an http(s) URL")
    return raw


def plan_request_id(raw: str, field: str = "request_id") -> int:
    return inputs.row_id(raw, field)


def plan_change_status(value: int, field: str = "status") -> str:
    if value and value not in PLAN_CHANGE_STATUSES:
        raise FieldError(field, f"unknown status {value}")
    return PLAN_CHANGE_STATUSES.get(value, "")
