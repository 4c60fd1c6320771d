"""What an organization is allowed per billing period, as fragments of the statements that need it:
its credits (the plan's monthly credits, or on a negotiated plan the allowance in force; NULL
while none is, so no credit limit) and its meter limits (the plan's, overridden and extended by
the allowance in force).

Fragments rather than database functions or views: each is pinned to the statement's
organization parameter, so Citus routes the whole statement to that organization's shard (it
cannot run a function that reads distributed tables inside such a query, nor join a view that
ranks every organization's allowances)."""

from __future__ import annotations


def allowance_in_force(org_id: str) -> str:
    """When the negotiated allowance in force for `org_id` took effect (NULL: none)."""
    return f"""(SELECT al.effective_from FROM negotiated_allowances al
     WHERE al.org_id = {org_id} AND al.effective_from <= statement_timestamp()
     ORDER BY al.effective_from DESC LIMIT 1)"""


def period_credits(org_id: str) -> str:
    """The credits per period of the organization `org_id`: the statement's organization
    parameter (e.g. `$1`)."""
    return f"""(SELECT CASE WHEN pc_plan.negotiated THEN
            (SELECT pc_a.monthly_credits FROM negotiated_allowances pc_a
             WHERE pc_a.org_id = {org_id} AND pc_a.effective_from = {allowance_in_force(org_id)})
        ELSE pc_plan.monthly_credits END
     FROM organizations pc_org JOIN plans pc_plan ON pc_plan.plan_id = pc_org.plan_id
     WHERE pc_org.org_id = {org_id})"""


def meter_limits(org_id: str) -> str:
    """A derived table of the organization's limits in force: (org_id, meter, limit_quantity,
    negotiated)."""
    allowance = allowance_in_force(org_id)
    return f"""(
    SELECT o.org_id, pl.meter,
           CASE WHEN n.meter IS NOT NULL THEN n.limit_quantity ELSE pl.limit_quantity END AS limit_quantity,
           n.meter IS NOT NULL AS negotiated
    FROM organizations o
    JOIN plan_limits pl ON pl.plan_id = o.plan_id
    LEFT JOIN negotiated_limits n
           ON n.org_id = {org_id} AND n.effective_from = {allowance} AND n.meter = pl.meter
    WHERE o.org_id = {org_id}
    UNION ALL
    SELECT n.org_id, n.meter, n.limit_quantity, true
    FROM negotiated_limits n JOIN organizations o ON o.org_id = n.org_id
    WHERE n.org_id = {org_id} AND n.effective_from = {allowance}
      AND NOT EXISTS (SELECT 1 FROM plan_limits pl WHERE pl.plan_id = o.plan_id AND pl.meter = n.meter))"""
