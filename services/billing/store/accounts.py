"""Stripe ids of organizations (customers) and billing meters (meters), and collection settings."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

SELECT_CUSTOMER = "SELECT stripe_customer_id FROM billing_accounts WHERE org_id = $1"
SELECT_ORG_NAME = "SELECT name FROM organizations WHERE org_id = $1"
SAVE_CUSTOMER = """
INSERT INTO billing_accounts (org_id, stripe_customer_id, updated_at) VALUES ($1, $2, now())
ON CONFLICT (org_id) DO UPDATE
SET stripe_customer_id = coalesce(billing_accounts.stripe_customer_id, excluded.stripe_customer_id),
    updated_at = excluded.updated_at
RETURNING stripe_customer_id"""
SELECT_METER = """
SELECT meter, stripe_meter_id, stripe_event_name, display_name, aggregation FROM billing_meters
WHERE meter = $1"""
SAVE_METER = """
UPDATE billing_meters SET stripe_meter_id = coalesce(stripe_meter_id, $2) WHERE meter = $1
RETURNING stripe_meter_id"""
SELECT_ACCOUNT = """
SELECT org_id, stripe_customer_id, stripe_subscription_id, collection_method, days_until_due,
       invoice_payment
FROM billing_accounts WHERE org_id = $1"""
SAVE_COLLECTION = """
INSERT INTO billing_accounts (org_id, collection_method, days_until_due, invoice_payment, updated_at)
VALUES ($1, $2, $3, $4, now())
ON CONFLICT (org_id) DO UPDATE SET collection_method = excluded.collection_method,
    days_until_due = excluded.days_until_due, invoice_payment = excluded.invoice_payment,
    updated_at = excluded.updated_at
RETURNING org_id, stripe_customer_id, stripe_subscription_id, collection_method, days_until_due,
          invoice_payment"""
SELECT_CUSTOMERS = """
SELECT org_id, stripe_customer_id FROM billing_accounts
WHERE stripe_customer_id IS NOT NULL ORDER BY org_id"""


@dataclass(frozen=True)
class BillingMeter:
    """A billing meter as Stripe knows it; stripe_meter_id is None until the meter is created there."""

    meter: str
    stripe_meter_id: str | None
    stripe_event_name: str
    display_name: str
    aggregation: str


@dataclass(frozen=True)
class BillingAccount:
    """An organization's Stripe ids and how its invoices are collected."""

    org_id: str
    stripe_customer_id: str | None
    stripe_subscription_id: str | None
    collection_method: str  # "charge_automatically" or "send_invoice"
    days_until_due: int | None
    invoice_payment: str | None  # "invoice" or "wire" when sent as an invoice


async def customer_id(conn: asyncpg.Connection, org_id: str) -> str | None:
    value: str | None = await conn.fetchval(SELECT_CUSTOMER, org_id)
    return value


async def org_name(conn: asyncpg.Connection, org_id: str) -> str:
    return str(await conn.fetchval(SELECT_ORG_NAME, org_id) or org_id)


async def save_customer(conn: asyncpg.Connection, org_id: str, stripe_id: str) -> str:
    """Keeps the first id stored (replicas racing on one organization agree through Stripe's
    idempotency key, so the ids are the same anyway)."""
    return str(await conn.fetchval(SAVE_CUSTOMER, org_id, stripe_id))


async def meter(conn: asyncpg.Connection, name: str) -> BillingMeter | None:
    row = await conn.fetchrow(SELECT_METER, name)
    return None if row is None else BillingMeter(**dict(row))


async def save_meter(conn: asyncpg.Connection, name: str, stripe_id: str) -> str:
    return str(await conn.fetchval(SAVE_METER, name, stripe_id))


async def account(conn: asyncpg.Connection, org_id: str) -> BillingAccount | None:
    row = await conn.fetchrow(SELECT_ACCOUNT, org_id)
    return None if row is None else _account(row)


async def save_collection(conn: asyncpg.Connection, org_id: str, method: str, days: int | None,
                          payment: str | None) -> BillingAccount:
    return _account(await conn.fetchrow(SAVE_COLLECTION, org_id, method, days, payment))


async def customers(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    return [(r["org_id"], r["stripe_customer_id"]) for r in await conn.fetch(SELECT_CUSTOMERS)]


def _account(row: asyncpg.Record) -> BillingAccount:
    return BillingAccount(**dict(row))
