"""The objects the test server keeps and the rules Stripe applies to them."""

from __future__ import annotations

import re
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MAX_EVENT_AGE_SECONDS = 35 * 86_400
MAX_EVENT_FUTURE_SECONDS = 5 * 60
_WHOLE = re.compile(r"^-?\d+$")
Obj = dict[str, Any]


class StripeApiError(Exception):
    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None,
                 kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.kind = status, message, param, code, kind

    def body(self) -> Obj:
        error: Obj = {"type": self.kind, "message": self.message}
        if self.param:
            error["param"] = self.param
        if self.code:
            error["code"] = self.code
        return {"error": error}


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _required(params: Obj, name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or value == "":
        raise StripeApiError(400, f"Missing required param: {name}.", param=name, code="parameter_missing")
    return value


def _listing(items: list[Obj], url: str, params: Obj) -> Obj:
    limit = int(params.get("limit", 10))
    if not 1 <= limit <= 100:
        raise StripeApiError(400, "Invalid integer: limit must be between 1 and 100", param="limit")
    after = params.get("starting_after")
    if after:
        ids = [i["id"] for i in items]
        if after not in ids:
            raise StripeApiError(404, f"No such object: '{after}'", param="starting_after",
                                 code="resource_missing")
        items = items[ids.index(after) + 1:]
    return {"object": "list", "data": items[:limit], "has_more": len(items) > limit, "url": url}


@dataclass
class StripeState:
    customers: dict[str, Obj] = field(default_factory=dict)
    meters: dict[str, Obj] = field(default_factory=dict)
    meter_events: list[Obj] = field(default_factory=list)
    identifiers: set[str] = field(default_factory=set)
    invoices: list[Obj] = field(default_factory=list)
    payment_methods: list[Obj] = field(default_factory=list)
    subscriptions: dict[str, Obj] = field(default_factory=dict)
    setup_intents: list[Obj] = field(default_factory=list)
    portal_sessions: list[Obj] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    attempts: Counter[str] = field(default_factory=Counter)
    """Meter event requests received per identifier (whatever their outcome)."""

    # --- customers ------------------------------------------------------------------------

    def create_customer(self, params: Obj) -> Obj:
        customer: Obj = {"id": new_id("cus"), "object": "customer", "created": int(time.time()),
                    "name": params.get("name"), "email": params.get("email"),
                    "metadata": params.get("metadata") or {}, "livemode": False,
                    "invoice_settings": {"default_payment_method": None}}
        self.customers[customer["id"]] = customer
        return customer

    def customer(self, customer_id: str) -> Obj:
        if customer_id not in self.customers:
            raise StripeApiError(404, f"No such customer: '{customer_id}'", param="id",
                                 code="resource_missing")
        return self.customers[customer_id]

    # --- billing meters -------------------------------------------------------------------

    def create_meter(self, params: Obj) -> Obj:
        event_name = _required(params, "event_name")
        _required(params, "display_name")
        formula = (params.get("default_aggregation") or {}).get("formula")
        if formula not in ("sum", "count", "last"):
            raise StripeApiError(400, "Invalid default_aggregation[formula]: must be one of sum, count, last",
                                 param="default_aggregation[formula]")
        if len(event_name) > 100:
            raise StripeApiError(400, "event_name must be at most 100 characters", param="event_name")
        if any(m["event_name"] == event_name and m["status"] == "active" for m in self.meters.values()):
            raise StripeApiError(400, f"An active meter with event_name '{event_name}' already exists.",
                                 param="event_name")
        meter = {"id": new_id("mtr"), "object": "billing.meter", "created": int(time.time()),
                 "display_name": params["display_name"], "event_name": event_name, "status": "active",
                 "default_aggregation": {"formula": formula},
                 "customer_mapping": {"type": "by_id", "event_payload_key":
                                      (params.get("customer_mapping") or {}).get("event_payload_key",
                                                                                 "stripe_customer_id")},
                 "value_settings": {"event_payload_key":
                                    (params.get("value_settings") or {}).get("event_payload_key", "value")},
                 "livemode": False}
        self.meters[meter["id"]] = meter
        return meter

    def list_meters(self, params: Obj) -> Obj:
        status = params.get("status")
        items = [m for m in self.meters.values() if status in (None, m["status"])]
        return _listing(items, "/v1/billing/meters", params)

    # --- meter events ---------------------------------------------------------------------

    def check_meter_event(self, params: Obj, now: float) -> tuple[Obj, str, str]:
        """Validates a meter event; (meter, customer id, value) or StripeApiError."""
        event_name = _required(params, "event_name")
        meter = next((m for m in self.meters.values()
                      if m["event_name"] == event_name and m["status"] == "active"), None)
        if meter is None:
            raise StripeApiError(400, f"No active meter was found matching event_name '{event_name}'.",
                                 param="event_name")
        payload = params.get("payload")
        if not isinstance(payload, dict):
            raise StripeApiError(400, "Missing required param: payload.", param="payload",
                                 code="parameter_missing")
        customer_key = meter["customer_mapping"]["event_payload_key"]
        value_key = meter["value_settings"]["event_payload_key"]
        customer = payload.get(customer_key)
        if not customer or customer not in self.customers:
            raise StripeApiError(400, f"No such customer: '{customer}'", param=f"payload[{customer_key}]")
        value = payload.get(value_key)
        if not isinstance(value, str) or not _WHOLE.match(value):
            raise StripeApiError(400, f"payload[{value_key}] must be a whole number, got {value!r}.",
                                 param=f"payload[{value_key}]")
        identifier = params.get("identifier")
        if identifier is not None and (not isinstance(identifier, str) or not 1 <= len(identifier) <= 100):
            raise StripeApiError(400, "identifier must be 1 to 100 characters.", param="identifier")
        raw_ts = params.get("timestamp")
        if raw_ts is not None:
            if not isinstance(raw_ts, str) or not raw_ts.isdigit():
                raise StripeApiError(400, "Invalid integer: timestamp", param="timestamp")
            if not now - MAX_EVENT_AGE_SECONDS <= int(raw_ts) <= now + MAX_EVENT_FUTURE_SECONDS:
                raise StripeApiError(400, "Timestamp must be within the past 35 calendar days or up to 5 "
                                          "minutes in the future.", param="timestamp")
        if identifier in self.identifiers:
            raise StripeApiError(400, f"An event already exists with identifier {identifier}.",
                                 param="identifier")
        return meter, customer, value

    def create_meter_event(self, params: Obj, now: float) -> Obj:
        self.check_meter_event(params, now)
        identifier = params.get("identifier") or new_id("evt")
        event = {"object": "billing.meter_event", "created": int(now), "event_name": params["event_name"],
                 "identifier": identifier, "livemode": False, "payload": dict(params["payload"]),
                 "timestamp": int(params.get("timestamp") or now)}
        self.identifiers.add(identifier)
        self.meter_events.append(event)
        return event

    def event_summary(self, meter_id: str, params: Obj) -> Obj:
        """GET /v1/billing/meters/{id}/event_summaries: the customer's events with a timestamp in
        [start_time, end_time) aggregated by the meter's formula: `sum` adds the values, `count`
        counts the events, `last` keeps the value of the latest event (by timestamp, then arrival)."""
        meter = self.meters.get(meter_id)
        if meter is None:
            raise StripeApiError(404, f"No such billing meter: '{meter_id}'", param="id",
                                 code="resource_missing")
        customer = _required(params, "customer")
        start, end = int(_required(params, "start_time")), int(_required(params, "end_time"))
        customer_key = meter["customer_mapping"]["event_payload_key"]
        value_key = meter["value_settings"]["event_payload_key"]
        events = sorted((e["timestamp"], arrival, int(e["payload"][value_key]))
                        for arrival, e in enumerate(self.meter_events)
                        if e["event_name"] == meter["event_name"]
                        and e["payload"].get(customer_key) == customer and start <= e["timestamp"] < end)
        values = [value for _, _, value in events]
        formula = meter["default_aggregation"]["formula"]
        if formula == "last":
            aggregated = values[-1] if values else 0
        elif formula == "count":
            aggregated = len(values)
        else:
            aggregated = sum(values)
        summary = {"id": new_id("mtrusg"), "object": "billing.meter_event_summary", "meter": meter_id,
                   "aggregated_value": aggregated, "start_time": start, "end_time": end, "livemode": False}
        return _listing([summary], f"/v1/billing/meters/{meter_id}/event_summaries", params)

    # --- payment methods, setup intents, portal ------------------------------------------

    def list_payment_methods(self, customer_id: str, params: Obj) -> Obj:
        self.customer(customer_id)
        wanted = params.get("type")
        items = [p for p in self.payment_methods
                 if p["customer"] == customer_id and wanted in (None, p["type"])]
        return _listing(items, f"/v1/customers/{customer_id}/payment_methods", params)

    def attach_payment_method(self, fields: Obj) -> Obj:
        self.customer(fields["customer"])
        kind = fields.get("type", "card")
        method: Obj = {"id": new_id("pm"), "object": "payment_method", "type": kind,
                       "customer": fields["customer"], "created": int(time.time()), "livemode": False}
        if kind == "card":
            method["card"] = {"brand": fields.get("brand", "visa"), "last4": fields.get("last4", "4242"),
                              "exp_month": fields.get("exp_month", 12),
                              "exp_year": fields.get("exp_year", 2030)}
        else:
            method["us_bank_account"] = {"bank_name": fields.get("bank_name", "STRIPE TEST BANK"),
                                         "last4": fields.get("last4", "6789"), "account_type": "checking"}
        self.payment_methods.append(method)
        return method

    def create_setup_intent(self, params: Obj) -> Obj:
        self.customer(_required(params, "customer"))
        types = params.get("payment_method_types") or ["card"]
        if not isinstance(types, list) or any(t not in ("card", "us_bank_account") for t in types):
            raise StripeApiError(400, "Invalid payment_method_types", param="payment_method_types")
        intent_id = new_id("seti")
        intent = {"id": intent_id, "object": "setup_intent", "customer": params["customer"],
                  "client_secret": f"{intent_id}_secret_{secrets.token_hex(12)}",
                  "payment_method_types": types, "status": "requires_payment_method",
                  "usage": params.get("usage", "off_session"), "livemode": False}
        self.setup_intents.append(intent)
        return intent

    def create_portal_session(self, params: Obj) -> Obj:
        customer = self.customer(_required(params, "customer"))
        session_id = new_id("bps")
        session = {"id": session_id, "object": "billing_portal.session", "customer": customer["id"],
                   "return_url": params.get("return_url"), "livemode": False,
                   "url": f"https://billing.stripe.com/p/session/test_{session_id}"}
        self.portal_sessions.append(session)
        return session

    # --- invoices and subscriptions -------------------------------------------------------

    def add_invoice(self, fields: Obj) -> Obj:
        self.customer(fields["customer"])
        invoice_id = fields.get("id") or new_id("in")
        invoice: Obj = {"id": invoice_id, "object": "invoice", "customer": fields["customer"],
                   "number": fields.get("number"), "currency": fields.get("currency", "usd"),
                   "amount_due": int(fields["amount_due"]), "amount_paid": int(fields.get("amount_paid", 0)),
                   "total": int(fields.get("total") or fields["amount_due"]), "status": fields["status"],
                   "period_start": int(fields["period_start"]), "period_end": int(fields["period_end"]),
                   "due_date": fields.get("due_date"), "created": int(fields.get("created", time.time())),
                   "invoice_pdf": f"https://pay.stripe.com/invoice/{invoice_id}/pdf",
                   "hosted_invoice_url": f"https://invoice.stripe.com/i/{invoice_id}", "livemode": False}
        self.invoices = [i for i in self.invoices if i["id"] != invoice_id] + [invoice]
        return invoice

    def list_invoices(self, params: Obj) -> Obj:
        customer = params.get("customer")
        items = sorted((i for i in self.invoices if customer in (None, i["customer"])),
                       key=lambda i: (-i["created"], i["id"]))
        return _listing(items, "/v1/invoices", params)

    def add_subscription(self, customer_id: str) -> Obj:
        self.customer(customer_id)
        subscription: Obj = {"id": new_id("sub"), "object": "subscription", "customer": customer_id,
                        "status": "active", "collection_method": "charge_automatically",
                        "days_until_due": None, "livemode": False}
        self.subscriptions[subscription["id"]] = subscription
        return subscription

    def update_subscription(self, subscription_id: str, params: Obj) -> Obj:
        if subscription_id not in self.subscriptions:
            raise StripeApiError(404, f"No such subscription: '{subscription_id}'", param="id",
                                 code="resource_missing")
        subscription = self.subscriptions[subscription_id]
        method = params.get("collection_method", subscription["collection_method"])
        if method not in ("charge_automatically", "send_invoice"):
            raise StripeApiError(400, "Invalid collection_method", param="collection_method")
        days = params.get("days_until_due")
        if method == "send_invoice" and not days:
            raise StripeApiError(400, "days_until_due is required when collection_method is send_invoice.",
                                 param="days_until_due")
        if method == "charge_automatically" and days:
            raise StripeApiError(400, "days_until_due can only be set when collection_method is "
                                      "send_invoice.", param="days_until_due")
        subscription.update(collection_method=method, days_until_due=int(days) if days else None)
        if "payment_settings" in params:
            subscription["payment_settings"] = params["payment_settings"]
        return subscription
