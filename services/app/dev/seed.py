"""Demo organizations for `metering dev`: one on credits (Free plan), one bring-your-own-model (USD cap).

Seeding is idempotent: an organization that exists is left as it is, and its welcome bonus is only
granted when the organization was created by this run, so restarting never adds credits. Their
billing periods begin some days before the run that creates them, so the demo month
(`demo_month.py`) has past days of the current period to fill.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg

from services.app.dev.demo_month import period_anchor
from services.metering.store.organizations import NewOrganization, add_bonus_grant, create_organization

WELCOME_BONUS_SOURCE = "metering dev: welcome bonus"


@dataclass(frozen=True)
class DemoOrganization:
    organization: NewOrganization
    welcome_bonus: Decimal | None
    summary: str


DEMO_ORGANIZATIONS = (
    DemoOrganization(
        NewOrganization(org_id="demo", name="Demo (Free plan)", plan_id="free", billing_model="credits"),
        welcome_bonus=Decimal(100),
        summary="Free plan: 500 credits/month + 100 bonus credits",
    ),
    DemoOrganization(
        NewOrganization(org_id="demo-byom", name="Demo (bring your own model)", plan_id="starter",
                        billing_model="byom", monthly_spend_cap_usd=Decimal(50)),
        welcome_bonus=None,
        summary="BYOM: metered in USD against a $50/month spend cap",
    ),
)


async def seed_demo_data(dsn: str) -> list[str]:
    """Creates the demo organizations that are missing; returns the ids created by this call."""
    conn = await asyncpg.connect(dsn)
    anchor = period_anchor(datetime.now(UTC))
    try:
        created = []
        for demo in DEMO_ORGANIZATIONS:
            # One transaction: an organization is never left without its welcome bonus.
            async with conn.transaction():
                if not await create_organization(conn, replace(demo.organization, billing_anchor=anchor)):
                    continue
                if demo.welcome_bonus is not None:
                    await add_bonus_grant(conn, demo.organization.org_id, demo.welcome_bonus,
                                          WELCOME_BONUS_SOURCE)
            created.append(demo.organization.org_id)
        return created
    finally:
        await conn.close()
