"""Recomputes an organization's balances from its ledger, independently of the server's code."""

from __future__ import annotations

from decimal import Decimal

import asyncpg

GRANT_SUMS = """
SELECT g.grant_id, g.kind, g.remaining, g.expires_at, coalesce(sum(e.amount), 0) AS from_ledger
FROM credit_grants g LEFT JOIN ledger_entries e ON e.org_id = g.org_id AND e.grant_id = g.grant_id
WHERE g.org_id = $1 GROUP BY g.org_id, g.grant_id"""

HOLD_SUMS = """
SELECT h.hold_id, h.status, h.remaining, coalesce(sum(e.hold_amount), 0) AS from_ledger
FROM holds h LEFT JOIN ledger_entries e ON e.org_id = h.org_id AND e.hold_id = h.hold_id
WHERE h.org_id = $1 GROUP BY h.org_id, h.hold_id"""


async def assert_ledger_reproduces_balances(
    conn: asyncpg.Connection, org_id: str, period_used: bool = True
) -> None:
    """Grants and holds equal their ledger sums; the balance row equals its grants and holds.

    `period_used` also checks the period's usage against the deductions made in it (tests that
    move an organization's history in time skip it: deduction times are not moved with it).
    """
    grants = await conn.fetch(GRANT_SUMS, org_id)
    for g in grants:
        assert g["remaining"] == g["from_ledger"], f"grant {g['grant_id']} differs from its ledger"
        assert g["remaining"] >= 0
    holds = await conn.fetch(HOLD_SUMS, org_id)
    for h in holds:
        assert h["remaining"] == h["from_ledger"], f"hold {h['hold_id']} differs from its ledger"
        if h["status"] != "open":
            assert h["remaining"] == 0
    balance = await conn.fetchrow("SELECT * FROM balances WHERE org_id = $1", org_id)
    now = await conn.fetchval("SELECT statement_timestamp()")
    live = [g for g in grants if g["expires_at"] is None or g["expires_at"] > now]
    monthly = sum((g["remaining"] for g in live if g["kind"] != "bonus"), Decimal(0))
    bonus = sum((g["remaining"] for g in live if g["kind"] == "bonus"), Decimal(0))
    reserved = sum((h["remaining"] for h in holds if h["status"] == "open"), Decimal(0))
    assert balance["monthly_remaining"] == monthly
    assert balance["bonus_remaining"] == bonus
    assert balance["reserved"] == reserved
    if not period_used:
        return
    granted = await conn.fetchval(
        "SELECT coalesce(sum(amount), 0) FROM deductions WHERE org_id = $1 AND granted AND created_at >= $2",
        org_id,
        balance["period_start"],
    )
    assert balance["period_used"] == granted


HISTORY_ONE_MONTH_BACK = (
    "UPDATE organizations SET billing_anchor = billing_anchor - interval '1 month' WHERE org_id = $1",
    "UPDATE balances SET period_start = period_start - interval '1 month', "
    "period_end = period_end - interval '1 month' WHERE org_id = $1",
    "UPDATE credit_grants SET expires_at = expires_at - interval '1 month', "
    "period_start = period_start - interval '1 month' WHERE org_id = $1 AND kind = 'monthly'",
)
DEDUCTIONS_ONE_MONTH_BACK = (
    "UPDATE deductions SET created_at = created_at - interval '1 month' WHERE org_id = $1"
)


async def shift_history_back_one_month(
    conn: asyncpg.Connection, org_id: str, deductions: bool = False
) -> None:
    """As if a month had gone by: the period the organization is in has just ended."""
    async with conn.transaction():
        for statement in HISTORY_ONE_MONTH_BACK + ((DEDUCTIONS_ONE_MONTH_BACK,) if deductions else ()):
            await conn.execute(statement, org_id)
