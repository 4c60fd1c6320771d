"""metering.v1.BillingService: validate, call one service function, map the result."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import grpc

from services.billing.domain.invoices import display_status
from services.billing.service.payments import Payments
from services.billing.service.statements import Statements
from services.billing.store.stripe_gateway import StripeFailure
from services.billing.transport import requests as req
from services.billing.transport import statement_wire as out
from services.gen.metering.v1 import billing_pb2 as bpb
from services.gen.metering.v1 import billing_pb2_grpc as bpb_grpc
from services.kit.errors import FieldError
from services.kit.grpc_status import rpc
from services.kit.inputs import org_id as valid_org

Context = grpc.aio.ServicerContext[Any, Any]
COLLECTION = {bpb.COLLECTION_METHOD_CHARGE_AUTOMATICALLY: "charge_automatically",
              bpb.COLLECTION_METHOD_INVOICE: "invoice", bpb.COLLECTION_METHOD_WIRE: "wire"}
METHOD_TYPES: dict[int, str] = {bpb.PAYMENT_METHOD_TYPE_CARD: "card",
                                bpb.PAYMENT_METHOD_TYPE_US_BANK_ACCOUNT: "us_bank_account"}


class BillingServicer(bpb_grpc.BillingServiceServicer):
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.statements = Statements(pool)
        self.payments = Payments(pool)

    @rpc
    async def GetBillingSubscription(self, request: bpb.GetBillingSubscriptionRequest,
                                     context: Context) -> bpb.GetBillingSubscriptionResponse:
        org = valid_org(request.org_id)
        return out.subscription(await self.statements.statement(org))

    @rpc
    async def PreviewInvoice(self, request: bpb.PreviewInvoiceRequest,
                             context: Context) -> bpb.PreviewInvoiceResponse:
        org = valid_org(request.org_id)
        return out.preview(await self.statements.statement(org))

    @rpc
    async def ListBillingInvoices(self, request: bpb.ListBillingInvoicesRequest,
                                  context: Context) -> bpb.ListBillingInvoicesResponse:
        org = valid_org(request.org_id)
        records = await self.statements.invoices(org)
        now = datetime.now(UTC)
        return bpb.ListBillingInvoicesResponse(
            invoices=[out.invoice(r, display_status(r.stripe_status, r.due_date, now)) for r in records])

    @rpc
    async def ListPaymentMethods(self, request: bpb.ListPaymentMethodsRequest,
                                 context: Context) -> bpb.ListPaymentMethodsResponse:
        org = valid_org(request.org_id)
        methods, collection = await _stripe_call(context, self.payments.methods(org))
        return out.payment_methods(methods, collection)

    @rpc
    async def CreatePaymentSetupSession(self, request: bpb.CreatePaymentSetupSessionRequest,
                                        context: Context) -> bpb.CreatePaymentSetupSessionResponse:
        org = valid_org(request.org_id)
        if request.kind not in (bpb.SETUP_SESSION_KIND_BILLING_PORTAL, bpb.SETUP_SESSION_KIND_SETUP_INTENT):
            raise FieldError("kind", "must be SETUP_SESSION_KIND_BILLING_PORTAL or "
                                     "SETUP_SESSION_KIND_SETUP_INTENT")
        portal = request.kind == bpb.SETUP_SESSION_KIND_BILLING_PORTAL
        return_url = req.url(request.return_url, "return_url") if portal else None
        types = [_method_type(t, i) for i, t in enumerate(request.payment_method_types)] or [
            "card", "us_bank_account"]
        session_id, url, secret = await _stripe_call(
            context, self.payments.setup(org, portal, return_url, types))
        return bpb.CreatePaymentSetupSessionResponse(url=url, client_secret=secret, session_id=session_id)

    @rpc
    async def SetCollectionMethod(self, request: bpb.SetCollectionMethodRequest,
                                  context: Context) -> bpb.SetCollectionMethodResponse:
        org = valid_org(request.org_id)
        method = COLLECTION.get(request.collection_method)
        if method is None:
            raise FieldError("collection_method", "must be CHARGE_AUTOMATICALLY, INVOICE or WIRE")
        if request.days_until_due and not 1 <= request.days_until_due <= 365:
            raise FieldError("days_until_due", "must be from 1 to 365")
        if request.days_until_due and method == "charge_automatically":
            raise FieldError("days_until_due", "applies to invoice and wire collection only")
        collection = await _stripe_call(
            context, self.payments.choose_collection(org, method, request.days_until_due or None))
        return bpb.SetCollectionMethodResponse(collection_method=request.collection_method,
                                               days_until_due=collection.days_until_due or 0)


def _method_type(value: int, index: int) -> str:
    if value not in METHOD_TYPES:
        raise FieldError(f"payment_method_types[{index}]", "must be CARD or US_BANK_ACCOUNT")
    return METHOD_TYPES[value]


async def _stripe_call(context: Context, pending: Any) -> Any:
    try:
        return await pending
    except StripeFailure as error:
        await context.abort(grpc.StatusCode.UNAVAILABLE, f"Stripe: {error}")

