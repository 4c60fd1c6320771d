"""Loading an organization's CreditBook and saving what a batch changed: one statement each way.

Both run inside the batch transaction after the balance row lock is taken (a separate statement:
a read folded into the locking statement would see the snapshot from before the lock wait).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from services.metering.domain.credits import (
    ON_ACCOUNT,
    Attribution,
    Balance,
    CreditBook,
    Deduction,
    DenialReason,
    Grant,
    Hold,
    ReserveOp,
    Unit,
)
from services.metering.domain.pricing import LlmUsage, TokenCounts
from services.metering.store.periods import credits_unlimited

# Stored results of the batch's idempotency keys, the holds it names or that have expired, their
# allocations, and every grant with credits left (or holding a loaded hold's credits), as JSON.
READ_BOOK = """
WITH named_holds AS (
    SELECT hold_id, amount, remaining, status, expires_at, created_at, model, tokens, denial_reason,
           monthly_remaining, bonus_remaining, reserved
    FROM holds
    WHERE org_id = $1 AND (hold_id = ANY($3::text[]) OR (status = 'open' AND expires_at <= $4))
), open_allocations AS (
    SELECT a.hold_id, a.grant_id, a.remaining
    FROM hold_allocations a JOIN named_holds h ON h.hold_id = a.hold_id AND h.status = 'open'
    WHERE a.org_id = $1
)
SELECT
    (SELECT coalesce(json_agg(d), '[]') FROM deductions d
     WHERE d.org_id = $1 AND d.idempotency_key = ANY($2::text[])) AS deductions,
    (SELECT coalesce(json_agg(h), '[]') FROM named_holds h) AS holds,
    (SELECT coalesce(json_agg(a), '[]') FROM open_allocations a) AS allocations,
    (SELECT coalesce(json_agg(g), '[]') FROM (
        SELECT grant_id, kind, remaining, expires_at FROM credit_grants
        WHERE org_id = $1 AND (remaining > 0 OR grant_id IN (SELECT grant_id FROM open_allocations))
     ) g) AS grants"""

WRITE_BOOK = """
WITH ledger AS (
    INSERT INTO ledger_entries (org_id, kind, grant_id, hold_id, amount, hold_amount, reference, created_at)
    SELECT $1, e.kind, e.grant_id, e.hold_id, e.amount, e.hold_amount, e.reference, $2
    FROM unnest($3::text[], $4::bigint[], $5::text[], $6::numeric[], $7::numeric[], $8::text[])
         AS e(kind, grant_id, hold_id, amount, hold_amount, reference)
), grants AS (
    UPDATE credit_grants g SET remaining = u.remaining
    FROM unnest($9::bigint[], $10::numeric[]) AS u(grant_id, remaining)
    WHERE g.org_id = $1 AND g.grant_id = u.grant_id
), held AS (
    INSERT INTO holds (org_id, hold_id, amount, remaining, status, expires_at, created_at, closed_at,
                       model, tokens, denial_reason, monthly_remaining, bonus_remaining, reserved)
    SELECT $1, h.hold_id, h.amount, h.remaining, h.status, h.expires_at, h.created_at,
           CASE WHEN h.status IN ('released', 'expired') THEN $2 END,
           h.model, h.tokens::jsonb, h.denial_reason, h.monthly_remaining, h.bonus_remaining, h.reserved
    FROM unnest($11::text[], $12::numeric[], $13::numeric[], $14::text[], $15::timestamptz[],
                $16::timestamptz[], $41::text[], $42::text[], $43::text[], $44::numeric[], $45::numeric[],
                $46::numeric[])
         AS h(hold_id, amount, remaining, status, expires_at, created_at, model, tokens, denial_reason,
              monthly_remaining, bonus_remaining, reserved)
    ON CONFLICT (org_id, hold_id) DO UPDATE
    SET remaining = EXCLUDED.remaining, status = EXCLUDED.status, closed_at = EXCLUDED.closed_at,
        expires_at = EXCLUDED.expires_at
), allocations AS (
    INSERT INTO hold_allocations (org_id, hold_id, grant_id, remaining)
    SELECT $1, a.hold_id, a.grant_id, a.remaining
    FROM unnest($17::text[], $18::bigint[], $19::numeric[]) AS a(hold_id, grant_id, remaining)
    ON CONFLICT (org_id, hold_id, grant_id) DO UPDATE SET remaining = EXCLUDED.remaining
), deducted AS (
    INSERT INTO deductions (org_id, idempotency_key, amount, unit, granted, denial_reason, from_hold,
                            from_monthly, from_bonus, hold_id, monthly_remaining, bonus_remaining,
                            reserved, workspace_id, user_id, source, model, tokens, created_at)
    SELECT $1, d.key, d.amount, d.unit, d.granted, d.denial_reason, d.from_hold, d.from_monthly,
           d.from_bonus, d.hold_id, d.monthly_remaining, d.bonus_remaining, d.reserved,
           d.workspace_id, d.user_id, d.source, d.model, d.tokens::jsonb, $2
    FROM unnest($20::text[], $21::numeric[], $22::text[], $23::bool[], $24::text[], $25::numeric[],
                $26::numeric[], $27::numeric[], $28::text[], $29::numeric[], $30::numeric[],
                $31::numeric[], $32::text[], $33::text[], $34::text[], $35::text[], $36::text[])
         AS d(key, amount, unit, granted, denial_reason, from_hold, from_monthly, from_bonus, hold_id,
              monthly_remaining, bonus_remaining, reserved, workspace_id, user_id, source, model, tokens)
)
UPDATE balances
SET monthly_remaining = $37, bonus_remaining = $38, reserved = $39, period_used = $40, updated_at = $2
WHERE org_id = $1"""


def _json(text: str) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads(text, parse_float=Decimal, parse_int=Decimal)
    return loaded


def _when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


async def load_book(conn: asyncpg.Connection, org_id: str, org: Mapping[str, Any], unit: Unit,
                    keys: list[str], hold_ids: list[str]) -> tuple[CreditBook, dict[str, Deduction]]:
    """The organization's book, and the stored results of `keys` that were used before."""
    now: datetime = org["now"]
    row = await conn.fetchrow(READ_BOOK, org_id, keys, hold_ids, now)
    holds = {h["hold_id"]: hold_from_json(h, unit) for h in _json(row["holds"])}
    for a in _json(row["allocations"]):
        holds[a["hold_id"]].allocations[int(a["grant_id"])] = a["remaining"]
    grants = [Grant(int(g["grant_id"]), g["kind"], g["remaining"], _when(g["expires_at"]))
              for g in _json(row["grants"])]
    book = CreditBook(unit, grants, holds.values(), org["reserved"], org["period_used"], now,
                      hard_limit=org["hard_limit"], unlimited=credits_unlimited(org))
    stored = {d["idempotency_key"]: deduction_from_json(d) for d in _json(row["deductions"])}
    return book, stored


def hold_from_json(h: Mapping[str, Any], unit: Unit) -> Hold:
    expires_at, created_at = datetime.fromisoformat(h["expires_at"]), datetime.fromisoformat(h["created_at"])
    hold = Hold(h["hold_id"], h["amount"], h["remaining"], h["status"], expires_at, created_at)
    if h["monthly_remaining"] is not None:  # the Reserve's request and answer were kept
        hold.request = ReserveOp(h["hold_id"], _llm(h) or h["amount"], expires_at - created_at)
        hold.denial_reason = DenialReason(h["denial_reason"]) if h["denial_reason"] else None
        hold.balance_after = Balance(unit, h["monthly_remaining"], h["bonus_remaining"], h["reserved"])
    return hold


def _llm(row: Mapping[str, Any]) -> LlmUsage | None:
    if not row["model"]:
        return None
    counts = row["tokens"] or {}
    return LlmUsage(row["model"], TokenCounts(**{k: Decimal(v) for k, v in counts.items()}))


def deduction_from_json(d: Mapping[str, Any]) -> Deduction:
    unit = Unit(d["unit"])
    llm = _llm(d)
    return Deduction(
        idempotency_key=d["idempotency_key"], granted=d["granted"],
        denial_reason=DenialReason(d["denial_reason"]) if d["denial_reason"] else None,
        amount=d["amount"], unit=unit, from_hold=d["from_hold"], from_monthly=d["from_monthly"],
        from_bonus=d["from_bonus"], hold_id=d["hold_id"],
        balance=Balance(unit, d["monthly_remaining"], d["bonus_remaining"], d["reserved"]),
        created_at=datetime.fromisoformat(d["created_at"]),
        attribution=Attribution(d["workspace_id"], d["user_id"], d["source"]),
        llm=llm, replayed=True,
    )


async def save_book(conn: asyncpg.Connection, org_id: str, book: CreditBook) -> None:
    """Writes the batch's ledger rows, grant and hold changes, deductions and the balance."""
    e, ds = book.entries, book.new_deductions
    grant_ids = sorted(book.changed_grants)
    holds = [book.holds[h] for h in sorted(book.changed_holds)]
    allocations = [(h.hold_id, g, left) for h in holds for g, left in sorted(h.allocations.items())]
    balance = book.balance()
    await conn.execute(
        WRITE_BOOK, org_id, book.now,
        [x.kind for x in e], [None if x.grant_id == ON_ACCOUNT else x.grant_id for x in e],
        [x.hold_id for x in e], [x.amount for x in e],
        [x.hold_amount for x in e], [x.reference for x in e],
        grant_ids, [book.grants[i].remaining for i in grant_ids],
        [h.hold_id for h in holds], [h.amount for h in holds], [h.remaining for h in holds],
        [h.status for h in holds], [h.expires_at for h in holds], [h.created_at for h in holds],
        [a[0] for a in allocations], [a[1] for a in allocations], [a[2] for a in allocations],
        [d.idempotency_key for d in ds], [d.amount for d in ds], [d.unit.value for d in ds],
        [d.granted for d in ds], [d.denial_reason.value if d.denial_reason else None for d in ds],
        [d.from_hold for d in ds], [d.from_monthly for d in ds], [d.from_bonus for d in ds],
        [d.hold_id for d in ds], [d.balance.monthly_remaining for d in ds],
        [d.balance.bonus_remaining for d in ds], [d.balance.reserved for d in ds],
        [d.attribution.workspace_id for d in ds], [d.attribution.user_id for d in ds],
        [d.attribution.source for d in ds], [d.llm.model if d.llm else None for d in ds],
        [json.dumps(d.llm.tokens.as_json()) if d.llm else None for d in ds],
        balance.monthly_remaining, balance.bonus_remaining, balance.reserved, book.period_used,
        *_reserve_columns(holds),
    )


def _reserve_columns(holds: list[Hold]) -> tuple[list[Any], ...]:
    """What each new hold's Reserve asked and answered (holds already stored keep theirs)."""
    llm = [h.request.cost if h.request and isinstance(h.request.cost, LlmUsage) else None for h in holds]
    after = [h.balance_after for h in holds]
    return (
        [u.model if u else None for u in llm],
        [json.dumps(u.tokens.as_json()) if u else None for u in llm],
        [h.denial_reason.value if h.denial_reason else None for h in holds],
        [b.monthly_remaining if b else None for b in after],
        [b.bonus_remaining if b else None for b in after],
        [b.reserved if b else None for b in after],
    )
