"""Exact decimal quantities: arithmetic context and writing them back to the wire.

Parsing the wire's decimal strings is `services.kit.inputs.decimal`.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

# Enough for any product of a quantity, a price and a rate without rounding.
CONTEXT = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN, traps=[decimal.InvalidOperation])
ZERO = Decimal(0)


def format_decimal(value: Decimal) -> str:
    """Plain notation without exponent or trailing zeros: Decimal("1E+2") -> "100"."""
    if value == 0:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
