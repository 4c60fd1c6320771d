"""Validation of billing requests that is specific to them (org_id comes from metering)."""

from __future__ import annotations

import re

from services.kit import inputs
from services.kit.errors import FieldError

MAX_NAME = 200
MAX_URL = 2048


def ident(raw: str, field: str) -> str:
    return inputs.slug(raw, field)


def name(raw: str, field: str = "name") -> str:
    value = inputs.text(raw.strip(), field, MAX_NAME)
    if not value:
        raise FieldError(field, "is required")
    return value


def url(raw: str, field: str) -> str:
    if not raw:
        raise FieldError(field, "is required")
    if not re.match(r"\Ahttps?://[^\s]+\Z", inputs.text(raw, field, MAX_URL)):
        raise FieldError(field, "must be an http(s) URL without spaces")
    return raw
