"""Granted deductions as usage: their LLM tokens under `llm_tokens`, their cost under `credits`.

Written in the deduction's own transaction. Each usage row's key is the deduction's key followed
by a space and what it counts (`k-17 input`, `k-17 credits`): a deduction is stored once under its
key, so its usage is too, and a RecordUsage key (printable, no spaces) never takes one of these.
"""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from services.domain.credits import Deduction
from services.metering.store.usage import NewEvent, insert_events

LLM_TOKENS = "llm_tokens"
CREDITS_SPENT = "credits"


def usage_key(idempotency_key: str, counted: str) -> str:
    return f"{idempotency_key} {counted}"


def usage_of(org_id: str, deductions: Iterable[Deduction]) -> list[NewEvent]:
    events: list[NewEvent] = []
    for d in deductions:
        if not d.granted:
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
    await insert_events(conn, usage_of(org_id, deductions))
