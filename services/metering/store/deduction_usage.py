"""Granted deductions as usage: their LLM tokens under `llm_tokens`, their cost under `credits`.

Written in the deduction's own transaction. Each usage row's key is the deduction's key followed
by a space and what it counts (`k-17 input`, `k-17 credits`): a deduction is stored once under its
key, so its usage is too, and a RecordUsage key (printable, no spaces) never takes one of these.
"""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from services.metering.domain.credits import Deduction
from services.metering.store.usage import NewEvent

INSERT_DEDUCTION_USAGE = """
INSERT INTO usage_events (org_id, idempotency_key, meter, quantity, occurred_at, workspace_id, user_id,
                          source, model, token_kind, deduction_key)
SELECT $1, e.* FROM unnest($2::text[], $3::text[], $4::numeric[], $5::timestamptz[], $6::text[],
                           $7::text[], $8::text[], $9::text[], $10::text[], $11::text[]) AS e
ORDER BY 2
ON CONFLICT (org_id, idempotency_key) DO NOTHING"""

LLM_TOKENS = "llm_tokens"
CREDITS_SPENT = "credits"


def usage_key(idempotency_key: str, counted: str) -> str:
    return f"{idempotency_key} {counted}"


def deduction_of(event: NewEvent) -> str:
    return event.idempotency_key.rsplit(" ", 1)[0]


def usage_of(org_id: str, deductions: Iterable[Deduction]) -> list[NewEvent]:
    events: list[NewEvent] = []
    for d in deductions:
        if not d.granted or (d.amount == 0 and d.llm is None):  # a session that used nothing
            continue
        a = d.attribution
        if d.llm is not None:
            events.extend(
                NewEvent(org_id, usage_key(d.idempotency_key, kind), LLM_TOKENS, count, d.created_at,
                         a.workspace_id, a.user_id, a.source, d.llm.model, kind)
                for kind, count in d.llm.tokens.by_kind().items() if count > 0
            )
        events.append(NewEvent(org_id, usage_key(d.idempotency_key, CREDITS_SPENT), CREDITS_SPENT,
                               d.amount, d.created_at, a.workspace_id, a.user_id, a.source,
                               d.llm.model if d.llm else None))
    return events


async def record_deductions_as_usage(conn: asyncpg.Connection, org_id: str,
                                     deductions: Iterable[Deduction]) -> None:
    events = usage_of(org_id, deductions)
    if not events:
        return
    await conn.execute(
        INSERT_DEDUCTION_USAGE, org_id, [e.idempotency_key for e in events], [e.meter for e in events],
        [e.quantity for e in events], [e.occurred_at for e in events], [e.workspace_id for e in events],
        [e.user_id for e in events], [e.source for e in events], [e.model for e in events],
        [e.token_kind for e in events], [deduction_of(e) for e in events],
    )
