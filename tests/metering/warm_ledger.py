"""What the warm-book tests share: a ledger whose book is warm, the figures they check, and the
token usage whose price they work out by hand."""

from __future__ import annotations

from decimal import Decimal

import asyncpg

from services.metering.domain.credits import DeductOp
from services.metering.domain.pricing import LlmUsage, TokenCounts
from services.metering.service.credit_ledger import CreditLedger
from tests.metering.ledger_checks import assert_ledger_reproduces_balances

# The `statements` fixture: a pool of one connection, and the kind of every statement it ran.
Statements = tuple[asyncpg.Pool, list[str]]
# Per million tokens: input $3, output $15; 100 credits per USD. 1,000 input and 2,000 output
# tokens: $0.003 + $0.03 = $0.033, 3.3 credits.
TOKENS = LlmUsage("claude-sonnet-4", TokenCounts(input=Decimal(1000), output=Decimal(2000)))


async def warm_ledger(statements: Statements, org: str) -> tuple[CreditLedger, list[str]]:
    """A ledger on the statements' pool, whose book of `org` is warm after a committed batch (a
    deduction of 7 credits, key `k-1`); and the kinds of the statements run since (none yet)."""
    ledger_pool, seen = statements
    ledger = CreditLedger(ledger_pool)
    await ledger.deduct(org, DeductOp("k-1", Decimal(7)))
    seen.clear()
    return ledger, seen


def kinds(seen: list[str]) -> list[str]:
    """The statement kinds, the pool's reset query and other plain reads aside."""
    return [s for s in seen if s != "SELECT"]


async def figures(pool: asyncpg.Pool, org: str) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """The balance row's monthly and bonus credits left, credits held, and the period's use."""
    row = await pool.fetchrow("SELECT monthly_remaining, bonus_remaining, reserved, period_used "
                              "FROM balances WHERE org_id = $1", org)
    return row["monthly_remaining"], row["bonus_remaining"], row["reserved"], row["period_used"]


async def tokens_counted(pool: asyncpg.Pool, org: str) -> Decimal:
    """The LLM tokens the organization's `llm_tokens` quota has counted this period."""
    used: Decimal = await pool.fetchval(
        "SELECT used FROM quotas WHERE org_id = $1 AND resource = 'llm_tokens'", org)
    return used


async def reproduced(pool: asyncpg.Pool, org: str) -> None:
    async with pool.acquire() as conn:
        await assert_ledger_reproduces_balances(conn, org)
