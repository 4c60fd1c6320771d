"""Mapping of store rows and typed results to metering.v1 admin messages."""

from __future__ import annotations

from collections.abc import Sequence

from services.gen.metering.v1 import admin_pb2 as apb
from services.kit.decimals import format_decimal
from services.kit.wire import decimal_or_empty, optional_timestamp, timestamp
from services.metering.domain.readings import QuotaView
from services.metering.store.alerts import Alert, AlertChannels
from services.metering.store.api_keys import ApiKeyRecord
from services.metering.store.organizations import CreditGrant, Organization
from services.metering.store.plan_changes import Allowance
from services.metering.store.plan_requests import PlanChangeRequest
from services.metering.store.prices import CataloguePlan, CreditRate, DatedLlmPrice, ResourceRate
from services.metering.store.tenancy import User, Workspace, WorkspaceGroup
from services.metering.transport.admin_requests import (
    CHANNELS,
    PLAN_CHANGE_STATUSES,
    ROLE_VALUES,
    SEVERITIES,
    STATUSES,
)

_MODELS = {"credits": apb.BILLING_MODEL_CREDITS, "byom": apb.BILLING_MODEL_BYOM}
_SEVERITY_VALUES = {v: k for k, v in SEVERITIES.items()}
_PLAN_CHANGE_STATUS_VALUES = {v: k for k, v in PLAN_CHANGE_STATUSES.items()}
_STATUS_VALUES = {v: k for k, v in STATUSES.items()}
_CHANNEL_VALUES = {v: k for k, v in CHANNELS.items()}


def organization(org: Organization) -> apb.Organization:
    return apb.Organization(
        org_id=org.org_id, name=org.name, plan_id=org.plan_id, billing_model=_MODELS[org.billing_model],
        monthly_spend_cap_usd=decimal_or_empty(org.monthly_spend_cap_usd),
        billing_anchor=timestamp(org.billing_anchor), created_at=timestamp(org.created_at),
        next_plan_id=org.next_plan_id or "",
    )


def allowance(a: Allowance) -> apb.SetNegotiatedAllowanceResponse:
    return apb.SetNegotiatedAllowanceResponse(
        org_id=a.org_id, effective_from=timestamp(a.effective_from),
        monthly_credits=format_decimal(a.monthly_credits),
        limits=[apb.MeterLimit(meter=m, limit=decimal_or_empty(q)) for m, q in a.limits.items()],
    )


def workspace_group(group: WorkspaceGroup) -> apb.WorkspaceGroup:
    return apb.WorkspaceGroup(org_id=group.org_id, group_id=group.group_id, name=group.name)


def workspace(ws: Workspace) -> apb.Workspace:
    return apb.Workspace(org_id=ws.org_id, workspace_id=ws.workspace_id, name=ws.name,
                         group_id=ws.group_id or "")


def user(u: User) -> apb.User:
    return apb.User(org_id=u.org_id, user_id=u.user_id, email=u.email, name=u.name)


def api_key(record: ApiKeyRecord) -> apb.ApiKey:
    return apb.ApiKey(
        key_id=record.key_id, prefix=record.prefix, org_id=record.org_id or "",
        role=ROLE_VALUES[record.role], name=record.name, created_at=timestamp(record.created_at),
        revoked_at=optional_timestamp(record.revoked_at),
    )


def plans(catalogue: Sequence[CataloguePlan]) -> list[apb.Plan]:
    return [
        apb.Plan(
            plan_id=p.plan_id, name=p.name, monthly_credits=format_decimal(p.monthly_credits),
            price_usd=decimal_or_empty(p.price_usd),
            limits=[apb.PlanLimit(meter=meter, limit=decimal_or_empty(limit))
                    for meter, limit in p.limits.items()],
        )
        for p in catalogue
    ]


def plan_change_request(r: PlanChangeRequest) -> apb.PlanChangeRequest:
    return apb.PlanChangeRequest(org_id=r.org_id, request_id=str(r.request_id), plan_id=r.plan_id,
                                 note=r.note, requested_at=timestamp(r.requested_at),
                                 status=_PLAN_CHANGE_STATUS_VALUES[r.status], requested_by=r.requested_by,
                                 decided_by=r.decided_by or "", decided_at=optional_timestamp(r.decided_at),
                                 reason=r.reason)


def llm_price(dated: DatedLlmPrice) -> apb.LlmPrice:
    price = dated.price
    return apb.LlmPrice(
        model=price.model, effective_from=timestamp(dated.effective_from),
        input_usd_per_mtok=format_decimal(price.input),
        output_usd_per_mtok=format_decimal(price.output),
        cache_read_usd_per_mtok=format_decimal(price.cache_read),
        cache_write_usd_per_mtok=format_decimal(price.cache_write),
    )


def credit_rate(rate: CreditRate) -> apb.CreditRate:
    return apb.CreditRate(effective_from=timestamp(rate.effective_from),
                          credits_per_usd=format_decimal(rate.credits_per_usd))


def resource_rate(rate: ResourceRate) -> apb.ResourceRate:
    return apb.ResourceRate(resource=rate.resource, tier=rate.tier,
                            effective_from=timestamp(rate.effective_from),
                            hourly_usd=format_decimal(rate.hourly_usd),
                            monthly_usd=decimal_or_empty(rate.monthly_usd))


def credit_grant(org_id: str, grant: CreditGrant) -> apb.CreditGrant:
    return apb.CreditGrant(
        org_id=org_id, grant_id=grant.grant_id, kind=grant.kind, amount=format_decimal(grant.amount),
        remaining=format_decimal(grant.remaining), expires_at=optional_timestamp(grant.expires_at),
        source=grant.source, created_at=timestamp(grant.created_at),
    )


def quota(view: QuotaView) -> apb.Quota:
    return apb.Quota(
        org_id=view.org_id, resource=view.resource, soft_limit=decimal_or_empty(view.limits.soft_limit),
        hard_limit=decimal_or_empty(view.limits.hard_limit),
        alert_at_percent=view.limits.alert_at_percent or 0, alert_enabled=view.limits.alert_enabled,
        updated_at=timestamp(view.updated_at), current_usage=format_decimal(view.used),
    )


def alert(a: Alert) -> apb.Alert:
    return apb.Alert(
        org_id=a.org_id, alert_id=a.alert_id, resource=a.resource,
        severity=_SEVERITY_VALUES[a.severity], status=_STATUS_VALUES[a.status],
        current_usage=format_decimal(a.current_usage), quota_limit=format_decimal(a.quota_limit),
        usage_percent=format_decimal(a.usage_percent), threshold_percent=a.threshold_percent,
        message=a.message, triggered_at=timestamp(a.triggered_at),
        resolved_at=optional_timestamp(a.resolved_at),
    )


def alert_channels(channels: AlertChannels) -> apb.AlertChannels:
    return apb.AlertChannels(
        org_id=channels.org_id,
        routes=[apb.SeverityChannels(severity=_SEVERITY_VALUES[s], channels=[_CHANNEL_VALUES[c] for c in cs])
                for s, cs in sorted(channels.routes.items())],
        email_recipients=channels.email_recipients, webhook_url=channels.webhook_url or "",
        webhook_secret_set=channels.secret_set,
    )
