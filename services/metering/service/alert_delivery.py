"""Delivers queued quota alerts: in-app, email (SMTP) and signed webhooks, with retries.

Every server process drains the outbox. Due rows are found without a lock, then each is locked by
its key `FOR UPDATE SKIP LOCKED`, so replicas never work on the same row at once, and it is marked
delivered in the transaction that claimed it. A crash between sending and committing sends that one
delivery again: receivers deduplicate with the `X-Metering-Delivery` header (webhooks) or the
Message-ID (email).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage

import aiohttp
import asyncpg

from services.kit.decimals import format_decimal
from services.kit.observability.outbox_lag import set_outbox_lag

log = logging.getLogger(__name__)

# Candidates are found without a lock, then each is locked by its full key (one organization at a
# time), so no statement locks rows of several organizations.
FIND_DUE = """
SELECT org_id, alert_id, channel FROM alert_outbox
WHERE status = 'pending' AND next_attempt_at <= statement_timestamp()
ORDER BY next_attempt_at
LIMIT $1"""

CLAIM_DUE = """
SELECT o.org_id, o.alert_id, o.channel, o.attempts, a.resource, a.severity, a.status, a.message,
       a.current_usage, a.quota_limit, a.usage_percent, a.threshold_percent, a.triggered_at,
       c.email_recipients, c.webhook_url, c.webhook_secret
FROM alert_outbox o
JOIN alerts a ON a.org_id = o.org_id AND a.alert_id = o.alert_id
LEFT JOIN alert_channels c ON c.org_id = o.org_id
WHERE o.org_id = $1 AND o.alert_id = $2 AND o.channel = $3
  AND o.status = 'pending' AND o.next_attempt_at <= statement_timestamp()
FOR UPDATE OF o SKIP LOCKED"""

MARK_DELIVERED = """
UPDATE alert_outbox SET status = 'delivered', attempts = attempts + 1, last_error = NULL,
                        delivered_at = statement_timestamp()
WHERE org_id = $1 AND alert_id = $2 AND channel = $3"""

MARK_RETRY = """
UPDATE alert_outbox
SET attempts = attempts + 1, last_error = $4,
    next_attempt_at = statement_timestamp() + make_interval(secs => $5),
    status = CASE WHEN attempts + 1 >= $6 THEN 'failed' ELSE 'pending' END
WHERE org_id = $1 AND alert_id = $2 AND channel = $3"""

OLDEST_PENDING_AGE = """
SELECT coalesce(extract(epoch FROM statement_timestamp() - min(a.triggered_at)), 0)::float8
FROM alert_outbox o JOIN alerts a ON a.org_id = o.org_id AND a.alert_id = o.alert_id
WHERE o.status = 'pending'"""

MAX_ATTEMPTS = 12
MAX_BACKOFF_SECONDS = 3600.0
SEND_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None
    port: int
    sender: str


class DeliveryError(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class AlertCourier:
    def __init__(self, pool: asyncpg.Pool, smtp: SmtpSettings) -> None:
        self._pool = pool
        self._smtp = smtp
        self._http: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def deliver_due(self, limit: int = 50) -> int:
        """Delivers what is due now; returns how many deliveries were attempted."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await _claim_due(conn, limit)
            outcomes = await asyncio.gather(*(self._deliver(r) for r in rows), return_exceptions=True)
            for row, outcome in zip(rows, outcomes, strict=True):
                key = (row["org_id"], row["alert_id"], row["channel"])
                if outcome is None:
                    await conn.execute(MARK_DELIVERED, *key)
                    continue
                error = outcome if isinstance(outcome, DeliveryError) else DeliveryError(repr(outcome))
                delay = error.retry_after or _backoff(row["attempts"])
                log.warning("alert %s via %s failed (attempt %d): %s", row["alert_id"], row["channel"],
                            row["attempts"] + 1, error)
                await conn.execute(MARK_RETRY, *key, str(error)[:500], delay, MAX_ATTEMPTS)
        set_outbox_lag("alerts", await self._pool.fetchval(OLDEST_PENDING_AGE))
        return len(rows)

    async def _deliver(self, row: asyncpg.Record) -> None:
        if row["channel"] == "in_app":
            return  # listed by the API as soon as it is raised
        if row["channel"] == "email":
            await self._email(row)
        else:
            await self._webhook(row)

    async def _email(self, row: asyncpg.Record) -> None:
        if not self._smtp.host:
            raise DeliveryError("METERING_SMTP_HOST is not configured")
        if not row["email_recipients"]:
            raise DeliveryError("no email recipients configured")
        message = EmailMessage()
        message["From"] = self._smtp.sender
        message["To"] = ", ".join(row["email_recipients"])
        message["Subject"] = f"[{row['severity']}] {row['message']}"
        message["Message-ID"] = f"<{row['alert_id']}.{row['org_id']}@metering>"
        message.set_content(f"{row['message']}\n\nOrganization: {row['org_id']}\n"
                            f"Resource: {row['resource']}\nTriggered at: {row['triggered_at'].isoformat()}\n")
        try:
            await asyncio.to_thread(self._send_mail, message)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"SMTP: {error}") from None

    def _send_mail(self, message: EmailMessage) -> None:
        assert self._smtp.host is not None
        with smtplib.SMTP(self._smtp.host, self._smtp.port, timeout=SEND_TIMEOUT_SECONDS) as smtp:
            smtp.send_message(message)

    async def _webhook(self, row: asyncpg.Record) -> None:
        if not row["webhook_url"]:
            raise DeliveryError("no webhook URL configured")
        body = json.dumps(webhook_payload(row), separators=(",", ":")).encode()
        headers = webhook_headers(row["alert_id"], body, row["webhook_secret"], int(time.time()))
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SEND_TIMEOUT_SECONDS))
        try:
            async with self._http.post(row["webhook_url"], data=body, headers=headers) as response:
                if response.status < 300:
                    return
                retry_after = response.headers.get("Retry-After")
                raise DeliveryError(f"webhook answered {response.status}",
                                    float(retry_after) if retry_after and retry_after.isdigit() else None)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryError(f"webhook: {type(error).__name__}") from None


def webhook_payload(row: asyncpg.Record) -> dict[str, object]:
    return {
        "id": row["alert_id"], "org_id": row["org_id"], "resource": row["resource"],
        "severity": row["severity"], "status": row["status"], "message": row["message"],
        "current_usage": format_decimal(row["current_usage"]),
        "quota_limit": format_decimal(row["quota_limit"]),
        "usage_percent": format_decimal(row["usage_percent"]),
        "threshold_percent": row["threshold_percent"], "triggered_at": row["triggered_at"].isoformat(),
    }


def webhook_headers(alert_id: str, body: bytes, secret: str | None, now: int) -> dict[str, str]:
    """Headers of a webhook call; the signature is HMAC-SHA256 over "<timestamp>.<body>"."""
    headers = {"Content-Type": "application/json", "X-Metering-Delivery": f"{alert_id}:webhook",
               "X-Metering-Timestamp": str(now)}
    if secret:
        digest = hmac.new(secret.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
        headers["X-Metering-Signature"] = f"sha256={digest}"
    return headers


async def _claim_due(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    claimed = []
    for due in await conn.fetch(FIND_DUE, limit):
        row = await conn.fetchrow(CLAIM_DUE, due["org_id"], due["alert_id"], due["channel"])
        if row is not None:
            claimed.append(row)
    return claimed


def _backoff(attempts: int) -> float:
    # Exponential with full jitter, so many failing receivers do not retry in lockstep.
    return random.uniform(0.5, 1.0) * min(MAX_BACKOFF_SECONDS, 2.0 ** (attempts + 1))
