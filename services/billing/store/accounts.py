"""Stripe ids of organizations (customers) and billing meters (meters), and collection settings."""

from __future__ import annotations

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
SELECT stripe_meter_id, stripe_event_name, display_name, aggregation FROM billing_meters WHERE meter = $1"""
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


async def customer_id(conn: asyncpg.Connection, org_id: str) -> str | None:
    value: str | None = await conn.fetchval(SELECT_CUSTOMER, org_id)
    return value


async def org_name(conn: asyncpg.Connection, org_id: str) -> str:
    return str(await conn.fetchval(SELECT_ORG_NAME, org_id) or org_id)


async def save_customer(conn: asyncpg.Connection, org_id: str, stripe_id: str) -> str:
    """Keeps the first id stored (replicas racing on one organization agree through Stripe's
    idempotency key, so the ids are the same anyway)."""
    return str(await conn.fetchval(SAVE_CUSTOMER, org_id, stripe_id))


async def meter(conn: asyncpg.Connection, name: str) -> asyncpg.Record:
    return await conn.fetchrow(SELECT_METER, name)


async def save_meter(conn: asyncpg.Connection, name: str, stripe_id: str) -> str:
    return str(await conn.fetchval(SAVE_METER, name, stripe_id))


async def account(conn: asyncpg.Connection, org_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(SELECT_ACCOUNT, org_id)


async def save_collection(conn: asyncpg.Connection, org_id: str, method: str, days: int | None,
                          payment: str | None) -> asyncpg.Record:
    return await conn.fetchrow(SAVE_COLLECTION, org_id, method, days, payment)


async def customers(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    return [(r["org_id"], r["stripe_customer_id"]) for r in await conn.fetch(SELECT_CUSTOMERS)]
