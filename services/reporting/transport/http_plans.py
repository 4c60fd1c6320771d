"""The plans section of the pages over HTTP: the plan catalogue, the in-editor usage bar, and
plan change requests (a tenant admin asks; a platform admin approves or refuses). Each route
shares the access rule of its gRPC method and calls the same service function."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from services.kit import inputs
from services.kit.errors import FieldError
from services.metering.service.plan_requests import PlanRequests
from services.metering.store.plan_requests import PlanChangeRequest
from services.metering.store.prices import CataloguePlan
from services.reporting.transport import http_json as out

if TYPE_CHECKING:
    from services.reporting.transport.http_api import Call, Deps

_A = "/metering.v1.MeteringAdminService/"
ROUTES: tuple[tuple[str, str, str, str], ...] = (
    # Who the key is, so a page shows each role what it may do.
    ("GET", "/session", _A + "GetOrganization", "session"),
    ("GET", "/credits/usage-bar", "/metering.v1.ReportingService/GetUsageBar", "usage_bar"),
    ("GET", "/plans", _A + "ListPlans", "plans"),
    ("GET", "/plans/requests", _A + "ListPlanChangeRequests", "plan_requests"),
    ("POST", "/plans/requests", _A + "RequestPlanChange", "ask_plan_change"),
    ("POST", "/plans/requests/{request_id}/approve", _A + "ApprovePlanChange", "approve_plan_change"),
    ("POST", "/plans/requests/{request_id}/refuse", _A + "RefusePlanChange", "refuse_plan_change"),
)
STATUSES = ("pending", "approved", "refused")


class PlanRoutes:
    d: Deps

    @property
    def _plans(self) -> PlanRequests:
        return PlanRequests(self.d.reports.pool)

    async def session(self, call: Call) -> web.Response:
        await self.d.reports.require_organization(call.org_id)
        return web.json_response({"organization_id": call.org_id, "role": call.principal.role.value,
                                  "key_id": call.principal.key_id})

    async def usage_bar(self, call: Call) -> web.Response:
        return web.json_response(out.usage_bar(await self.d.reports.usage_bar(call.org_id)))

    async def plans(self, call: Call) -> web.Response:
        return web.json_response([plan(p) for p in await self._plans.catalogue()])

    async def plan_requests(self, call: Call) -> web.Response:
        status = call.query("status")
        if status and status not in STATUSES:
            raise FieldError("status", f"must be one of {', '.join(STATUSES)}")
        return web.json_response([request(r) for r in await self._plans.list(call.org_id, status)])

    async def ask_plan_change(self, call: Call) -> web.Response:
        body = await _body(call)
        plan_id = inputs.slug(_text(body, "plan_id"), "plan_id")
        note = _optional_text(body, "note")
        row = await self._plans.ask(call.org_id, plan_id, note, call.principal.key_id)
        return web.json_response(request(row), status=201)

    async def approve_plan_change(self, call: Call) -> web.Response:
        request_id, note = await _decision(call, "note")
        row, _ = await self._plans.approve(call.org_id, request_id, call.principal.key_id, note)
        return web.json_response(request(row))

    async def refuse_plan_change(self, call: Call) -> web.Response:
        request_id, reason = await _decision(call, "reason")
        row = await self._plans.refuse(call.org_id, request_id, call.principal.key_id, reason)
        return web.json_response(request(row))


def plan(p: CataloguePlan) -> dict[str, Any]:
    return {"id": p.plan_id, "name": p.name, "monthly_credits": out.d(p.monthly_credits),
            "price_usd": out.d(p.price_usd),
            "limits": {meter: out.d(limit) for meter, limit in p.limits.items()}}


def request(r: PlanChangeRequest) -> dict[str, Any]:
    return {"organization_id": r.org_id, "request_id": str(r.request_id), "plan_id": r.plan_id,
            "note": r.note, "status": r.status, "requested_by": r.requested_by,
            "requested_at": out.ts(r.requested_at), "decided_by": r.decided_by,
            "decided_at": out.ts(r.decided_at), "reason": r.reason}


async def _decision(call: Call, field: str) -> tuple[int, str]:
    request_id = inputs.row_id(call.request.match_info["request_id"], "request_id")
    body = await _body(call, required=False)
    return request_id, _optional_text(body, field)


async def _body(call: Call, required: bool = True) -> dict[str, Any]:
    """The request's JSON object; an empty body is {} where a body is optional."""
    raw = await call.request.read()  # the app caps the size (client_max_size)
    if not raw.strip():
        if required:
            raise FieldError("body", "is required: a JSON object")
        return {}
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise FieldError("body", "is not valid JSON") from None
    if not isinstance(body, dict):
        raise FieldError("body", "must be a JSON object")
    return body


def _text(body: dict[str, Any], field: str) -> str:
    value = body.get(field, "")
    if not isinstance(value, str):
        raise FieldError(field, "must be a string")
    return value


def _optional_text(body: dict[str, Any], field: str) -> str:
    """Free text of at most 200 characters (a note, a reason), "" when left out."""
    return inputs.text(_text(body, field), field, 200).strip()
