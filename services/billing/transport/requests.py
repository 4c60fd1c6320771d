"""Validation of billing requests that is specific to them (org_id comes from metering)."""

from __future__ import annotations

import re

from services.domain.errors import FieldError

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
MAX_NAME = 200
MAX_URL = 2048


def ident(raw: str, field: str) -> str:
    if not raw:
        raise FieldError(field, "is required")
    if not _ID.match(raw):
        raise FieldError(field, "must be 1-64 letters, digits or . _ : - (starting with a letter or digit)")
    return raw


def name(raw: str, field: str = "name") -> str:
    value = raw.strip()
    if not value:
        raise FieldError(field, "is required")
    if len(value) > MAX_NAME:
        raise FieldError(field, f"must be at most {MAX_NAME} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise FieldError(field, "must not contain control characters")
    return value


def url(raw: str, field: str) -> str:
    if not raw:
        raise FieldError(field, "is required")
    if len(raw) > MAX_URL or not re.match(r"^https?://[^\s]+$", raw):
        raise FieldError(field, "must be an http(s) URL without spaces")
    return raw
