"""The billing worker's metrics (OpenTelemetry; exported only when telemetry is configured)."""

from __future__ import annotations

from opentelemetry import metrics

_meter = metrics.get_meter("metering.billing")

STRIPE_PUSHES = _meter.create_counter(
    "billing.stripe.pushes", unit="{call}",
    description="Meter-event calls to Stripe by verdict (delivered, already_delivered, retry, ...)")
STRIPE_PUSH_ERRORS = _meter.create_counter(
    "billing.stripe.push_errors", unit="{call}",
    description="Meter-event calls Stripe did not accept, by HTTP status (or 'network')")
