"""The reporting side's metrics (OpenTelemetry; exported only when telemetry is configured)."""

from __future__ import annotations

from opentelemetry import metrics

_meter = metrics.get_meter("metering.reporting")

RATE_LIMITED = _meter.create_counter(
    "metering.http.rate_limited", unit="{request}",
    description="HTTP API requests refused with 429 because the client IP is over its limit")
RATE_LIMIT_FAIL_OPEN = _meter.create_counter(
    "metering.http.rate_limit.fail_open", unit="{request}",
    description="HTTP API requests let through unchecked because the rate-limiter sidecar gave no verdict")
