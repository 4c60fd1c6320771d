"""Reads behind GetQuota and Project: the credit balance or one meter's use this period."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import asyncpg

from services.metering.domain.billing_period import BillingPeriod, period_containing
from services.metering.domain.credits import Unit, period_allowance
from services.metering.domain.readings import Usage
from services.metering.store.allowances import period_credits
from services.metering.store.periods import credits_unlimited, period_grant, terms_of
from services.metering.store.quota_limits import OVERSPENT, meter_limit
from services.metering.store.usage_figures import aggregation, period_figure

SELECT_CREDIT_STATUS = f"""
SELECT b.period_start, b.period_end, b.monthly_remaining, b.bonus_remaining, b.reserved,
       b.period_used, o.billing_model, o.billing_anchor, o.monthly_spend_cap_usd, o.plan_id,
       {period_credits('$1')} AS monthly_credits, statement_timestamp() AS now, {OVERSPENT}
FROM balances b JOIN organizations o USING (org_id)
WHERE b.org_id = $1"""

SELECT_METER = "SELECT 1 FROM meters WHERE meter = $1"


class Missing(Enum):
    """What a usage read found missing, named by the request field that asked for it."""

    ORGANIZATION = "org_id"
    METER = "meter"


async def find_usage(conn: asyncpg.Connection, org_id: str, meter: str) -> Usage | Missing:
    """The organization's credits, or with `meter` that meter's use this period."""
    status = await conn.fetchrow(SELECT_CREDIT_STATUS, org_id)
    if status is None:
        return Missing.ORGANIZATION
    credits = _credit_usage(org_id, status)
    if not meter:
        return credits
    if await conn.fetchval(SELECT_METER, meter) is None:
        return Missing.METER
    limit = await meter_limit(conn, org_id, meter)
    period = credits.period
    used = (await period_figure(conn, org_id, meter, period.start, period.end)).used
    return Usage(
        org_id, meter, None, used, limit, None if limit is None else limit - used,
        credits.monthly_remaining, credits.bonus_remaining, credits.reserved, period, credits.now,
        await aggregation(conn, meter),
    )


def _credit_usage(org_id: str, s: asyncpg.Record) -> Usage:
    now: datetime = s["now"]
    unit = Unit.of_billing_model(s["billing_model"])
    period = BillingPeriod(s["period_start"], s["period_end"])
    monthly, used, overspent = s["monthly_remaining"], s["period_used"], s["overspent"]
    if now >= period.end:
        # No write has opened the new period yet: show it as the next write will open it.
        period = period_containing(s["billing_anchor"], now)
        monthly, used, overspent = period_grant(terms_of(s))[1], Decimal(0), Decimal(0)
    available = monthly + s["bonus_remaining"]
    if credits_unlimited(terms_of(s)):
        limit = left = None
    else:
        limit, left = period_allowance(used, s["reserved"], available, overspent), available
    return Usage(org_id, "", unit, used, limit, left, monthly, s["bonus_remaining"], s["reserved"],
                 period, now)
