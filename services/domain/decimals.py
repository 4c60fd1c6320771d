"""Exact decimal quantities: parsing the wire's decimal strings and writing them back."""

from __future__ import annotations

import decimal
import re
from decimal import Decimal

from services.domain.errors import FieldError

# Enough for any product of a quantity, a price and a rate without rounding.
CONTEXT = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN, traps=[decimal.InvalidOperation])
MAX_INTEGER_DIGITS = 20
MAX_FRACTION_DIGITS = 18
_PLAIN_DECIMAL = re.compile(r"^\d+(\.\d+)?$")
ZERO = Decimal(0)


def parse_quantity(raw: str, field: str, *, positive: bool = False, whole: bool = False) -> Decimal:
    """A non-negative decimal string such as "12" or "0.25": no sign, exponent, NaN or infinity."""
    if raw == "":
        raise FieldError(field, "is required")
    if len(raw) > MAX_INTEGER_DIGITS + MAX_FRACTION_DIGITS + 1 or not _PLAIN_DECIMAL.match(raw):
        raise FieldError(field, f"must be a non-negative decimal string like '12.5', got {raw[:40]!r}")
    integer, _, fraction = raw.partition(".")
    if len(integer.lstrip("0")) > MAX_INTEGER_DIGITS:
        raise FieldError(field, f"has more than {MAX_INTEGER_DIGITS} integer digits")
    if len(fraction) > MAX_FRACTION_DIGITS:
        raise FieldError(field, f"has more than {MAX_FRACTION_DIGITS} fraction digits")
    value = Decimal(raw)
    if whole and value != value.to_integral_value():
        raise FieldError(field, "must be a whole number")
    if positive and value == 0:
        raise FieldError(field, "must be greater than 0")
    return value


def format_decimal(value: Decimal) -> str:
    """Plain notation without exponent or trailing zeros: Decimal("1E+2") -> "100"."""
    if value == 0:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
