"""Which roles may call which RPC, and whether the call is confined to the caller's tenant.

Every RPC of every metering.v1 service must have a rule (a test checks it): an RPC without one is
refused. `tenant` rules compare the request's `org_id` with the caller's organization; platform
admins may act for any organization.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.kit.caller import Role

PLATFORM = Role.PLATFORM_ADMIN
ADMIN = Role.TENANT_ADMIN
BILLING = Role.BILLING_CONTACT
SERVICE = Role.SERVICE


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    tenant: bool = True  # the request names an org_id the caller must belong to
    peer: bool = False  # called by another replica with the peer token, never with an API key


def _rule(*roles: Role, tenant: bool = True) -> Rule:
    return Rule(frozenset(roles), tenant)


_METERING = "/metering.v1.MeteringService/"
_ADMIN = "/metering.v1.MeteringAdminService/"
_REPORTING = "/metering.v1.ReportingService/"
_RESOURCE = "/metering.v1.ResourceService/"
_BILLING = "/metering.v1.BillingService/"
_PEER = "/metering.v1.CreditLedgerPeerService/"

RULES: dict[str, Rule] = {
    # Hot path: services record and spend for their own tenant.
    _METERING + "RecordUsage": _rule(PLATFORM, SERVICE),
    _METERING + "Deduct": _rule(PLATFORM, SERVICE),
    _METERING + "Reserve": _rule(PLATFORM, SERVICE),
    _METERING + "Release": _rule(PLATFORM, SERVICE),
    # A stream's org_id is its first message's.
    _METERING + "DeductSession": _rule(PLATFORM, SERVICE),
    # Viewing usage: everyone of the tenant (the permission table's "View usage").
    _METERING + "GetQuota": _rule(PLATFORM, ADMIN, BILLING, SERVICE),
    _METERING + "Project": _rule(PLATFORM, ADMIN, BILLING, SERVICE),
    # Replicas forwarding calls they have authenticated and authorized already.
    _PEER + "ApplyOperations": Rule(frozenset(), tenant=False, peer=True),
    # Tenants themselves.
    _ADMIN + "CreateOrganization": _rule(PLATFORM, tenant=False),
    _ADMIN + "ListOrganizations": _rule(PLATFORM, tenant=False),
    _ADMIN + "GetOrganization": _rule(PLATFORM, ADMIN, BILLING, SERVICE),
    _ADMIN + "UpdateOrganization": _rule(PLATFORM, ADMIN),
    _ADMIN + "CreateWorkspaceGroup": _rule(PLATFORM, ADMIN),
    _ADMIN + "ListWorkspaceGroups": _rule(PLATFORM, ADMIN, BILLING),
    _ADMIN + "CreateWorkspace": _rule(PLATFORM, ADMIN),
    _ADMIN + "UpdateWorkspace": _rule(PLATFORM, ADMIN),
    _ADMIN + "ListWorkspaces": _rule(PLATFORM, ADMIN, BILLING),
    _ADMIN + "CreateUser": _rule(PLATFORM, ADMIN),
    _ADMIN + "ListUsers": _rule(PLATFORM, ADMIN, BILLING),
    _ADMIN + "CreateApiKey": _rule(PLATFORM, ADMIN),
    _ADMIN + "ListApiKeys": _rule(PLATFORM, ADMIN),
    _ADMIN + "RevokeApiKey": _rule(PLATFORM, ADMIN),
    # Plans ("Update plan"): platform admin yes, tenant admin request, billing contact no.
    _ADMIN + "ListPlans": _rule(PLATFORM, ADMIN, BILLING, SERVICE, tenant=False),
    _ADMIN + "ChangePlan": _rule(PLATFORM),
    _ADMIN + "RequestPlanChange": _rule(ADMIN),
    _ADMIN + "ListPlanChangeRequests": _rule(PLATFORM, ADMIN),
    _ADMIN + "ApprovePlanChange": _rule(PLATFORM),
    _ADMIN + "RefusePlanChange": _rule(PLATFORM),
    # Global price tables: platform admins set them, everyone may read them.
    _ADMIN + "SetLlmPrice": _rule(PLATFORM, tenant=False),
    _ADMIN + "ListLlmPrices": _rule(PLATFORM, ADMIN, BILLING, SERVICE, tenant=False),
    _ADMIN + "SetCreditRate": _rule(PLATFORM, tenant=False),
    _ADMIN + "SetResourceRate": _rule(PLATFORM, tenant=False),
    _ADMIN + "ListResourceRates": _rule(PLATFORM, ADMIN, BILLING, SERVICE, tenant=False),
    # Credits.
    _ADMIN + "GrantBonusCredits": _rule(PLATFORM),
    _ADMIN + "ListCreditGrants": _rule(PLATFORM, ADMIN, BILLING),
    _ADMIN + "SetSpendCap": _rule(PLATFORM, ADMIN),
    _ADMIN + "SetNegotiatedAllowance": _rule(PLATFORM),
    # Limits block a tenant's services: admins only. Budget alerts (the custom threshold, alert
    # channels): "Set budget alerts", all three roles.
    _ADMIN + "SetQuota": _rule(PLATFORM, ADMIN),
    _ADMIN + "SetBudgetAlert": _rule(PLATFORM, ADMIN, BILLING),
    _ADMIN + "ListQuotas": _rule(PLATFORM, ADMIN, BILLING),
    _ADMIN + "ListAlerts": _rule(PLATFORM, ADMIN, BILLING),
    _ADMIN + "SetAlertChannels": _rule(PLATFORM, ADMIN, BILLING),
    # Resource lifecycle (billing worker): services create and delete what they run; tenant
    # admins may too; billing contacts see them ("View usage").
    _RESOURCE + "CreateResource": _rule(PLATFORM, ADMIN, SERVICE),
    _RESOURCE + "ResizeResource": _rule(PLATFORM, ADMIN, SERVICE),
    _RESOURCE + "DeleteResource": _rule(PLATFORM, ADMIN, SERVICE),
    _RESOURCE + "GetResource": _rule(PLATFORM, ADMIN, BILLING, SERVICE),
    _RESOURCE + "ListResources": _rule(PLATFORM, ADMIN, BILLING, SERVICE),
    # Subscription, invoices and payment: "View invoices" and "Manage payment".
    _BILLING + "GetBillingSubscription": _rule(PLATFORM, ADMIN, BILLING),
    _BILLING + "PreviewInvoice": _rule(PLATFORM, ADMIN, BILLING),
    _BILLING + "ListBillingInvoices": _rule(PLATFORM, ADMIN, BILLING),
    _BILLING + "ListPaymentMethods": _rule(PLATFORM, ADMIN, BILLING),
    _BILLING + "CreatePaymentSetupSession": _rule(PLATFORM, ADMIN, BILLING),
    _BILLING + "SetCollectionMethod": _rule(PLATFORM, ADMIN, BILLING),
    # Reporting: "View usage" (services too) and "View invoices" (costs alike); usage
    # exports are usage.
    _REPORTING + "GetUsageSummary": _rule(PLATFORM, ADMIN, BILLING, SERVICE),
    _REPORTING + "GetResourceUsage": _rule(PLATFORM, ADMIN, BILLING, SERVICE),
    _REPORTING + "GetUsageHistory": _rule(PLATFORM, ADMIN, BILLING, SERVICE),
    _REPORTING + "ListQuotaUsage": _rule(PLATFORM, ADMIN, BILLING, SERVICE),
    _REPORTING + "ListQuotaAlerts": _rule(PLATFORM, ADMIN, BILLING, SERVICE),
    _REPORTING + "GetProjections": _rule(PLATFORM, ADMIN, BILLING, SERVICE),
    _REPORTING + "GetCreditOverview": _rule(PLATFORM, ADMIN, BILLING, SERVICE),
    _REPORTING + "GetUsageBar": _rule(PLATFORM, ADMIN, BILLING, SERVICE),
    _REPORTING + "GetUsageChart": _rule(PLATFORM, ADMIN, BILLING, SERVICE),
    _REPORTING + "ListTopConsumers": _rule(PLATFORM, ADMIN, BILLING, SERVICE),
    _REPORTING + "GetApiMetrics": _rule(PLATFORM, ADMIN, BILLING, SERVICE),
    _REPORTING + "GetRateLimitStatus": _rule(PLATFORM, ADMIN, BILLING, SERVICE),
    _REPORTING + "CreateUsageExport": _rule(PLATFORM, ADMIN, BILLING, SERVICE),
    _REPORTING + "GetUsageExport": _rule(PLATFORM, ADMIN, BILLING, SERVICE),
    _REPORTING + "GetCostAnalysis": _rule(PLATFORM, ADMIN, BILLING),
    _REPORTING + "ListRecommendations": _rule(PLATFORM, ADMIN, BILLING),
    _REPORTING + "ListInvoices": _rule(PLATFORM, ADMIN, BILLING),
    _REPORTING + "GetInvoice": _rule(PLATFORM, ADMIN, BILLING),
    _REPORTING + "GetSubscription": _rule(PLATFORM, ADMIN, BILLING),
}
