"""The Stripe side of the demo organizations, on the bundled Stripe test server of this run.

The test server keeps its state in memory, so each `metering dev` start gives every demo
organization a new Stripe customer (any id stored by an earlier run is forgotten first), a saved
test card, and a paid invoice of its plan's price for the billing period before the current one;
the invoices are then copied into the database as the billing worker does every hour, so the
invoice list has them at once. Payment-method RPCs of the server use the same test server.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import aiohttp
import asyncpg

from services.billing.config import StripeSettings
from services.billing.service.payments import ensure_customer
from services.billing.service.worker import copy_invoices
from services.billing.store.stripe_gateway import StripeGateway
from services.metering.domain.billing_period import add_months, period_containing

FORGET_STRIPE_IDS = """
UPDATE billing_accounts SET stripe_customer_id = NULL, stripe_subscription_id = NULL WHERE org_id = $1"""
SELECT_DEMO_ORGANIZATION = """
SELECT o.name, o.billing_anchor, p.price_usd FROM organizations o JOIN plans p ON p.plan_id = o.plan_id
WHERE o.org_id = $1"""


async def stock_demo_billing(dsn: str, stripe: StripeSettings, org_ids: list[str],
                             now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    assert stripe.api_base is not None
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    gateway = StripeGateway(stripe)
    try:
        async with aiohttp.ClientSession(base_url=stripe.api_base) as test_server:
            for org_id in org_ids:
                async with pool.acquire() as conn:
                    await conn.execute(FORGET_STRIPE_IDS, org_id)
                    customer = await ensure_customer(conn, gateway, org_id)
                    org = await conn.fetchrow(SELECT_DEMO_ORGANIZATION, org_id)
                await _post(test_server, "/_test/payment_methods",
                            {"customer": customer, "type": "card", "brand": "visa", "last4": "4242"})
                await _post(test_server, "/_test/invoices", _last_invoice(org_id, customer, org, now))
        await copy_invoices(pool, gateway, now)
    finally:
        await gateway.close()
        await pool.close()


def _last_invoice(org_id: str, customer: str, org: asyncpg.Record, now: datetime) -> dict[str, object]:
    current = period_containing(org["billing_anchor"], now)
    start, end = add_months(current.start, -1), current.start
    cents = int((org["price_usd"] or Decimal(0)) * 100)
    return {"id": f"in_demo_{org_id}_{start:%Y%m}", "customer": customer,
            "number": f"DEMO-{org_id.upper()}-{start:%Y%m}", "currency": "usd", "amount_due": cents,
            "amount_paid": cents, "total": cents, "status": "paid", "period_start": int(start.timestamp()),
            "period_end": int(end.timestamp()), "created": int(end.timestamp())}


async def _post(session: aiohttp.ClientSession, path: str, body: dict[str, object]) -> None:
    async with session.post(path, json=body) as answer:
        answer.raise_for_status()
