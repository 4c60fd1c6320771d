"""Invoices and the subscription, from the billing worker's own store functions.

The billing worker (services/billing) copies Stripe invoices into `invoices` and computes the
current period's statement (plan, Stripe ids, metered usage and cost from its hourly roll-ups,
projected per-second resources) — the figures Stripe is sent. The usage & billing API shows
exactly those, so the page and the invoice never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg

from services.billing.domain.invoices import display_status
from services.billing.store import invoices as invoice_store
from services.billing.store.statement import Statement, statement
from services.kit.errors import NotFoundError
from services.metering.service.organizations import unknown_organization

NOW = "SELECT statement_timestamp()"


@dataclass(frozen=True)
class Invoice:
    invoice_id: str
    period_start: datetime
    period_end: datetime
    amount: Decimal
    currency: str
    status: str  # paid | pending | overdue | void
    due_date: datetime | None
    pdf_url: str


async def invoices(conn: asyncpg.Connection, org_id: str) -> list[Invoice]:
    now: datetime = await conn.fetchval(NOW)
    return [
        Invoice(r.number or r.stripe_invoice_id, r.period_start, r.period_end, r.total, r.currency,
                display_status(r.stripe_status, r.due_date, now), r.due_date, r.pdf_url or r.hosted_url or "")
        for r in await invoice_store.list_invoices(conn, org_id)
    ]


async def subscription(conn: asyncpg.Connection, org_id: str) -> Statement:
    return await _statement(conn, org_id)


@dataclass(frozen=True)
class InvoiceLine:
    description: str
    meter: str  # "" for the plan's price
    quantity: Decimal | None
    unit: str
    unit_price: Decimal | None
    amount: Decimal


@dataclass(frozen=True)
class InvoiceDetail:
    """An invoice and what it billed: the plan's price and each meter's period figure, as the
    billing worker computed them for Stripe from its hourly roll-ups."""

    invoice: Invoice
    billed: Statement

    @property
    def lines(self) -> list[InvoiceLine]:
        price = self.billed.plan_price_usd
        lines = [InvoiceLine("Plan", "", None, "", price, price)] if price else []
        for m in self.billed.meters:
            quantity, unit = m.display_usage()
            lines.append(InvoiceLine(m.display_name, m.meter, quantity, unit, m.unit_price_usd, m.cost_usd))
        return lines


async def invoice_detail(conn: asyncpg.Connection, org_id: str, invoice_id: str) -> InvoiceDetail:
    found = next((i for i in await invoices(conn, org_id) if i.invoice_id == invoice_id), None)
    if found is None:
        raise NotFoundError("invoice_id", f"invoice {invoice_id!r} does not exist")
    return InvoiceDetail(found, await _statement(conn, org_id, found.period_start))


async def _statement(conn: asyncpg.Connection, org_id: str, now: datetime | None = None) -> Statement:
    figures = await statement(conn, org_id, now)
    if figures is None:
        raise unknown_organization(org_id)
    return figures
