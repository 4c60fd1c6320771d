"""The metering server's metrics (OpenTelemetry; exported only when telemetry is configured)."""

from __future__ import annotations

from opentelemetry import metrics

_meter = metrics.get_meter("metering")

RPC_REQUESTS = _meter.create_counter(
    "metering.rpc.requests", unit="{request}", description="RPCs served, by method and status code")
RPC_DURATION = _meter.create_histogram(
    "metering.rpc.duration", unit="ms", description="Time to answer an RPC, by method and status code")
DEDUCTIONS = _meter.create_counter(
    "metering.deductions", unit="{deduction}",
    description="Deductions decided, granted or denied (with reason)")
