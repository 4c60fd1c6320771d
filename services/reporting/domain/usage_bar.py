"""The in-editor usage bar: the share of the period's credits used and which buttons to show.

The referral invite appears from 50 % (bonus credits earned by referrals), the upgrade button
from 75 %, and always on the free tier. A plan with custom pricing has no bigger plan to upgrade
to, and a spend-capped (BYOM) organization's cap is set by its admin, not by a plan, and bonus
credits do not apply to it: neither button shows for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from services.metering.domain.credits import Unit
from services.reporting.domain.results import Overview

REFERRAL_FROM_PERCENT = Decimal(50)
UPGRADE_FROM_PERCENT = Decimal(75)
FREE_PLAN = "free"


@dataclass(frozen=True)
class UsageBar:
    org_id: str
    unit: Unit
    used: Decimal
    total: Decimal
    percent: Decimal
    free_tier: bool
    show_upgrade: bool
    show_referral: bool


def usage_bar(overview: Overview) -> UsageBar:
    free = overview.org.plan_id == FREE_PLAN
    credits = overview.unit is Unit.CREDITS
    upgradable = credits and overview.org.price_usd is not None
    percent = overview.percent
    return UsageBar(
        overview.usage.org_id, overview.unit, overview.usage.used, overview.total, percent, free,
        show_upgrade=upgradable and (free or percent >= UPGRADE_FROM_PERCENT),
        show_referral=credits and percent >= REFERRAL_FROM_PERCENT,
    )
