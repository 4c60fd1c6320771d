"""The golden month's expected figures, worked out by hand from the product rules.

Prices (migrations 0002/0004): claude-sonnet-4 $3 input / $15 output per million tokens,
claude-haiku-4 $1 / $5, gpt-4o $2.50 / $10 / $1.25 cache read / $2.50 cache write; 100 credits a
dollar; queries $0.0001, API requests $0.000001, bandwidth $0.10 a GB, storage $0.10 a GB-month;
Postgres Pro $0.0397 an hour, Postgres Scale $0.1355, namespace Pro $0.0397. Plans: Free 500
credits; Starter 9,900 credits, $99, 500K tokens, 10,000 queries, 10 GB, 5 seats; Professional
49,900 credits, $499, 5M, 100,000, 100 GB, 25 seats; Enterprise unlimited tokens, queries and
seats, 1,000 GB, custom price.

Only the moments the server chose itself (when it applied an upgrade, when a projection was
taken) enter as inputs; the rules applied to them are written out here, not taken from the code.
"""

from __future__ import annotations

import calendar
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

D = Decimal
MILLIONTH = D("0.000001")
DAY_SECONDS = D(86_400)


def period_end(anchor: datetime) -> datetime:
    """The anchor one calendar month on, the day clamped to the month's length."""
    year, month = (anchor.year + 1, 1) if anchor.month == 12 else (anchor.year, anchor.month + 1)
    return anchor.replace(year=year, month=month, day=min(anchor.day, calendar.monthrange(year, month)[1]))


def exact_days(seconds: float | Decimal) -> Decimal:
    return D(str(seconds)) / DAY_SECONDS


def days_between(start: datetime, at: datetime) -> Decimal:
    return exact_days((at - start).total_seconds())


def prorated(amount: Decimal, moment: datetime, start: datetime, end: datetime) -> Decimal:
    """An upgrade's extra monthly credits: the difference x time left ÷ period length, down to 1e-6."""
    left = D(str((end - moment).total_seconds()))
    whole = D(str((end - start).total_seconds()))
    return (amount * left / whole).quantize(MILLIONTH, ROUND_DOWN)


def straight_line(used: Decimal, start: datetime, end: datetime, at: datetime) -> Decimal:
    """Period-end projection: used + used ÷ days elapsed (at least one) x days left, at moment `at`."""
    elapsed = max(exact_days((at - start).total_seconds()), D(1))
    left = exact_days((end - at).total_seconds())
    return (used + used / elapsed * left).quantize(MILLIONTH, ROUND_HALF_UP)


def percent(used: Decimal, limit: Decimal) -> Decimal:
    return (used * 100 / limit).quantize(D("0.01"), ROUND_HALF_UP)


# --- Free with 1,000 bonus credits -------------------------------------------------------------
# Two streamed responses of 10 chunks, each chunk 100,000 input + 20,000 output claude-sonnet-4
# tokens: 0.1 M x $3 + 0.02 M x $15 = $0.30 + $0.30 = $0.60 = 60 credits.
FREE_TOKENS_INPUT = D(2_000_000)  # 20 x 100,000
FREE_TOKENS_OUTPUT = D(400_000)  # 20 x 20,000
FREE_TOKENS = D(2_400_000)  # 20 x 120,000
FREE_CREDITS_SPENT = D(1200)  # 20 x 60
FREE_MONTHLY_REMAINING = D(0)  # 500 monthly credits spent first
FREE_BONUS_REMAINING = D(300)  # 1,000 - (1,200 - 500)
FREE_CREDITS_LIMIT = D(1500)  # 500 monthly + 1,000 bonus
FREE_CREDITS_PERCENT = D("80.00")  # 1,200 ÷ 1,500: warning
FREE_STORAGE = D(4)  # day 2 readings 1, 3, 2 (peak 3); day 5 readings 2, 4, 1 (peak 4): highest peak
FREE_SEATS = D(2)  # level readings 1 then 2: the latest
FREE_QUERIES = D(250)
FREE_ACTIVE_ALERTS = [("credits", "warning")]  # 1,200 of 1,500 credits = 80 %
FREE_COSTS = {
    "llm_tokens": D("12"),  # 1,200 credits ÷ 100
    "queries": D("0.025"),  # 250 x $0.0001
    "storage_gb": D("0.4"),  # peak 4 GB x $0.10
}
FREE_COST_TOTAL = D("12.425")  # 12 + 0.025 + 0.4
# Invoices bill metered usage: tokens a Deduct recorded were paid for in credits (or against the
# BYOM cap) when it was granted, so they are not billed again.
FREE_INVOICE_LINES = {
    "queries": (D(250), D("0.025")),
    "storage_gb": (FREE_STORAGE, D("0.4")),  # billed on the period's peak: 4 GB x $0.10
}
FREE_INVOICE_TOTAL = D("0.42")  # $0 plan + 0.025 + 0.4 = 0.425, to cents half-even

# --- Starter, upgraded to Professional today ---------------------------------------------------
# Before the upgrade one response of 3 chunks of 140,000 input + 10,000 output claude-haiku-4
# tokens: 0.14 x $1 + 0.01 x $5 = $0.19 = 19 credits a chunk; after it one response of 2 chunks of
# 500,000 input + 100,000 output: 0.5 x $1 + 0.1 x $5 = $1 = 100 credits a chunk.
STARTER_TOKENS_BEFORE_UPGRADE = D(450_000)  # 3 x 150,000: 90 % of Starter's 500K
STARTER_TOKENS_INPUT = D(1_420_000)  # 3 x 140,000 + 2 x 500,000
STARTER_TOKENS_OUTPUT = D(230_000)  # 3 x 10,000 + 2 x 100,000
STARTER_TOKENS = D(1_650_000)
STARTER_CREDITS_SPENT = D(257)  # 3 x 19 + 2 x 100
STARTER_UPGRADE_DIFFERENCE = D(40_000)  # 49,900 - 9,900 monthly credits, prorated to the time left
STARTER_MONTHLY_BEFORE_UPGRADE = D(9900)
STARTER_QUERIES = D(8500)  # 3,000 + 4,000 + 1,500
STARTER_STORAGE = D("9.5")  # day 1: 4, 4, 4 (peak 4, never 12); day 6: 6, 9.5, 7 (peak 9.5)
STARTER_SEATS = D(4)  # level readings 3 then 4
STARTER_API_REQUESTS = D(120_000)
STARTER_BANDWIDTH = D(4)  # 2.5 + 1.5 GB
STARTER_DB_SECONDS = D(172_800)  # Postgres Pro from day 1 12:00 to day 3 12:00: 48 h
STARTER_DB_COST = D("1.9056")  # 48 h x $0.0397
# Alerts of Starter's limits before the upgrade: tokens 90 %, queries 85 %, seats 80 % (warning);
# storage 9.5 of 10 GB = 95 % (warning and critical). Professional's limits resolve them all.
STARTER_ALERTS_BEFORE_UPGRADE = [
    ("llm_tokens", "warning"), ("queries", "warning"), ("seats", "warning"),
    ("storage_gb", "critical"), ("storage_gb", "warning"),
]
STARTER_LIMITS = {  # Professional, after the upgrade: (used, limit, percent)
    "llm_tokens": (STARTER_TOKENS, D(5_000_000), D("33.00")),  # 1.65 M ÷ 5 M
    "queries": (STARTER_QUERIES, D(100_000), D("8.50")),
    "storage_gb": (STARTER_STORAGE, D(100), D("9.50")),
    "seats": (STARTER_SEATS, D(25), D("16.00")),
}
STARTER_COSTS = {
    "llm_tokens": D("2.57"),  # 257 credits ÷ 100
    "queries": D("0.85"),  # 8,500 x $0.0001
    "api_requests": D("0.12"),  # 120,000 x $0.000001
    "bandwidth_gb": D("0.4"),  # 4 GB x $0.10
    "storage_gb": D("0.95"),  # peak 9.5 GB x $0.10
    "databases": STARTER_DB_COST,
}
STARTER_COST_TOTAL = D("6.7956")  # 2.57 + 0.85 + 0.12 + 0.4 + 0.95 + 1.9056
STARTER_INVOICE_LINES = {
    "queries": (STARTER_QUERIES, D("0.85")),
    "api_requests": (STARTER_API_REQUESTS, D("0.12")),
    "bandwidth_gb": (STARTER_BANDWIDTH, D("0.4")),
    "postgres_pro_seconds": (STARTER_DB_SECONDS, STARTER_DB_COST),
    "storage_gb": (STARTER_STORAGE, D("0.95")),  # peak 9.5 GB x $0.10
}
STARTER_PLAN_PRICE = D(499)  # the plan in force: Professional
STARTER_USAGE_TOTAL = D("4.2256")  # 0.85 + 0.12 + 0.4 + 1.9056 + 0.95
STARTER_INVOICE_TOTAL = D("503.23")  # 499 + 4.2256, to cents

# --- Enterprise with a negotiated allowance ----------------------------------------------------
# One response of 4 chunks of 400,000 input + 100,000 output + 200,000 cache-read + 40,000
# cache-write gpt-4o tokens: 0.4 x 2.5 + 0.1 x 10 + 0.2 x 1.25 + 0.04 x 2.5 = 1 + 1 + 0.25 + 0.1
# = $2.35 = 235 credits a chunk.
ENTERPRISE_NEGOTIATED_CREDITS = D(200_000)
ENTERPRISE_NEGOTIATED_TOKENS = D(10_000_000)
ENTERPRISE_TOKENS = D(2_960_000)  # 4 x 740,000
ENTERPRISE_TOKENS_BY_KIND = {"input": D(1_600_000), "output": D(400_000), "cache_read": D(800_000),
                             "cache_write": D(160_000)}
ENTERPRISE_CREDITS_SPENT = D(940)  # 4 x 235
ENTERPRISE_STORAGE = D(500)  # day 4: 200, 350, 300 (peak 350); day 8: 500, 450 (peak 500)
ENTERPRISE_SEATS = D(3)  # three registered users
ENTERPRISE_QUERIES = D(17_000)  # 12,000 + 5,000: 85 % of the 20,000 soft limit
ENTERPRISE_DB_SECONDS = D(36_000)  # Postgres Scale day 2 00:00 to 10:00
ENTERPRISE_DB_COST = D("1.355")  # 10 h x $0.1355
ENTERPRISE_NS_SECONDS = D(86_400)  # namespace Pro day 5 06:00 to day 6 06:00
ENTERPRISE_NS_COST = D("0.9528")  # 24 h x $0.0397
ENTERPRISE_COSTS = {
    "llm_tokens": D("9.4"),  # 940 credits ÷ 100
    "queries": D("1.7"),  # 17,000 x $0.0001
    "storage_gb": D("50"),  # peak 500 GB x $0.10
    "databases": ENTERPRISE_DB_COST,
    "namespaces": ENTERPRISE_NS_COST,
}
ENTERPRISE_COST_TOTAL = D("63.4078")  # 9.4 + 1.7 + 50 + 1.355 + 0.9528
ENTERPRISE_INVOICE_LINES = {
    "queries": (ENTERPRISE_QUERIES, D("1.7")),
    "postgres_scale_seconds": (ENTERPRISE_DB_SECONDS, ENTERPRISE_DB_COST),
    "namespace_pro_seconds": (ENTERPRISE_NS_SECONDS, ENTERPRISE_NS_COST),
    "storage_gb": (ENTERPRISE_STORAGE, D("50")),  # peak 500 GB x $0.10
}
ENTERPRISE_USAGE_TOTAL = D("54.0078")  # 1.7 + 1.355 + 0.9528 + 50
ENTERPRISE_INVOICE_TOTAL = D("54.01")  # custom price (none listed) + 54.0078, to cents
# Quota changes: queries soft 20,000 with a budget alert at 85 % (17,000 = 85 %: warning and
# budget stay active); storage soft 400 (500 = 125 %: warning, critical, overage) then 2,000 (25 %:
# all three resolved).
ENTERPRISE_ACTIVE_ALERTS = [("queries", "budget"), ("queries", "warning")]
ENTERPRISE_RESOLVED_ALERTS = [
    ("storage_gb", "critical"), ("storage_gb", "overage"), ("storage_gb", "warning")]

# --- BYOM, spend cap $100 lowered to $40 ------------------------------------------------------
# Two responses of 3 chunks of 2,000,000 input + 200,000 output claude-sonnet-4 tokens:
# 2 x $3 + 0.2 x $15 = $9 a chunk.
BYOM_TOKENS = D(13_200_000)  # 6 x 2,200,000
BYOM_TOKENS_INPUT = D(12_000_000)
BYOM_TOKENS_OUTPUT = D(1_200_000)
BYOM_SPENT_USD = D(54)  # 6 x $9
BYOM_CAP = D(40)
BYOM_PERCENT = D("135.00")  # 54 ÷ 40: overage against the new cap
# 54 of the lowered cap of 40 = 135 %: past 80 %, 95 % and 100 % of the new cap at once.
BYOM_ACTIVE_ALERTS = [("credits", "critical"), ("credits", "overage"), ("credits", "warning")]
BYOM_STORAGE = D(20)  # day 3: 10, 20, 15
BYOM_API_REQUESTS = D(50_000)
BYOM_COSTS = {
    "llm_tokens": D("54"),  # USD spent
    "api_requests": D("0.05"),  # 50,000 x $0.000001
    "storage_gb": D("2"),  # peak 20 GB x $0.10
}
BYOM_COST_TOTAL = D("56.05")
BYOM_INVOICE_LINES = {
    "api_requests": (BYOM_API_REQUESTS, D("0.05")),
    "storage_gb": (BYOM_STORAGE, D("2")),  # peak 20 GB x $0.10
}
BYOM_INVOICE_TOTAL = D("2.05")  # $0 plan + 0.05 + 2 (the $54 of tokens went against the cap)

# --- Stripe: whole numbers, quantity x 10^scale (tokens, queries, requests, seconds: 0; GB: 3).
# Sums add up the day values; storage is a `last` meter whose latest value is the period's peak.
GAUGES = {"storage_gb": D("0.10")}  # billed gauges and their price a GB-month
STRIPE = {
    "free": {"queries": 250, "storage_gb": 4000},
    "starter": {"queries": 8500, "api_requests": 120_000,
                "bandwidth_gb": 4000, "postgres_pro_seconds": 172_800, "storage_gb": 9500},
    "enterprise": {"queries": 17_000, "postgres_scale_seconds": 36_000,
                   "namespace_pro_seconds": 86_400, "storage_gb": 500_000},
    "byom": {"api_requests": 50_000, "storage_gb": 20_000},
}
INVOICE_LINES = {"free": FREE_INVOICE_LINES, "starter": STARTER_INVOICE_LINES,
                 "enterprise": ENTERPRISE_INVOICE_LINES, "byom": BYOM_INVOICE_LINES}
INVOICE_TOTALS = {"free": FREE_INVOICE_TOTAL, "starter": STARTER_INVOICE_TOTAL,
                  "enterprise": ENTERPRISE_INVOICE_TOTAL, "byom": BYOM_INVOICE_TOTAL}
TOKENS = {"free": FREE_TOKENS, "starter": STARTER_TOKENS, "enterprise": ENTERPRISE_TOKENS,
          "byom": BYOM_TOKENS}
CREDITS_SPENT = {"free": FREE_CREDITS_SPENT, "starter": STARTER_CREDITS_SPENT,
                 "enterprise": ENTERPRISE_CREDITS_SPENT, "byom": BYOM_SPENT_USD}
