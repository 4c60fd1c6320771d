"""What the admin API and the reporting API do to organizations, API keys, grants, plans and
quotas: each call is one unit of work, checked before the store is called (the store functions
take the connection and never commit)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import asyncpg

from services.kit.caller import Role
from services.kit.errors import FieldError, NotFoundError
from services.kit.unit_of_work import unit_of_work
from services.metering.domain.readings import QuotaView
from services.metering.service import organizations as organization_checks
from services.metering.service import plan_changes
from services.metering.service.organizations import require_organization, unknown_organization
from services.metering.store import alerts as alert_store
from services.metering.store import api_keys, organizations, quota_limits
from services.metering.store.alerts import Alert, AlertChannels
from services.metering.store.api_keys import ApiKeyRecord, KeyRing
from services.metering.store.organizations import BonusGrant, CreditGrant, NewOrganization, Organization
from services.metering.store.plan_changes import Allowance


class Administration:
    def __init__(self, pool: asyncpg.Pool, keys: KeyRing | None = None) -> None:
        self.pool = pool
        self._keys = keys  # told of revocations, so this replica refuses a revoked key at once

    async def get_organization(self, org_id: str) -> Organization:
        async with self.pool.acquire() as conn:
            return await require_organization(conn, org_id)

    async def list_organizations(self, after: str, limit: int) -> list[Organization]:
        async with self.pool.acquire() as conn:
            return await organizations.list_organizations(conn, after, limit)

    async def rename_organization(self, org_id: str, name: str) -> Organization:
        async with unit_of_work(self.pool) as conn:
            return await organization_checks.rename_organization(conn, org_id, name)

    async def create_api_key(self, org_id: str | None, role: Role, name: str) -> tuple[ApiKeyRecord, str]:
        """The new key and its secret (shown once); platform admin keys have no organization."""
        async with unit_of_work(self.pool) as conn:
            if org_id is not None:
                await require_organization(conn, org_id)
            return await api_keys.create_api_key(conn, org_id, role, name)

    async def list_api_keys(self, org_id: str | None) -> list[ApiKeyRecord]:
        async with self.pool.acquire() as conn:
            return await api_keys.list_api_keys(conn, org_id)

    async def revoke_api_key(self, org_id: str | None, key_id: str) -> ApiKeyRecord:
        async with unit_of_work(self.pool) as conn:
            record = await api_keys.revoke_api_key(conn, org_id, key_id)
        if record is None:
            raise NotFoundError("key_id", f"API key {key_id!r} does not exist")
        if self._keys is not None:
            self._keys.forget(key_id)
        return record

    async def credit_grants(self, org_id: str) -> list[CreditGrant]:
        async with self.pool.acquire() as conn:
            return await organization_checks.credit_grants(conn, org_id)

    async def alerts(self, org_id: str, severity: str, status: str, resource: str) -> list[Alert]:
        """Newest first, at most 1000; "" for a filter matches every value."""
        async with self.pool.acquire() as conn:
            await require_organization(conn, org_id)
            return await alert_store.list_alerts(conn, org_id, severity, status, resource)

    async def set_alert_channels(self, org_id: str, routes: dict[str, list[str]], recipients: list[str],
                                 webhook_url: str | None, webhook_secret: str | None) -> AlertChannels:
        async with unit_of_work(self.pool) as conn:
            await require_organization(conn, org_id)
            return await alert_store.set_channels(conn, org_id, routes, recipients, webhook_url,
                                                  webhook_secret)

    async def list_quotas(self, org_id: str) -> list[QuotaView]:
        async with self.pool.acquire() as conn:
            await require_organization(conn, org_id)
            return await quota_limits.list_quotas(conn, org_id)

    async def create_organization(self, new: NewOrganization) -> Organization:
        if new.billing_model not in ("credits", "byom"):
            raise FieldError("billing_model", "must be 'credits' or 'byom'")
        if new.billing_model == "byom" and new.monthly_spend_cap_usd is None:
            raise FieldError("monthly_spend_cap_usd", "is required for BYOM organizations")
        async with unit_of_work(self.pool) as conn:
            await plan_changes.require_plan(conn, new.plan_id)
            if not await organizations.create_organization(conn, new):
                raise FieldError("org_id", f"organization {new.org_id!r} already exists")
            return await require_organization(conn, new.org_id)

    async def grant_bonus_credits(self, org_id: str, amount: Decimal, source: str,
                                  expires_at: datetime | None,
                                  idempotency_key: str | None) -> tuple[CreditGrant, bool]:
        """The grant (made now, or earlier under the same key) and whether it was made earlier.

        A key answers only the grant it was first used for: the same key with any parameter
        changed is refused, naming that parameter."""
        if amount <= 0:
            raise FieldError("amount", "must be greater than 0")
        async with unit_of_work(self.pool) as conn:
            grant = await organizations.add_bonus_grant(conn, org_id, amount, source, expires_at,
                                                        idempotency_key)
            if grant is None:
                raise unknown_organization(org_id)
            if grant.replayed:
                _same_grant(grant, amount, source, expires_at)
            grants = await organizations.list_grants(conn, org_id)
        return next(g for g in grants if g.grant_id == grant.grant_id), grant.replayed

    async def change_plan(self, org_id: str, plan_id: str) -> Organization:
        async with unit_of_work(self.pool) as conn:
            return await plan_changes.change_plan(conn, org_id, plan_id)

    async def set_spend_cap(self, org_id: str, cap: Decimal) -> Organization:
        async with unit_of_work(self.pool) as conn:
            return await plan_changes.set_spend_cap(conn, org_id, cap)

    async def set_allowance(self, org_id: str, monthly_credits: Decimal, limits: dict[str, Decimal | None],
                            at_once: bool) -> Allowance:
        async with unit_of_work(self.pool) as conn:
            return await plan_changes.set_allowance(conn, org_id, monthly_credits, limits, at_once)

    async def set_quota(self, org_id: str, resource: str, soft: Decimal | None, hard: Decimal | None,
                        alert_at_percent: int | None, alert_enabled: bool) -> QuotaView:
        if soft is not None and hard is not None and soft > hard:
            raise FieldError("soft_limit", "must not be greater than hard_limit")
        async with unit_of_work(self.pool) as conn:
            await require_organization(conn, org_id)
            await _require_resource(conn, resource)
            return await quota_limits.set_quota(conn, org_id, resource, soft, hard, alert_at_percent,
                                                alert_enabled)

    async def set_budget_alert(self, org_id: str, resource: str, alert_at_percent: int | None,
                               alert_enabled: bool) -> QuotaView:
        async with unit_of_work(self.pool) as conn:
            await require_organization(conn, org_id)
            await _require_resource(conn, resource)
            return await quota_limits.set_budget_alert(conn, org_id, resource, alert_at_percent,
                                                       alert_enabled)


def _same_grant(earlier: BonusGrant, amount: Decimal, source: str, expires_at: datetime | None) -> None:
    """Refuses a reused idempotency key, naming the first parameter that differs from its grant's."""
    for field, stored, asked in (("amount", earlier.amount, amount), ("source", earlier.source, source),
                                 ("expires_at", earlier.expires_at, expires_at)):
        if stored != asked:
            raise FieldError(field, "differs from the earlier grant with this idempotency_key; "
                                    "use a new idempotency_key for a different grant")


async def _require_resource(conn: asyncpg.Connection, resource: str) -> None:
    if not await quota_limits.is_resource(conn, resource):
        raise NotFoundError("resource", f"resource {resource!r} is neither a meter nor 'credits'")
