"""An organization's credits per billing period, as a fragment of the statements that need it: its
plan's monthly credits, or on a negotiated plan the allowance in force (NULL: none yet, so no
credit limit). A scalar subquery rather than a database function: Citus cannot run a function
that reads distributed tables inside a query routed to one organization's shard."""

from __future__ import annotations


def period_credits(org_id: str) -> str:
    """The SQL expression of the credits per period of the organization `org_id`: the statement's
    organization parameter (e.g. `$1`), which also lets Citus route the statement to one shard."""
    return f"""(SELECT CASE WHEN pc_plan.negotiated THEN
            (SELECT pc_a.monthly_credits FROM negotiated_allowances pc_a
             WHERE pc_a.org_id = {org_id} AND pc_a.effective_from <= statement_timestamp()
             ORDER BY pc_a.effective_from DESC LIMIT 1)
        ELSE pc_plan.monthly_credits END
     FROM organizations pc_org JOIN plans pc_plan ON pc_plan.plan_id = pc_org.plan_id
     WHERE pc_org.org_id = {org_id})"""
