"""The billing page's own routes: an invoice's details, payment methods (list, a Stripe setup
session to add a card or bank account, invoice or wire collection for Enterprise). Each route
shares the access rule of its gRPC method and calls the same service function."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from services.billing.store.stripe_gateway import StripeFailure
from services.kit import inputs
from services.kit.errors import FieldError
from services.reporting.service.invoices import InvoiceDetail
from services.reporting.transport import http_json as out

if TYPE_CHECKING:
    from services.reporting.transport.http_api import Call, Deps

_B = "/metering.v1.BillingService/"
ROUTES: tuple[tuple[str, str, str, str], ...] = (
    ("GET", "/billing/invoices/{invoice_id}", "/metering.v1.ReportingService/GetInvoice", "invoice_detail"),
    ("GET", "/billing/payment-methods", _B + "ListPaymentMethods", "payment_methods"),
    ("POST", "/billing/payment-methods/setup", _B + "CreatePaymentSetupSession", "payment_setup"),
    ("POST", "/billing/collection", _B + "SetCollectionMethod", "set_collection"),
)
METHOD_TYPES = ("card", "us_bank_account")
COLLECTIONS = ("charge_automatically", "invoice", "wire")


class BillingRoutes:
    d: Deps

    async def invoice_detail(self, call: Call) -> web.Response:
        invoice_id = inputs.text(call.request.match_info["invoice_id"], "invoice_id", 255)
        return web.json_response(detail(await self.d.reports.invoice(call.org_id, invoice_id)))

    async def payment_methods(self, call: Call) -> web.Response:
        methods, collection = await _stripe_call(self.d.reports.payments.methods(call.org_id))
        listed = [{"id": m.payment_method_id, "type": m.type, "brand": m.brand, "last4": m.last4,
                   "exp_month": m.exp_month or None, "exp_year": m.exp_year or None} for m in methods]
        return web.json_response({"payment_methods": listed, "collection_method": collection.method,
                                  "days_until_due": collection.days_until_due})

    async def payment_setup(self, call: Call) -> web.Response:
        body = await _body(call)
        types = body.get("payment_method_types", list(METHOD_TYPES))
        if not isinstance(types, list) or not types or any(t not in METHOD_TYPES for t in types):
            raise FieldError("payment_method_types", f"must list some of {', '.join(METHOD_TYPES)}")
        session_id, _, secret = await _stripe_call(
            self.d.reports.payments.setup(call.org_id, False, None, types))
        return web.json_response({"session_id": session_id, "client_secret": secret,
                                  "payment_method_types": types}, status=201)

    async def set_collection(self, call: Call) -> web.Response:
        body = await _body(call)
        method = body.get("collection_method")
        if method not in COLLECTIONS:
            raise FieldError("collection_method", f"must be one of {', '.join(COLLECTIONS)}")
        days = body.get("days_until_due")
        if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365):
            raise FieldError("days_until_due", "must be a whole number from 1 to 365")
        if days is not None and method == "charge_automatically":
            raise FieldError("days_until_due", "applies to invoice and wire collection only")
        chosen = await _stripe_call(self.d.reports.payments.choose_collection(call.org_id, method, days))
        return web.json_response({"collection_method": chosen.method,
                                  "days_until_due": chosen.days_until_due})


def detail(found: InvoiceDetail) -> dict[str, Any]:
    lines = [{"description": line.description, "meter": line.meter or None, "quantity": out.d(line.quantity),
              "unit": line.unit or None, "unit_price": out.d(line.unit_price), "amount": out.d(line.amount)}
             for line in found.lines]
    return {**out.invoice(found.invoice), "plan": found.billed.plan_id, "lines": lines,
            "lines_total": out.d(found.billed.total_usd)}


async def _stripe_call(pending: Any) -> Any:
    try:
        return await pending
    except StripeFailure as error:
        raise web.HTTPServiceUnavailable(
            text=json.dumps({"error": f"Stripe: {error}", "field": "", "code": "UNAVAILABLE"}),
            content_type="application/json") from None


async def _body(call: Call) -> dict[str, Any]:
    raw = await call.request.read()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise FieldError("body", "is not valid JSON") from None
    if not isinstance(body, dict):
        raise FieldError("body", "must be a JSON object")
    return body
