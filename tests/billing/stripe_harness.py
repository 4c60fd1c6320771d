"""The Stripe test server and real `metering worker` processes for the sync tests."""

from __future__ import annotations

import json
import os
import random
import secrets
import subprocess
import sys
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import asyncpg

from services.billing.domain.stripe_units import stripe_value
from services.billing.service.resources import create_resource, delete_resource
from services.billing.store.resources import NewResource
from services.metering.domain.billing_period import period_containing
from tests.billing.helpers import Event, insert_events, new_org

TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
DAY = timedelta(days=1)
FAST = {
    "BILLING_TICK_SECONDS": "0.2", "BILLING_PUSH_POLL_SECONDS": "0.05",
    "BILLING_RETRY_BASE_SECONDS": "0.05", "BILLING_RETRY_MAX_SECONDS": "0.4",
    "STRIPE_TIMEOUT_SECONDS": "0.5", "BILLING_PUSH_CONCURRENCY": "4",
}
Key = tuple[str, str, date]  # (org_id, meter, day)


def new_key() -> str:
    return f"sk_test_{secrets.token_hex(16)}"


def state(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base}/_test/state", timeout=10) as reply:
        return dict(json.load(reply))


def control(base: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(f"{base}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return dict(json.load(reply))


def start_worker(database_url: str, base: str, key: str, output: IO[str], *args: str,
                 **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "services.app.cli", "worker", *args],
        env={**os.environ, "METERING_DATABASE_URL": database_url, "STRIPE_API_KEY": key,
             "STRIPE_API_BASE": base, **FAST, **env},
        stdout=output, stderr=subprocess.STDOUT,
    )


def run_once(database_url: str, base: str, key: str, log: Path, now: datetime | None = None) -> str:
    with log.open("a") as sink:
        args = ["--once", *(["--now", now.isoformat()] if now else [])]
        proc = start_worker(database_url, base, key, sink, *args)
        assert proc.wait(timeout=120) == 0, log.read_text()[-3000:]
    return log.read_text()


@dataclass
class Month:
    """Synthetic usage of several organizations and what each (org, meter, day) must bill."""

    orgs: dict[str, datetime]  # org -> billing anchor
    expected: dict[Key, int]


async def seed_month(conn: asyncpg.Connection, orgs: int, days: int, seed: int) -> Month:
    rand = random.Random(seed)
    anchors: dict[str, datetime] = {}
    expected: dict[Key, Decimal] = defaultdict(Decimal)
    events: list[Event] = []
    first = TODAY - (days + 1) * DAY
    for n in range(orgs):
        anchor = first + n * DAY
        org = await new_org(conn, anchor=anchor, plan_id="professional")
        anchors[org] = anchor
        for d in range(days):
            day = first + d * DAY
            for i in range(4):
                quantity = Decimal(rand.randint(1, 500))
                at = day + timedelta(hours=5 * i)
                events.append((org, f"q-{d}-{i}", "queries", quantity, at, f"u{i % 2}"))
                expected[(org, "queries", day.date())] += quantity
            for i in range(3):
                quantity = Decimal(rand.randint(1, 10_000_000)).scaleb(-6)  # GB with 6 decimals
                at = day + timedelta(hours=7 * i + 1)
                events.append((org, f"b-{d}-{i}", "bandwidth_gb", quantity, at, None))
                expected[(org, "bandwidth_gb", day.date())] += quantity * 1000  # scale 3: milli-GB
            expected[(org, "postgres_pro_seconds", day.date())] += 86_400
        database = NewResource(org, "db", "postgres", "pro", Decimal(1), "db", None)
        await create_resource(conn, database, now=first)
        await delete_resource(conn, org, "db", now=first + days * DAY)
    await insert_events(conn, events)
    return Month(anchors, {k: stripe_value(v, 0) for k, v in expected.items()})


def stripe_totals(stripe: dict[str, Any], customers: dict[str, str], meters: dict[str, str],
                  month: Month) -> tuple[dict[Key, list[int]], dict[tuple[str, str, datetime], int]]:
    """Accepted meter events per (org, meter, day), and summed per (org, meter, billing period)."""
    by_day: dict[Key, list[int]] = defaultdict(list)
    by_period: dict[tuple[str, str, datetime], int] = defaultdict(int)
    for event in stripe["meter_events"]:
        org = customers[event["payload"]["stripe_customer_id"]]
        meter = meters[event["event_name"]]
        moment = datetime.fromtimestamp(event["timestamp"], UTC)
        value = int(event["payload"]["value"])
        by_day[(org, meter, moment.date())].append(value)
        by_period[(org, meter, period_containing(month.orgs[org], moment).start)] += value
    return by_day, by_period


def our_periods(month: Month) -> dict[tuple[str, str, datetime], int]:
    totals: dict[tuple[str, str, datetime], int] = defaultdict(int)
    for (org, meter, day), value in month.expected.items():
        moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        totals[(org, meter, period_containing(month.orgs[org], moment).start)] += value
    return totals


async def names(conn: asyncpg.Connection) -> tuple[dict[str, str], dict[str, str]]:
    customers = {r["stripe_customer_id"]: r["org_id"] for r in await conn.fetch(
        "SELECT org_id, stripe_customer_id FROM billing_accounts WHERE stripe_customer_id IS NOT NULL")}
    meters = {r["stripe_event_name"]: r["meter"] for r in await conn.fetch(
        "SELECT meter, stripe_event_name FROM billing_meters")}
    return customers, meters


async def delivered(conn: asyncpg.Connection) -> tuple[int, int]:
    """(delivered pushes, pushes not delivered)."""
    row = await conn.fetchrow("SELECT count(*) FILTER (WHERE status = 'delivered') AS done, "
                              "count(*) FILTER (WHERE status <> 'delivered') AS open FROM stripe_pushes")
    return int(row["done"]), int(row["open"])
