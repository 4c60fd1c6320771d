"""Stripe invoices copied into the database for the product pages."""

from __future__ import annotations

from dataclasses import astuple
from datetime import datetime

import asyncpg

from services.billing.domain.invoices import InvoiceRecord

UPSERT_INVOICE = """
INSERT INTO invoices (org_id, stripe_invoice_id, number, period_start, period_end, currency, amount_due,
                      amount_paid, total, stripe_status, due_date, pdf_url, hosted_url, created_at, synced_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
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
    await conn.executemany(UPSERT_INVOICE, [(org_id, *astuple(r)[:13], synced_at) for r in records])
    return len(records)


async def list_invoices(conn: asyncpg.Connection, org_id: str) -> list[InvoiceRecord]:
    """An organization's invoices, newest period first (callable by any transport)."""
    return [InvoiceRecord(**dict(r)) for r in await conn.fetch(SELECT_INVOICES, org_id)]
