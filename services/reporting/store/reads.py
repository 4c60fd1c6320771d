"""What the reports read from PostgreSQL: named statements and the functions that run them.

Money leaves here as it is stored (credits or USD, exact); conversions and shares are pure code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg

from services.metering.domain.readings import BucketFigure, SpanFigure, WorkspaceDay
from services.metering.store import usage_figures
from services.metering.store.usage_figures import METER_RATES
from services.reporting.domain.billed import BilledSegment
from services.reporting.domain.costs import SpendBucket
from services.reporting.domain.results import OrganizationPlan

# Figures over all of an organization's history span this.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FOREVER = datetime(9999, 1, 1, tzinfo=UTC)

SELECT_ORGANIZATION = """
SELECT o.org_id, o.name, o.plan_id, p.name AS plan_name, p.price_usd, p.monthly_credits,
       o.billing_model, o.billing_anchor, o.monthly_spend_cap_usd, statement_timestamp() AS now
FROM organizations o JOIN plans p USING (plan_id)
WHERE o.org_id = $1"""

SELECT_PLANS = "SELECT plan_id, name, price_usd, monthly_credits FROM plans ORDER BY plan_id"
SELECT_PLAN_LIMITS = "SELECT plan_id, meter, limit_quantity FROM plan_limits"

SELECT_UNIT_PRICES = f"""
WITH {METER_RATES}
SELECT DISTINCT ON (meter) meter, unit_usd FROM rates
WHERE effective_from <= $1
ORDER BY meter, effective_from DESC"""

_CREDIT_RATES = """
credit_rate AS (
    SELECT credits_per_usd, effective_from,
           lead(effective_from) OVER (ORDER BY effective_from) AS effective_to
    FROM credit_rates
)"""

# Granted spend per bucket, kind (LLM or direct), user and rate in [$2, $3).
SELECT_SPEND_BUCKETS = f"""
WITH {_CREDIT_RATES}
SELECT date_trunc($4, d.created_at AT TIME ZONE 'UTC') AS bucket, d.model IS NOT NULL AS llm,
       coalesce(d.user_id, '') AS user_id, coalesce(u.name, '') AS user_name, d.unit,
       r.credits_per_usd, sum(d.amount) AS amount
FROM deductions d
LEFT JOIN credit_rate r ON d.unit = 'credits' AND d.created_at >= r.effective_from
                       AND (r.effective_to IS NULL OR d.created_at < r.effective_to)
LEFT JOIN users u ON u.org_id = d.org_id AND u.user_id = d.user_id
WHERE d.org_id = $1 AND d.granted AND d.created_at >= $2 AND d.created_at < $3
GROUP BY 1, 2, 3, 4, 5, 6
ORDER BY 1"""

# Granted spend in the organization's unit per chart bucket and source; $4 is the bucket width.
SELECT_CHART = """
SELECT date_bin($4::interval, created_at, $2) AS bucket, coalesce(source, '') AS source,
       sum(amount) AS amount
FROM deductions
WHERE org_id = $1 AND granted AND unit = $5 AND created_at >= $2 AND created_at < $3
GROUP BY 1, 2"""

_TOP = """
WITH spend AS (
    SELECT {key} AS id, sum(d.amount) AS amount
    FROM deductions d {join_d}
    WHERE d.org_id = $1 AND d.granted AND d.unit = $4 AND d.created_at >= $2 AND d.created_at < $3
    GROUP BY 1
), requests AS (
    SELECT {key_e} AS id, count(*) AS requests
    FROM usage_events e {join_e}
    WHERE e.org_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3 AND e.deduction_key IS NULL
    GROUP BY 1
), ranked AS (
    SELECT coalesce(s.id, q.id) AS id, coalesce(s.amount, 0) AS amount,
           coalesce(q.requests, 0) AS requests
    FROM spend s FULL JOIN requests q ON q.id = s.id
)
SELECT r.id, coalesce(n.name, '') AS name, r.amount, r.requests,
       count(*) OVER () AS total_count, sum(r.amount) OVER () AS org_amount
FROM ranked r LEFT JOIN {names} n ON n.org_id = $1 AND n.{name_key} = r.id
ORDER BY r.amount DESC, r.requests DESC, r.id
LIMIT $5 OFFSET $6"""

SELECT_TOP_WORKSPACES = _TOP.format(
    key="coalesce(d.workspace_id, '')", join_d="", key_e="coalesce(e.workspace_id, '')", join_e="",
    names="workspaces", name_key="workspace_id")
SELECT_TOP_GROUPS = _TOP.format(
    key="coalesce(w.group_id, '')",
    join_d="LEFT JOIN workspaces w ON w.org_id = d.org_id AND w.workspace_id = d.workspace_id",
    key_e="coalesce(w.group_id, '')",
    join_e="LEFT JOIN workspaces w ON w.org_id = e.org_id AND w.workspace_id = e.workspace_id",
    names="workspace_groups", name_key="group_id")
SELECT_TOP_USERS = _TOP.format(
    key="coalesce(d.user_id, '')", join_d="", key_e="coalesce(e.user_id, '')", join_e="",
    names="users", name_key="user_id")
TOP_STATEMENTS = {"workspace": SELECT_TOP_WORKSPACES, "group": SELECT_TOP_GROUPS, "user": SELECT_TOP_USERS}

# Every workspace of the organization with its granted spend in [$2, $3).
SELECT_WORKSPACE_SPEND = """
SELECT w.workspace_id, coalesce(sum(d.amount), 0) AS amount
FROM workspaces w
LEFT JOIN deductions d ON d.org_id = w.org_id AND d.workspace_id = w.workspace_id AND d.granted
                      AND d.created_at >= $2 AND d.created_at < $3
WHERE w.org_id = $1
GROUP BY w.workspace_id"""

@dataclass(frozen=True)
class Plan:
    plan_id: str
    name: str
    price_usd: Decimal | None  # None: custom pricing
    monthly_credits: Decimal


@dataclass(frozen=True)
class PlanLimit:
    plan_id: str
    meter: str
    limit_quantity: Decimal | None  # None: unlimited


@dataclass(frozen=True)
class SourceSpend:
    """Granted spend in the organization's unit in one chart bucket from one source ("" unnamed)."""

    bucket: datetime
    source: str
    amount: Decimal


@dataclass(frozen=True)
class RankedConsumer:
    """A workspace, group or user by spend this period, with the figures of the whole ranking."""

    id: str
    name: str
    amount: Decimal
    requests: int
    total_count: int  # consumers ranked, over all pages
    org_amount: Decimal  # spend of all ranked consumers


@dataclass(frozen=True)
class ServedRequests:
    """The API's recorded calls of an organization: all of them and the HTTP API's, with latencies."""

    requests: Decimal
    latency_ms_sum: Decimal
    http_requests: Decimal
    http_latency_ms_sum: Decimal


@dataclass(frozen=True)
class AgentUsage:
    registered: int
    ephemeral: int
    tasks: int
    tokens: Decimal


# What the API's own request metrics recorder stored: every call (HTTP and reporting RPCs) and the
# HTTP API's alone, each with its summed latency.
SELECT_SERVED = """
SELECT coalesce(sum(requests), 0) AS requests, coalesce(sum(latency_ms_sum), 0) AS latency_ms_sum,
       coalesce(sum(requests) FILTER (WHERE surface = 'http'), 0) AS http_requests,
       coalesce(sum(latency_ms_sum) FILTER (WHERE surface = 'http'), 0) AS http_latency_ms_sum
FROM api_request_metrics WHERE org_id = $1"""

# Agent usage this period. An agent is one user's assistant in one workspace: each distinct
# (workspace, user) pair that ran LLM work (granted LLM deductions, LLM token usage events). It is
# registered (persistent) when both the workspace and the user are registered with the
# organization, ephemeral when either is unnamed or unknown (a one-off CLI run, a CI job). A task
# is one LLM response: one hold (a streamed response) or one deduction that named no hold.
SELECT_AGENTS = """
WITH llm AS (
    SELECT org_id, workspace_id, user_id FROM deductions
    WHERE org_id = $1 AND granted AND model IS NOT NULL AND created_at >= $2 AND created_at < $3
    UNION
    SELECT org_id, workspace_id, user_id FROM usage_events
    WHERE org_id = $1 AND meter = 'llm_tokens' AND occurred_at >= $2 AND occurred_at < $3
)
SELECT count(*) FILTER (WHERE w.workspace_id IS NOT NULL AND u.user_id IS NOT NULL) AS registered,
       count(*) FILTER (WHERE w.workspace_id IS NULL OR u.user_id IS NULL) AS ephemeral
FROM llm
LEFT JOIN workspaces w ON w.org_id = llm.org_id AND w.workspace_id = llm.workspace_id
LEFT JOIN users u ON u.org_id = llm.org_id AND u.user_id = llm.user_id"""

SELECT_AGENT_TASKS = """
SELECT count(DISTINCT coalesce('h:' || hold_id, 'd:' || idempotency_key)) AS tasks,
       coalesce(sum(coalesce((tokens->>'input')::numeric, 0) + coalesce((tokens->>'output')::numeric, 0)
                    + coalesce((tokens->>'cache_read')::numeric, 0)
                    + coalesce((tokens->>'cache_write')::numeric, 0)), 0) AS tokens
FROM deductions
WHERE org_id = $1 AND granted AND model IS NOT NULL AND created_at >= $2 AND created_at < $3"""


async def find_organization(conn: asyncpg.Connection, org_id: str) -> OrganizationPlan | None:
    row = await conn.fetchrow(SELECT_ORGANIZATION, org_id)
    return None if row is None else OrganizationPlan(**dict(row))


async def plans(conn: asyncpg.Connection) -> tuple[list[Plan], list[PlanLimit]]:
    return ([Plan(**dict(r)) for r in await conn.fetch(SELECT_PLANS)],
            [PlanLimit(**dict(r)) for r in await conn.fetch(SELECT_PLAN_LIMITS)])


async def meter_buckets(conn: asyncpg.Connection, org_id: str, start: datetime, end: datetime,
                        unit: str, meter: str = "") -> list[BucketFigure]:
    return await usage_figures.bucket_figures(conn, org_id, start, end, unit, meter)


async def meter_by_workspace_day(conn: asyncpg.Connection, org_id: str, meter: str, start: datetime,
                                 end: datetime) -> list[WorkspaceDay]:
    return await usage_figures.workspace_days(conn, org_id, meter, start, end)


async def meter_totals(conn: asyncpg.Connection, org_id: str, start: datetime, end: datetime,
                       meter: str = "") -> dict[str, SpanFigure]:
    return await usage_figures.span_figures(conn, org_id, start, end, meter)


async def unit_prices(conn: asyncpg.Connection, at: datetime) -> dict[str, Decimal]:
    return {r["meter"]: r["unit_usd"] for r in await conn.fetch(SELECT_UNIT_PRICES, at)}


async def spend_buckets(conn: asyncpg.Connection, org_id: str, start: datetime, end: datetime,
                        unit: str) -> list[SpendBucket]:
    return [SpendBucket(**dict(r)) for r in await conn.fetch(SELECT_SPEND_BUCKETS, org_id, start, end, unit)]


async def chart(conn: asyncpg.Connection, org_id: str, start: datetime, end: datetime,
                width_seconds: int, unit: str) -> list[SourceSpend]:
    rows = await conn.fetch(SELECT_CHART, org_id, start, end, timedelta(seconds=width_seconds), unit)
    return [SourceSpend(**dict(r)) for r in rows]


async def top(conn: asyncpg.Connection, kind: str, org_id: str, start: datetime, end: datetime,
              unit: str, limit: int, offset: int) -> list[RankedConsumer]:
    rows = await conn.fetch(TOP_STATEMENTS[kind], org_id, start, end, unit, limit, offset)
    return [RankedConsumer(**dict(r)) for r in rows]


async def workspace_spend(conn: asyncpg.Connection, org_id: str, start: datetime,
                          end: datetime) -> dict[str, Decimal]:
    rows = await conn.fetch(SELECT_WORKSPACE_SPEND, org_id, start, end)
    return {r["workspace_id"]: r["amount"] for r in rows}


async def meter_before(conn: asyncpg.Connection, org_id: str, meter: str, before: datetime) -> Decimal:
    return (await usage_figures.period_figure(conn, org_id, meter, EPOCH, before)).used


async def meter_all_time(conn: asyncpg.Connection, org_id: str, meter: str) -> Decimal:
    return (await usage_figures.period_figure(conn, org_id, meter, EPOCH, FOREVER)).used


async def served(conn: asyncpg.Connection, org_id: str) -> ServedRequests:
    return ServedRequests(**dict(await conn.fetchrow(SELECT_SERVED, org_id)))


async def agent_usage(conn: asyncpg.Connection, org_id: str, start: datetime,
                      end: datetime) -> AgentUsage:
    agents = await conn.fetchrow(SELECT_AGENTS, org_id, start, end)
    tasks = await conn.fetchrow(SELECT_AGENT_TASKS, org_id, start, end)
    return AgentUsage(agents["registered"], agents["ephemeral"], tasks["tasks"], tasks["tokens"])

# The billing worker's per-second resources with their segments overlapping [$2, $3).
SELECT_BILLED_SEGMENTS = """
SELECT r.resource_id, r.name, r.kind, r.tier, r.status, r.quantity, r.user_id, r.created_at,
       s.quantity AS segment_quantity, s.hourly_usd, s.started_at, s.ended_at
FROM resources r
JOIN resource_segments s ON s.org_id = r.org_id AND s.resource_id = r.resource_id
WHERE r.org_id = $1 AND s.started_at < $3 AND (s.ended_at IS NULL OR s.ended_at > $2)
ORDER BY r.resource_id, s.segment_no"""

# What one namespace costs a month: the Pro tier of the billing worker's namespace resources
# (Compute Namespaces Pro, $29/month in the seeded catalogue), else a rate for the namespaces meter.
SELECT_NAMESPACE_PRICE = """
SELECT monthly_usd FROM resource_rates
WHERE ((resource = 'namespace' AND tier = 'pro') OR (resource = 'namespaces' AND tier = ''))
  AND monthly_usd IS NOT NULL AND effective_from <= $1
ORDER BY resource = 'namespace' DESC, effective_from DESC
LIMIT 1"""

SELECT_PERIOD_ALLOWANCE = """
SELECT amount FROM credit_grants
WHERE org_id = $1 AND kind IN ('monthly', 'spend_cap') AND period_start = $2"""


async def period_allowance(conn: asyncpg.Connection, org_id: str, period_start: datetime) -> Decimal | None:
    value: Decimal | None = await conn.fetchval(SELECT_PERIOD_ALLOWANCE, org_id, period_start)
    return value


async def billed_segments(conn: asyncpg.Connection, org_id: str, start: datetime,
                          end: datetime) -> list[BilledSegment]:
    return [BilledSegment(**dict(r)) for r in await conn.fetch(SELECT_BILLED_SEGMENTS, org_id, start, end)]


async def namespace_price(conn: asyncpg.Connection, at: datetime) -> Decimal | None:
    value: Decimal | None = await conn.fetchval(SELECT_NAMESPACE_PRICE, at)
    return value
