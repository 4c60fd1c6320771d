"""Granted deductions as usage: their LLM tokens under `llm_tokens`, their cost under `credits`.

Written by the batch's own write (`credit_books.save_book`). Each usage row's key is the
deduction's key followed by a space and what it counts (`k-17 input`, `k-17 credits`): a
deduction is stored once under its key, so its usage is too, and a RecordUsage key (printable,
no spaces) never takes one of these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from services.kit.row_sets import column
from services.metering.domain.credits import Deduction

LLM_TOKENS = "llm_tokens"
CREDITS_SPENT = "credits"


@dataclass(frozen=True)
class DeductionUsage:
    """A usage row of a granted deduction (its organization is the batch's)."""

    idempotency_key: str = column("text")
    meter: str = column("text")
    quantity: Decimal = column("numeric")
    occurred_at: datetime = column("timestamptz")
    workspace_id: str | None = column("text")
    user_id: str | None = column("text")
    source: str | None = column("text")
    model: str | None = column("text")
    token_kind: str | None = column("text")
    deduction_key: str = column("text")


def usage_key(idempotency_key: str, counted: str) -> str:
    return f"{idempotency_key} {counted}"


def usage_of(deductions: Iterable[Deduction]) -> list[DeductionUsage]:
    rows: list[DeductionUsage] = []
    for d in deductions:
        if not d.granted or (d.amount == 0 and d.llm is None):  # a session that used nothing
            continue
        a = d.attribution
        if d.llm is not None:
            rows.extend(
                DeductionUsage(usage_key(d.idempotency_key, kind), LLM_TOKENS, count, d.created_at,
                               a.workspace_id, a.user_id, a.source, d.llm.model, kind, d.idempotency_key)
                for kind, count in d.llm.tokens.by_kind().items() if count > 0
            )
        rows.append(DeductionUsage(usage_key(d.idempotency_key, CREDITS_SPENT), CREDITS_SPENT, d.amount,
                                   d.created_at, a.workspace_id, a.user_id, a.source,
                                   d.llm.model if d.llm else None, None, d.idempotency_key))
    return rows
