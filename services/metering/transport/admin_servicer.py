"""metering.v1.MeteringAdminService over gRPC: validate, call one service function, map the result.

Access (role and tenant) is enforced by the guard (transport/guard.py) before a method runs;
what depends on the request's content (which role a new key may have) is checked here.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import grpc

from services.gen.metering.v1 import admin_pb2 as apb
from services.gen.metering.v1 import admin_pb2_grpc as apb_grpc
from services.kit import inputs
from services.kit.caller import CALLER, Role
from services.kit.errors import FieldError
from services.kit.grpc_status import rpc
from services.kit.inputs import idempotency_key, slug
from services.kit.inputs import org_id as valid_org
from services.metering.service.administration import Administration
from services.metering.service.plan_requests import PlanRequests
from services.metering.service.price_list import PriceList
from services.metering.service.tenancy import Tenancy
from services.metering.store import api_keys
from services.metering.store.organizations import NewOrganization
from services.metering.transport import admin_requests as req
from services.metering.transport import admin_responses as out

Context = grpc.aio.ServicerContext[Any, Any]


class AdminServicer(apb_grpc.MeteringAdminServiceServicer):
    def __init__(self, pool: asyncpg.Pool, keys: api_keys.KeyRing) -> None:
        self.plan_requests = PlanRequests(pool)
        self.administration = Administration(pool, keys)
        self.tenancy = Tenancy(pool)
        self.price_list = PriceList(pool)

    # --- organizations -------------------------------------------------------------------

    @rpc
    async def CreateOrganization(self, request: apb.CreateOrganizationRequest,
                                 context: Context) -> apb.CreateOrganizationResponse:
        model = req.billing_model(request.billing_model)
        new = NewOrganization(
            org_id=valid_org(request.org_id), name=req.name(request.name),
            plan_id=slug(request.plan_id, "plan_id") if request.plan_id else "free", billing_model=model,
            monthly_spend_cap_usd=req.money(request.monthly_spend_cap_usd, "monthly_spend_cap_usd",
                                            required=model == "byom"),
        )
        row = await self.administration.create_organization(new)
        return apb.CreateOrganizationResponse(organization=out.organization(row))

    @rpc
    async def GetOrganization(self, request: apb.GetOrganizationRequest,
                              context: Context) -> apb.GetOrganizationResponse:
        row = await self.administration.get_organization(valid_org(request.org_id))
        return apb.GetOrganizationResponse(organization=out.organization(row))

    @rpc
    async def ListOrganizations(self, request: apb.ListOrganizationsRequest,
                                context: Context) -> apb.ListOrganizationsResponse:
        size, after = req.page(request.page_size, request.page_token)
        rows = await self.administration.list_organizations(after, size + 1)
        more = len(rows) > size
        rows = rows[:size]
        return apb.ListOrganizationsResponse(
            organizations=[out.organization(r) for r in rows],
            next_page_token=req.page_token(rows[-1].org_id) if more else "",
        )

    @rpc
    async def UpdateOrganization(self, request: apb.UpdateOrganizationRequest,
                                 context: Context) -> apb.UpdateOrganizationResponse:
        org, name = valid_org(request.org_id), req.name(request.name)
        row = await self.administration.rename_organization(org, name)
        return apb.UpdateOrganizationResponse(organization=out.organization(row))

    # --- workspaces and users ------------------------------------------------------------

    @rpc
    async def CreateWorkspaceGroup(self, request: apb.CreateWorkspaceGroupRequest,
                                   context: Context) -> apb.CreateWorkspaceGroupResponse:
        org, group = valid_org(request.org_id), slug(request.group_id, "group_id")
        row = await self.tenancy.create_group(org, group, req.name(request.name))
        return apb.CreateWorkspaceGroupResponse(workspace_group=out.workspace_group(row))

    @rpc
    async def ListWorkspaceGroups(self, request: apb.ListWorkspaceGroupsRequest,
                                  context: Context) -> apb.ListWorkspaceGroupsResponse:
        rows = await self.tenancy.groups(valid_org(request.org_id))
        return apb.ListWorkspaceGroupsResponse(groups=[out.workspace_group(r) for r in rows])

    @rpc
    async def CreateWorkspace(self, request: apb.CreateWorkspaceRequest,
                              context: Context) -> apb.CreateWorkspaceResponse:
        org, workspace = valid_org(request.org_id), slug(request.workspace_id, "workspace_id")
        group = slug(request.group_id, "group_id") if request.group_id else None
        row = await self.tenancy.create_workspace(org, workspace, req.name(request.name), group)
        return apb.CreateWorkspaceResponse(workspace=out.workspace(row))

    @rpc
    async def UpdateWorkspace(self, request: apb.UpdateWorkspaceRequest,
                              context: Context) -> apb.UpdateWorkspaceResponse:
        org, workspace = valid_org(request.org_id), slug(request.workspace_id, "workspace_id")
        group = slug(request.group_id, "group_id") if request.group_id else None
        name = req.name(request.name) if request.name else None
        row = await self.tenancy.update_workspace(org, workspace, name, group)
        return apb.UpdateWorkspaceResponse(workspace=out.workspace(row))

    @rpc
    async def ListWorkspaces(self, request: apb.ListWorkspacesRequest,
                             context: Context) -> apb.ListWorkspacesResponse:
        rows = await self.tenancy.workspaces(valid_org(request.org_id))
        return apb.ListWorkspacesResponse(workspaces=[out.workspace(r) for r in rows])

    @rpc
    async def CreateUser(self, request: apb.CreateUserRequest, context: Context) -> apb.CreateUserResponse:
        org, user = valid_org(request.org_id), slug(request.user_id, "user_id")
        email, name = req.email(request.email), req.name(request.name)
        row = await self.tenancy.create_user(org, user, email, name)
        return apb.CreateUserResponse(user=out.user(row))

    @rpc
    async def ListUsers(self, request: apb.ListUsersRequest, context: Context) -> apb.ListUsersResponse:
        rows = await self.tenancy.users(valid_org(request.org_id))
        return apb.ListUsersResponse(users=[out.user(r) for r in rows])

    # --- API keys ------------------------------------------------------------------------

    @rpc
    async def CreateApiKey(self, request: apb.CreateApiKeyRequest,
                           context: Context) -> apb.CreateApiKeyResponse:
        role = req.role(request.role)
        name = req.name(request.name)
        if role is Role.PLATFORM_ADMIN:
            if request.org_id:
                raise FieldError("org_id", "must be empty for platform admin keys")
            org = None
        else:
            org = valid_org(request.org_id)
        if role is Role.PLATFORM_ADMIN and CALLER.get().role is not Role.PLATFORM_ADMIN:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "role: only platform admins grant it")
        record, token = await self.administration.create_api_key(org, role, name)
        return apb.CreateApiKeyResponse(key=out.api_key(record), secret=token)

    @rpc
    async def ListApiKeys(self, request: apb.ListApiKeysRequest, context: Context) -> apb.ListApiKeysResponse:
        org = valid_org(request.org_id) if request.org_id else None
        records = await self.administration.list_api_keys(org)
        return apb.ListApiKeysResponse(keys=[out.api_key(r) for r in records])

    @rpc
    async def RevokeApiKey(self, request: apb.RevokeApiKeyRequest,
                           context: Context) -> apb.RevokeApiKeyResponse:
        org = valid_org(request.org_id) if request.org_id else None
        key_id = slug(request.key_id, "key_id")
        record = await self.administration.revoke_api_key(org, key_id)
        return apb.RevokeApiKeyResponse(api_key=out.api_key(record))

    # --- plans and prices ----------------------------------------------------------------

    @rpc
    async def ListPlans(self, request: apb.ListPlansRequest, context: Context) -> apb.ListPlansResponse:
        catalogue = await self.price_list.plans()
        return apb.ListPlansResponse(plans=out.plans(catalogue))

    @rpc
    async def ChangePlan(self, request: apb.ChangePlanRequest, context: Context) -> apb.ChangePlanResponse:
        org, plan = valid_org(request.org_id), slug(request.plan_id, "plan_id")
        row = await self.administration.change_plan(org, plan)
        return apb.ChangePlanResponse(organization=out.organization(row))

    @rpc
    async def RequestPlanChange(self, request: apb.RequestPlanChangeRequest,
                                context: Context) -> apb.RequestPlanChangeResponse:
        org, plan = valid_org(request.org_id), slug(request.plan_id, "plan_id")
        note = req.name(request.note, "note") if request.note else ""
        row = await self.plan_requests.ask(org, plan, note, CALLER.get().key_id)
        return apb.RequestPlanChangeResponse(plan_change_request=out.plan_change_request(row))

    @rpc
    async def ListPlanChangeRequests(self, request: apb.ListPlanChangeRequestsRequest,
                                     context: Context) -> apb.ListPlanChangeRequestsResponse:
        org = valid_org(request.org_id) if request.org_id else ""
        rows = await self.plan_requests.list(org, req.plan_change_status(request.status))
        found = [out.plan_change_request(r) for r in rows]
        return apb.ListPlanChangeRequestsResponse(plan_change_requests=found)

    @rpc
    async def ApprovePlanChange(self, request: apb.ApprovePlanChangeRequest,
                                context: Context) -> apb.ApprovePlanChangeResponse:
        org, request_id = valid_org(request.org_id), req.plan_request_id(request.request_id)
        note = req.name(request.note, "note") if request.note else ""
        row, organization = await self.plan_requests.approve(org, request_id, CALLER.get().key_id, note)
        return apb.ApprovePlanChangeResponse(plan_change_request=out.plan_change_request(row),
                                             organization=out.organization(organization))

    @rpc
    async def RefusePlanChange(self, request: apb.RefusePlanChangeRequest,
                               context: Context) -> apb.RefusePlanChangeResponse:
        org, request_id = valid_org(request.org_id), req.plan_request_id(request.request_id)
        reason = req.name(request.reason, "reason") if request.reason else ""
        row = await self.plan_requests.refuse(org, request_id, CALLER.get().key_id, reason)
        return apb.RefusePlanChangeResponse(plan_change_request=out.plan_change_request(row))

    @rpc
    async def SetLlmPrice(self, request: apb.SetLlmPriceRequest, context: Context) -> apb.SetLlmPriceResponse:
        price = req.llm_price(request.price)
        since = inputs.moment(request.price.effective_from, request.price.HasField("effective_from"),
                           "price.effective_from")
        row = await self.price_list.set_llm_price(price, since)
        return apb.SetLlmPriceResponse(llm_price=out.llm_price(row))

    @rpc
    async def ListLlmPrices(self, request: apb.ListLlmPricesRequest,
                            context: Context) -> apb.ListLlmPricesResponse:
        rows = await self.price_list.llm_prices(req.search_text(request.model, "model"))
        return apb.ListLlmPricesResponse(prices=[out.llm_price(r) for r in rows])

    @rpc
    async def SetCreditRate(self, request: apb.SetCreditRateRequest,
                            context: Context) -> apb.SetCreditRateResponse:
        rate = req.money(request.rate.credits_per_usd, "rate.credits_per_usd")
        if not rate:
            raise FieldError("rate.credits_per_usd", "must be greater than 0")
        since = inputs.moment(request.rate.effective_from, request.rate.HasField("effective_from"),
                           "rate.effective_from")
        row = await self.price_list.set_credit_rate(since, rate)
        return apb.SetCreditRateResponse(credit_rate=out.credit_rate(row))

    @rpc
    async def SetResourceRate(self, request: apb.SetResourceRateRequest,
                              context: Context) -> apb.SetResourceRateResponse:
        rate = request.rate
        resource = slug(rate.resource, "rate.resource")
        tier = slug(rate.tier, "rate.tier") if rate.tier else ""
        since = inputs.moment(rate.effective_from, rate.HasField("effective_from"), "rate.effective_from")
        hourly = req.money(rate.hourly_usd, "rate.hourly_usd")
        monthly = req.money(rate.monthly_usd, "rate.monthly_usd", required=False)
        assert hourly is not None
        row = await self.price_list.set_resource_rate(resource, tier, since, hourly, monthly)
        return apb.SetResourceRateResponse(rate=out.resource_rate(row))

    @rpc
    async def ListResourceRates(self, request: apb.ListResourceRatesRequest,
                                context: Context) -> apb.ListResourceRatesResponse:
        rows = await self.price_list.resource_rates(req.search_text(request.resource, "resource"))
        return apb.ListResourceRatesResponse(rates=[out.resource_rate(r) for r in rows])

    # --- credits -------------------------------------------------------------------------

    @rpc
    async def GrantBonusCredits(self, request: apb.GrantBonusCreditsRequest,
                                context: Context) -> apb.GrantBonusCreditsResponse:
        org = valid_org(request.org_id)
        amount = req.money(request.amount, "amount")
        assert amount is not None
        source = slug(request.source, "source")
        expires = (inputs.moment(request.expires_at, True, "expires_at")
                   if request.HasField("expires_at") else None)
        key = idempotency_key(request.idempotency_key) if request.idempotency_key else None
        grant, replayed = await self.administration.grant_bonus_credits(org, amount, source, expires, key)
        return apb.GrantBonusCreditsResponse(credit_grant=out.credit_grant(org, grant), replayed=replayed)

    @rpc
    async def ListCreditGrants(self, request: apb.ListCreditGrantsRequest,
                               context: Context) -> apb.ListCreditGrantsResponse:
        org = valid_org(request.org_id)
        grants = await self.administration.credit_grants(org)
        return apb.ListCreditGrantsResponse(grants=[out.credit_grant(org, g) for g in grants])

    @rpc
    async def SetSpendCap(self, request: apb.SetSpendCapRequest, context: Context) -> apb.SetSpendCapResponse:
        org = valid_org(request.org_id)
        cap = req.money(request.monthly_spend_cap_usd, "monthly_spend_cap_usd")
        assert cap is not None
        row = await self.administration.set_spend_cap(org, cap)
        return apb.SetSpendCapResponse(organization=out.organization(row))

    @rpc
    async def SetNegotiatedAllowance(self, request: apb.SetNegotiatedAllowanceRequest,
                                     context: Context) -> apb.SetNegotiatedAllowanceResponse:
        org = valid_org(request.org_id)
        credits = req.money(request.monthly_credits, "monthly_credits")
        assert credits is not None
        limits = req.meter_limits(request.limits)
        allowance = await self.administration.set_allowance(org, credits, limits, request.at_once)
        return out.allowance(allowance)

    # --- quotas and alerts ---------------------------------------------------------------

    @rpc
    async def SetQuota(self, request: apb.SetQuotaRequest, context: Context) -> apb.SetQuotaResponse:
        org, resource = valid_org(request.org_id), req.resource(request.resource)
        soft = req.money(request.soft_limit, "soft_limit", required=False)
        hard = req.money(request.hard_limit, "hard_limit", required=False)
        alert_at = req.percent(request.alert_at_percent, "alert_at_percent")
        enabled = request.alert_enabled if request.HasField("alert_enabled") else True
        view = await self.administration.set_quota(org, resource, soft, hard, alert_at, enabled)
        return apb.SetQuotaResponse(quota=out.quota(view))

    @rpc
    async def SetBudgetAlert(self, request: apb.SetBudgetAlertRequest,
                             context: Context) -> apb.SetBudgetAlertResponse:
        org, resource = valid_org(request.org_id), req.resource(request.resource)
        alert_at = req.percent(request.alert_at_percent, "alert_at_percent")
        enabled = request.alert_enabled if request.HasField("alert_enabled") else True
        view = await self.administration.set_budget_alert(org, resource, alert_at, enabled)
        return apb.SetBudgetAlertResponse(quota=out.quota(view))

    @rpc
    async def ListQuotas(self, request: apb.ListQuotasRequest, context: Context) -> apb.ListQuotasResponse:
        org = valid_org(request.org_id)
        views = await self.administration.list_quotas(org)
        return apb.ListQuotasResponse(quotas=[out.quota(v) for v in views])

    @rpc
    async def ListAlerts(self, request: apb.ListAlertsRequest, context: Context) -> apb.ListAlertsResponse:
        org = valid_org(request.org_id)
        severity = req.SEVERITIES.get(request.severity, "")
        status = req.STATUSES.get(request.status, "")
        resource = req.resource(request.resource) if request.resource else ""
        rows = await self.administration.alerts(org, severity, status, resource)
        return apb.ListAlertsResponse(alerts=[out.alert(r) for r in rows])

    @rpc
    async def SetAlertChannels(self, request: apb.SetAlertChannelsRequest,
                               context: Context) -> apb.SetAlertChannelsResponse:
        org = valid_org(request.org_id)
        routes = req.routes(list(request.routes))
        recipients = [req.email(e, f"email_recipients[{i}]") for i, e in enumerate(request.email_recipients)]
        url = req.webhook_url(request.webhook_url)
        secret = req.secret(request.webhook_secret, "webhook_secret")
        if secret is not None and len(secret) < 16:
            raise FieldError("webhook_secret", "must be at least 16 characters")
        row = await self.administration.set_alert_channels(org, routes, recipients, url, secret)
        return apb.SetAlertChannelsResponse(alert_channels=out.alert_channels(row))
