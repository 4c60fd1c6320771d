"""Stripe invoices copied into the database for the billing page."""

from __future__ import annotations

from dataclasses import astuple
from datetime import datetime

import asyncpg

from services.billing.domain.invoices import InvoiceRecord

UPSERT_INVOICE = """
INSERT INTO invoices (org_id, stripe_invoice_id, number, period_start, period_end, currency, amount_due,
                      amount_paid, total, stripe_status, due_date, pdf_url, hosted_url, created_at, synced_at)
SELECT $1, i.*, $15
FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::text[], $7::numeric[],
            $8::numeric[], $9::numeric[], $10::text[], $11::timestamptz[], $12::text[], $13::text[],
            $14::timestamptz[]) AS i
ON CONFLICT (org_id, stripe_invoice_id) DO UPDATE SET
    number = excluded.number, period_start = excluded.period_start, period_end = excluded.period_end,
    currency = excluded.currency, amount_due = excluded.amount_due, amount_paid = excluded.amount_paid,
    total = excluded.total, stripe_status = excluded.stripe_status, due_date = excluded.due_date,
    pdf_url = excluded.pdf_url, hosted_url = excluded.hosted_url, synced_at = excluded.synced_at"""
SELECT_INVOICES = """
SELECT stripe_invoice_id, number, period_start, period_end, currency, amount_due, amount_paid, total,
       stripe_status, due_date, pdf_url, hosted_url, created_at
FROM invoices WHERE org_id = $1 ORDER BY period_start DESC, created_at DESC"""


async def save_invoices(conn: asyncpg.Connection, org_id: str, records: list[InvoiceRecord],
                        synced_at: datetime) -> int:
    """Stores the copies in one statement: all of them or none."""
    columns = list(zip(*(astuple(r)[:13] for r in records), strict=True)) or [()] * 13
    await conn.execute(UPSERT_INVOICE, org_id, *(list(c) for c in columns), synced_at)
    return len(records)


async def list_invoices(conn: asyncpg.Connection, org_id: str) -> list[InvoiceRecord]:
    """An organization's invoices, newest period first (callable by any transport)."""
    return [InvoiceRecord(**dict(r)) for r in await conn.fetch(SELECT_INVOICES, org_id)]
