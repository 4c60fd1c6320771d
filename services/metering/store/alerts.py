"""Raising and resolving quota alerts, and queueing their deliveries in the outbox.

Called inside the transaction that changes the usage or the limit, while it holds the lock that
serializes changes of that resource, so a crossing is seen by exactly one writer; the partial
unique index on active alerts backs that up. Every call reconciles: the active alerts become
exactly those the usage calls for against the limits in force, whatever changed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg

from services.metering.domain.alerts import (
    DEFAULT_ROUTES,
    QuotaLimits,
    Severity,
    alert_message,
    alerts_called_for,
)
from services.metering.domain.quota import percent_used

SELECT_ACTIVE_ALERTS = """
SELECT severity FROM alerts WHERE org_id = $1 AND resource = $2 AND status = 'active'"""

INSERT_ALERT = """
INSERT INTO alerts (org_id, alert_id, resource, severity, status, threshold_percent, current_usage,
                    quota_limit, usage_percent, message, triggered_at)
VALUES ($1, $2, $3, $4, 'active', $5, $6, $7, $8, $9, $10)
ON CONFLICT (org_id, resource, severity) WHERE status = 'active' DO NOTHING
RETURNING alert_id"""

RESOLVE_ALERTS = """
UPDATE alerts SET status = 'resolved', resolved_at = $4
WHERE org_id = $1 AND resource = $2 AND status = 'active' AND severity = ANY($3::text[])"""

SELECT_CHANNELS = "SELECT routes, email_recipients, webhook_url FROM alert_channels WHERE org_id = $1"

INSERT_DELIVERIES = """
INSERT INTO alert_outbox (org_id, alert_id, channel, status, next_attempt_at)
SELECT $1, $2, channel, 'pending', $4 FROM unnest($3::text[]) AS channel
ON CONFLICT DO NOTHING"""


async def reconcile(conn: asyncpg.Connection, org_id: str, resource: str, limits: QuotaLimits,
                    used: Decimal, now: datetime, active: Set[Severity] | None = None) -> frozenset[Severity]:
    """Makes the active alerts of a resource exactly the ones its usage calls for, and returns
    them; `active`, when the caller read them under the same lock, saves reading them again."""
    wanted = alerts_called_for(used, limits)
    if active is None:
        active = {Severity(r["severity"]) for r in await conn.fetch(SELECT_ACTIVE_ALERTS, org_id, resource)}
    stale = [s.value for s in active - wanted.keys()]
    if stale:
        await conn.execute(RESOLVE_ALERTS, org_id, resource, stale, now)
    base = limits.base
    for severity in wanted.keys() - active:
        assert base is not None
        alert_id = uuid.uuid4().hex
        raised = await conn.fetchval(
            INSERT_ALERT, org_id, alert_id, resource, severity.value, wanted[severity].threshold_percent,
            used, base, percent_used(used, base), alert_message(resource, used, base), now,
        )
        if raised:
            await conn.execute(INSERT_DELIVERIES, org_id, alert_id,
                               await _channels(conn, org_id, severity), now)
    return frozenset(wanted)


async def _channels(conn: asyncpg.Connection, org_id: str, severity: Severity) -> list[str]:
    """The severity's route, limited to channels the organization has an address for."""
    row = await conn.fetchrow(SELECT_CHANNELS, org_id)
    if row is None:
        return ["in_app"]
    channels = json.loads(row["routes"]).get(severity.value, list(DEFAULT_ROUTES[severity]))
    usable = {"in_app", *(["email"] if row["email_recipients"] else []),
              *(["webhook"] if row["webhook_url"] else [])}
    return [c for c in channels if c in usable]


SELECT_ALERTS = """
SELECT org_id, alert_id, resource, severity, status, threshold_percent, current_usage, quota_limit,
       usage_percent, message, triggered_at, resolved_at
FROM alerts
WHERE org_id = $1 AND ($2 = '' OR severity = $2) AND ($3 = '' OR status = $3)
  AND ($4 = '' OR resource = $4)
ORDER BY triggered_at DESC, alert_id
LIMIT 1000"""

UPSERT_CHANNELS = """
INSERT INTO alert_channels (org_id, routes, email_recipients, webhook_url, webhook_secret, updated_at)
VALUES ($1, $2::jsonb, $3, $4, $5, statement_timestamp())
ON CONFLICT (org_id) DO UPDATE
SET routes = EXCLUDED.routes, email_recipients = EXCLUDED.email_recipients,
    webhook_url = EXCLUDED.webhook_url,
    webhook_secret = coalesce(EXCLUDED.webhook_secret, alert_channels.webhook_secret),
    updated_at = EXCLUDED.updated_at
RETURNING org_id, routes, email_recipients, webhook_url, webhook_secret IS NOT NULL AS secret_set"""


@dataclass(frozen=True)
class Alert:
    org_id: str
    alert_id: str
    resource: str
    severity: str  # warning | critical | overage | budget | plan_change
    status: str  # active | resolved
    threshold_percent: int
    current_usage: Decimal
    quota_limit: Decimal
    usage_percent: Decimal
    message: str
    triggered_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class AlertChannels:
    """Where an organization's alerts go; the webhook secret itself is never read back."""

    org_id: str
    routes: dict[str, list[str]]  # severity -> channels
    email_recipients: list[str]
    webhook_url: str | None
    secret_set: bool


async def list_alerts(conn: asyncpg.Connection, org_id: str, severity: str, status: str,
                      resource: str) -> list[Alert]:
    """Newest first, at most 1000; "" for a filter matches every value."""
    return [Alert(**dict(row)) for row in await conn.fetch(SELECT_ALERTS, org_id, severity, status, resource)]


async def set_channels(conn: asyncpg.Connection, org_id: str, routes: dict[str, list[str]],
                       recipients: list[str], webhook_url: str | None,
                       webhook_secret: str | None) -> AlertChannels:
    """Replaces the channels; a None secret keeps the one stored."""
    row = await conn.fetchrow(UPSERT_CHANNELS, org_id, json.dumps(routes), recipients, webhook_url,
                              webhook_secret)
    return AlertChannels(row["org_id"], json.loads(row["routes"]), list(row["email_recipients"]),
                         row["webhook_url"], row["secret_set"])


SELECT_NOW = "SELECT statement_timestamp()"

INSERT_NOTICE = """
INSERT INTO alerts (org_id, alert_id, resource, severity, status, threshold_percent, current_usage,
                    quota_limit, usage_percent, message, triggered_at)
VALUES ($1, $2, $3, 'plan_change', 'active', 0, 0, 0, 0, $4, statement_timestamp())
RETURNING triggered_at"""


async def raise_notice(conn: asyncpg.Connection, org_id: str, resource: str, message: str) -> str:
    """A `plan_change` notice, active (shown in-app) until the next one of its resource replaces
    it, delivered on the channels the organization routes that severity to; returns its id."""
    now = await conn.fetchval(SELECT_NOW)
    await conn.execute(RESOLVE_ALERTS, org_id, resource, [Severity.PLAN_CHANGE.value], now)
    alert_id = uuid.uuid4().hex
    raised = await conn.fetchval(INSERT_NOTICE, org_id, alert_id, resource, message)
    channels = await _channels(conn, org_id, Severity.PLAN_CHANGE)
    await conn.execute(INSERT_DELIVERIES, org_id, alert_id, channels, raised)
    return alert_id
