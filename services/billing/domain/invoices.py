"""Stripe invoices with the statuses the billing page shows: Paid, Pending, Overdue, Void."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

# Currencies Stripe counts in whole units (no minor unit).
ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
                "xaf", "xof", "xpf"}


@dataclass(frozen=True)
class InvoiceRecord:
    stripe_invoice_id: str
    number: str | None
    period_start: datetime
    period_end: datetime
    currency: str
    amount_due: Decimal
    amount_paid: Decimal
    total: Decimal
    stripe_status: str
    due_date: datetime | None
    pdf_url: str | None
    hosted_url: str | None
    created_at: datetime


def from_minor_units(amount: int, currency: str) -> Decimal:
    return Decimal(amount) if currency.lower() in ZERO_DECIMAL else Decimal(amount).scaleb(-2)


def _moment(seconds: Any) -> datetime | None:
    return None if seconds in (None, "") else datetime.fromtimestamp(int(seconds), UTC)


def from_stripe(invoice: dict[str, Any]) -> InvoiceRecord:
    currency = str(invoice.get("currency") or "usd")
    created = _moment(invoice.get("created"))
    assert created is not None
    return InvoiceRecord(
        stripe_invoice_id=str(invoice["id"]), number=invoice.get("number"),
        period_start=_moment(invoice.get("period_start")) or created,
        period_end=_moment(invoice.get("period_end")) or created,
        currency=currency,
        amount_due=from_minor_units(int(invoice.get("amount_due") or 0), currency),
        amount_paid=from_minor_units(int(invoice.get("amount_paid") or 0), currency),
        total=from_minor_units(int(invoice.get("total") or 0), currency),
        stripe_status=str(invoice.get("status") or "draft"),
        due_date=_moment(invoice.get("due_date")), pdf_url=invoice.get("invoice_pdf"),
        hosted_url=invoice.get("hosted_invoice_url"), created_at=created,
    )


def display_status(stripe_status: str, due_date: datetime | None, now: datetime) -> str:
    """paid -> Paid; open past its due date -> Overdue; draft/open -> Pending; void/uncollectible -> Void."""
    if stripe_status == "paid":
        return "paid"
    if stripe_status in ("void", "uncollectible"):
        return "void"
    if stripe_status == "open" and due_date is not None and due_date < now:
        return "overdue"
    return "pending"
