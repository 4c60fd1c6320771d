"""Payment methods and collection: the organization's Stripe customer, cards and US bank
accounts, portal and SetupIntent sessions, and invoice (net-N) or wire collection for Enterprise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from services.billing.config import StripeSettings
from services.billing.store import accounts
from services.billing.store.stripe_gateway import StripeGateway
from services.kit.config import ConfigError
from services.kit.errors import FieldError, StateConflictError
from services.metering.service.organizations import require_organization

DEFAULT_DAYS_UNTIL_DUE = 30
INVOICE_PLANS = {"enterprise"}


@dataclass(frozen=True)
class PaymentMethod:
    payment_method_id: str
    type: str  # "card" or "us_bank_account"
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class Collection:
    method: str  # "charge_automatically", "invoice" or "wire"
    days_until_due: int | None


async def ensure_customer(conn: asyncpg.Connection, gateway: StripeGateway, org_id: str) -> str:
    """The organization's Stripe customer id, created (idempotently) when it has none yet."""
    found = await accounts.customer_id(conn, org_id)
    if found is not None:
        return found
    created = await gateway.create_customer(org_id, await accounts.org_name(conn, org_id))
    return await accounts.save_customer(conn, org_id, created)


async def payment_methods(conn: asyncpg.Connection, gateway: StripeGateway,
                          org_id: str) -> tuple[list[PaymentMethod], Collection]:
    await require_organization(conn, org_id)
    customer = await ensure_customer(conn, gateway, org_id)
    methods = [_method(m) for m in await gateway.payment_methods(customer)]
    return [m for m in methods if m is not None], await collection(conn, org_id)


async def setup_session(conn: asyncpg.Connection, gateway: StripeGateway, org_id: str, portal: bool,
                        return_url: str | None, types: list[str]) -> tuple[str, str, str]:
    """(session id, portal URL, SetupIntent client secret): one of the last two is empty."""
    await require_organization(conn, org_id)
    customer = await ensure_customer(conn, gateway, org_id)
    if portal:
        assert return_url is not None
        session_id, url = await gateway.portal_session(customer, return_url)
        return session_id, url, ""
    intent_id, secret = await gateway.setup_intent(customer, types)
    return intent_id, "", secret


async def set_collection(conn: asyncpg.Connection, gateway: StripeGateway, org_id: str, method: str,
                         days_until_due: int | None) -> Collection:
    org = await require_organization(conn, org_id)
    if method != "charge_automatically" and org.plan_id not in INVOICE_PLANS:
        raise FieldError("collection_method", "invoice and wire payment are for Enterprise plans")
    days = None if method == "charge_automatically" else (days_until_due or DEFAULT_DAYS_UNTIL_DUE)
    stripe_method = "charge_automatically" if days is None else "send_invoice"
    payment = None if days is None else method
    account = await accounts.save_collection(conn, org_id, stripe_method, days, payment)
    if account.stripe_subscription_id:
        await gateway.set_collection(account.stripe_subscription_id, stripe_method, days, method == "wire")
    return Collection(method, days)


async def collection(conn: asyncpg.Connection, org_id: str) -> Collection:
    account = await accounts.account(conn, org_id)
    if account is None or account.collection_method == "charge_automatically":
        return Collection("charge_automatically", None)
    return Collection(account.invoice_payment or "invoice", account.days_until_due)


def _method(raw: dict[str, Any]) -> PaymentMethod | None:
    if raw.get("type") == "card":
        card = raw.get("card") or {}
        return PaymentMethod(str(raw["id"]), "card", str(card.get("brand", "")), str(card.get("last4", "")),
                             int(card.get("exp_month") or 0), int(card.get("exp_year") or 0))
    if raw.get("type") == "us_bank_account":
        bank = raw.get("us_bank_account") or {}
        return PaymentMethod(str(raw["id"]), "us_bank_account", str(bank.get("bank_name", "")),
                             str(bank.get("last4", "")), 0, 0)
    return None


class Payments:
    """The payment calls of the gRPC and HTTP APIs, each with a connection of its own. The Stripe
    client is made on first use, so a server without STRIPE_API_KEY serves everything else and
    answers these with FAILED_PRECONDITION."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._gateway: StripeGateway | None = None

    def _stripe(self) -> StripeGateway:
        if self._gateway is None:
            try:
                self._gateway = StripeGateway(StripeSettings.from_env())
            except ConfigError as error:
                raise StateConflictError("stripe", f"Stripe is not configured: {error}") from None
        return self._gateway

    async def methods(self, org_id: str) -> tuple[list[PaymentMethod], Collection]:
        gateway = self._stripe()
        async with self.pool.acquire() as conn:
            return await payment_methods(conn, gateway, org_id)

    async def setup(self, org_id: str, portal: bool, return_url: str | None,
                    types: list[str]) -> tuple[str, str, str]:
        gateway = self._stripe()
        async with self.pool.acquire() as conn:
            return await setup_session(conn, gateway, org_id, portal, return_url, types)

    async def choose_collection(self, org_id: str, method: str, days_until_due: int | None) -> Collection:
        gateway = self._stripe()
        async with self.pool.acquire() as conn:
            return await set_collection(conn, gateway, org_id, method, days_until_due)
