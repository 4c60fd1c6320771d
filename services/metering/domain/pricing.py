"""LLM token pricing: tokens by kind times the model's USD price per million, then credits."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from services.kit.decimals import CONTEXT, ZERO

MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class TokenCounts:
    input: Decimal = ZERO
    output: Decimal = ZERO
    cache_read: Decimal = ZERO
    cache_write: Decimal = ZERO

    def as_json(self) -> dict[str, str]:
        return {k: str(v) for k, v in vars(self).items()}

    def by_kind(self) -> dict[str, Decimal]:
        """The counts by token kind (input, output, cache_read, cache_write)."""
        return dict(vars(self))

    @property
    def total(self) -> Decimal:
        return self.input + self.output + self.cache_read + self.cache_write


@dataclass(frozen=True)
class LlmUsage:
    """The cost of an LLM call, given as tokens for the server to price."""

    model: str
    tokens: TokenCounts


@dataclass(frozen=True)
class LlmPrice:
    """USD per million tokens of each kind, in force from some moment on."""

    model: str
    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write: Decimal


def llm_cost_usd(price: LlmPrice, tokens: TokenCounts) -> Decimal:
    parts = (
        CONTEXT.multiply(tokens.input, price.input),
        CONTEXT.multiply(tokens.output, price.output),
        CONTEXT.multiply(tokens.cache_read, price.cache_read),
        CONTEXT.multiply(tokens.cache_write, price.cache_write),
    )
    total = ZERO
    for part in parts:
        total = CONTEXT.add(total, part)
    return CONTEXT.divide(total, MILLION)


def usd_to_credits(usd: Decimal, credits_per_usd: Decimal) -> Decimal:
    return CONTEXT.multiply(usd, credits_per_usd)
