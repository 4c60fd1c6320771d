"""The OpenAPI description of the plan routes (http_plans.py)."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]


def plan_paths(op: Any, obj: Any, arr: Any, p: Any, q: Any) -> Json:
    d: Json = {"$ref": "#/components/schemas/Decimal"}
    nd: Json = {"oneOf": [d, {"type": "null"}]}
    s: Json = {"type": "string"}
    ns: Json = {"type": ["string", "null"]}
    b: Json = {"type": "boolean"}
    t: Json = {"type": "string", "format": "date-time"}
    nt: Json = {"type": ["string", "null"], "format": "date-time"}
    a = "metering.v1.MeteringAdminService/"
    request = obj(organization_id=s, request_id=s, plan_id=s, note=s,
                  status={"enum": ["pending", "approved", "refused"]}, requested_by=s, requested_at=t,
                  decided_by=ns, decided_at=nt, reason=s)
    request_id = p("request_id", "From GET /plans/requests", max_length=19)
    text = {"type": "string", "maxLength": 200}
    return {
        "/session": {"get": op("The calling key: its role and organization", a + "GetOrganization",
                               obj(organization_id=s, role={"enum": ["platform_admin", "tenant_admin",
                                                                     "billing_contact", "service"]},
                                   key_id=s))},
        "/credits/usage-bar": {"get": op(
            "The in-editor usage bar: percent used and which buttons to show (referral invite from "
            "50 %, upgrade from 75 % and always on the free tier)",
            "metering.v1.ReportingService/GetUsageBar",
            obj(organization_id=s, unit={"enum": ["credits", "usd"]}, used=d, total=d, percentage=d,
                free_tier=b, show_upgrade=b, show_referral=b))},
        "/plans": {"get": op("The plans and their limits (null: unlimited)", a + "ListPlans",
                             arr(obj(id=s, name=s, monthly_credits=d, price_usd=nd,
                                     limits={"type": "object", "additionalProperties": nd})))},
        "/plans/requests": {
            "get": op("Plan change requests, newest first", a + "ListPlanChangeRequests", arr(request),
                      [q("status", "Only these", ["pending", "approved", "refused"])]),
            "post": op("Ask for a plan change (tenant admins)", a + "RequestPlanChange", request, None,
                       {**obj(plan_id=s, note=text), "required": ["plan_id"]}, "201"),
        },
        "/plans/requests/{request_id}/approve": {"post": op(
            "Approve a pending request: the plan changes and the tenant is told (platform admins)",
            a + "ApprovePlanChange", request, [request_id], obj(note=text))},
        "/plans/requests/{request_id}/refuse": {"post": op(
            "Refuse a pending request; the tenant is told (platform admins)",
            a + "RefusePlanChange", request, [request_id], obj(reason=text))},
    }
