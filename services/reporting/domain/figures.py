"""Figures of the reports computed from what the store read (pure): costs, shares, paging."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from services.kit import inputs
from services.kit.decimals import CONTEXT, ZERO
from services.kit.errors import FieldError
from services.metering.domain.quota import FIGURE, HUNDREDTH

DEFAULT_PAGE = 5
MAX_PAGE = 100


def money(value: Decimal) -> Decimal:
    """Costs are shown to a millionth of a dollar (or credit); sums are taken before rounding."""
    return value.quantize(FIGURE, rounding=ROUND_HALF_UP)


def share(part: Decimal, whole: Decimal) -> Decimal:
    """part / whole * 100 with two decimals; 0 when the whole is 0."""
    if whole == 0:
        return ZERO.quantize(HUNDREDTH)
    return CONTEXT.divide(part * 100, whole).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def to_usd(amount: Decimal, unit: str, credits_per_usd: Decimal | None) -> Decimal:
    """A ledger amount in dollars: USD as it is, credits at the rate in force when spent."""
    if unit == "usd":
        return amount
    if not credits_per_usd:
        return ZERO
    return CONTEXT.divide(amount, credits_per_usd)


def total(values: Iterable[Decimal]) -> Decimal:
    out = ZERO
    for value in values:
        out += value
    return out


def mean(amount: Decimal, count: int) -> Decimal:
    """amount / count with two decimals; 0 when there is nothing to average."""
    if count == 0:
        return ZERO
    return CONTEXT.divide(amount, Decimal(count)).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def per_day(amount: Decimal, days: Decimal) -> Decimal:
    return CONTEXT.divide(amount, max(days, Decimal(1)))


@dataclass(frozen=True)
class Page:
    size: int
    offset: int


def page(size: int, token: str) -> Page:
    if size < 0 or size > MAX_PAGE:
        raise FieldError("page_size", f"must be within 1..{MAX_PAGE}")
    offset = 0
    if token:
        try:
            offset = inputs.count(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("o:"), "")
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise FieldError("page_token", "is not a token this server issued") from None
    return Page(size or DEFAULT_PAGE, offset)


def next_token(current: Page, total_count: int) -> str:
    after = current.offset + current.size
    return base64.urlsafe_b64encode(f"o:{after}".encode()).decode() if after < total_count else ""
