"""Stripe through its official SDK (async over aiohttp). The SDK's own retries are off: the outbox
decides when to retry, with the same identifier and Idempotency-Key."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
import stripe

from services.billing.config import StripeSettings
from services.billing.domain.retry import Answer

log = logging.getLogger(__name__)
# The SDK may log request lines at INFO; keep it to warnings (it never logs the key, nor do we).
logging.getLogger("stripe").setLevel(logging.WARNING)


class StripeFailure(Exception):
    """A call to Stripe that did not succeed; the message is safe to log and show."""


@dataclass(frozen=True)
class MeterEventResult:
    answer: Answer
    body: dict[str, Any] | None
    request_id: str | None


class StripeGateway:
    def __init__(self, settings: StripeSettings) -> None:
        base = settings.api_base
        http = stripe.AIOHTTPClient(timeout=aiohttp.ClientTimeout(total=settings.timeout_seconds))
        self._client = stripe.StripeClient(
            settings.api_key,
            base_addresses={"api": base, "meter_events": base} if base else None,
            max_network_retries=0,
            http_client=http,
        )
        self._http = http

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]

    async def send_meter_event(self, event_name: str, customer_id: str, value: int, identifier: str,
                               timestamp: datetime, idempotency_key: str) -> MeterEventResult:
        params: Any = {
            "event_name": event_name, "identifier": identifier, "timestamp": int(timestamp.timestamp()),
            "payload": {"stripe_customer_id": customer_id, "value": str(value)},
        }
        try:
            event = await self._client.v1.billing.meter_events.create_async(
                params, {"idempotency_key": idempotency_key})
        except stripe.StripeError as error:
            body = error.json_body if isinstance(error.json_body, dict) else None
            return MeterEventResult(_answer(error), body, error.request_id)
        response = event.last_response
        headers = dict(response.headers) if response is not None else {}
        return MeterEventResult(Answer(200, headers), event.to_dict(),
                                response.request_id if response is not None else None)

    async def create_customer(self, org_id: str, name: str) -> str:
        params: Any = {"name": name, "metadata": {"org_id": org_id}}
        customer = await self._call(self._client.v1.customers.create_async(
            params, {"idempotency_key": f"customer-{org_id}"}))
        return str(customer.id)

    async def meter_id(self, event_name: str, display_name: str, aggregation: str = "sum") -> str:
        """The active Stripe meter for event_name, created when missing with the aggregation
        formula of its billing meter (`sum`, or `last` for a gauge)."""
        page: Any = {"status": "active", "limit": 100}
        while True:
            meters = await self._call(self._client.v1.billing.meters.list_async(page))
            for meter in meters.data:
                if meter.event_name == event_name:
                    return str(meter.id)
            if not meters.has_more:
                break
            page = {**page, "starting_after": meters.data[-1].id}
        params: Any = {
            "display_name": display_name, "event_name": event_name,
            "default_aggregation": {"formula": aggregation},
            "customer_mapping": {"type": "by_id", "event_payload_key": "stripe_customer_id"},
            "value_settings": {"event_payload_key": "value"},
        }
        meter = await self._call(self._client.v1.billing.meters.create_async(
            params, {"idempotency_key": f"meter-{event_name}"}))
        return str(meter.id)

    async def payment_methods(self, customer_id: str) -> list[dict[str, Any]]:
        params: Any = {"limit": 100}
        listed = await self._call(self._client.v1.customers.payment_methods.list_async(customer_id, params))
        return [m.to_dict() for m in listed.data]

    async def setup_intent(self, customer_id: str, types: list[str]) -> tuple[str, str]:
        params: Any = {"customer": customer_id, "payment_method_types": types, "usage": "off_session"}
        intent = await self._call(self._client.v1.setup_intents.create_async(params))
        return str(intent.id), str(intent.client_secret)

    async def portal_session(self, customer_id: str, return_url: str) -> tuple[str, str]:
        params: Any = {"customer": customer_id, "return_url": return_url}
        session = await self._call(self._client.v1.billing_portal.sessions.create_async(params))
        return str(session.id), str(session.url)

    async def invoices(self, customer_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        page: Any = {"customer": customer_id, "limit": 100}
        while True:
            listed = await self._call(self._client.v1.invoices.list_async(page))
            found += [i.to_dict() for i in listed.data]
            if not listed.has_more:
                return found
            page = {**page, "starting_after": listed.data[-1].id}

    async def set_collection(self, subscription_id: str, method: str, days_until_due: int | None,
                             wire: bool) -> None:
        params: Any = {"collection_method": method}
        if days_until_due is not None:
            params["days_until_due"] = days_until_due
        if wire:
            params["payment_settings"] = {"payment_method_types": ["customer_balance"]}
        await self._call(self._client.v1.subscriptions.update_async(subscription_id, params))

    async def _call(self, pending: Any) -> Any:
        try:
            return await pending
        except stripe.StripeError as error:
            raise StripeFailure(_describe(error)) from None


def _answer(error: stripe.StripeError) -> Answer:
    if isinstance(error, stripe.APIConnectionError) or error.http_status is None:
        return Answer(None, {}, _describe(error))
    body = (error.json_body or {}).get("error", {}) if isinstance(error.json_body, dict) else {}
    return Answer(error.http_status, dict(error.headers or {}), str(body.get("message", "")),
                  str(body.get("param", "") or ""))


def _describe(error: stripe.StripeError) -> str:
    """Type, status and Stripe's message (Stripe masks keys in its messages)."""
    if isinstance(error, stripe.APIConnectionError):
        return f"{type(error).__name__}: no response from Stripe"
    body = (error.json_body or {}).get("error", {}) if isinstance(error.json_body, dict) else {}
    return f"{type(error).__name__} {error.http_status}: {body.get('message', '')}"[:500]
