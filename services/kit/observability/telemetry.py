"""OpenTelemetry for every process: traces of RPCs and SQL/Redis calls, and the service metrics.

Configured by the standard environment variables. Nothing is exported unless asked for:
`OTEL_TRACES_EXPORTER` / `OTEL_METRICS_EXPORTER` (`otlp` or `console`), or an
`OTEL_EXPORTER_OTLP_ENDPOINT` (which implies `otlp` for both). `OTEL_SDK_DISABLED=true` turns
everything off. The OTLP exporters read their own `OTEL_EXPORTER_OTLP_*` settings; the service
name comes from `OTEL_SERVICE_NAME` or the process (`metering`, `metering-worker`, `ratelimiter`).
Tests pass their own in-memory readers and processors instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter


@dataclass(frozen=True)
class TelemetrySettings:
    traces: str | None
    """Span exporter: "otlp", "console" or None (off)."""

    metrics: str | None
    """Metric exporter: "otlp", "console" or None (off)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TelemetrySettings:
        env = os.environ if env is None else env
        if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
            return cls(None, None)
        implied = "otlp" if env.get("OTEL_EXPORTER_OTLP_ENDPOINT") else None
        return cls(_exporter(env, "OTEL_TRACES_EXPORTER", implied),
                   _exporter(env, "OTEL_METRICS_EXPORTER", implied))

    @property
    def enabled(self) -> bool:
        return bool(self.traces or self.metrics)


def _exporter(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    value = env.get(name, "").strip().lower() or default
    if value in (None, "none"):
        return None
    if value not in ("otlp", "console"):
        raise ValueError(f"{name} must be otlp, console or none, got {value!r}")
    return value


def configure(service: str, settings: TelemetrySettings | None = None,
              span_processors: Sequence[SpanProcessor] = (),
              metric_readers: Sequence[MetricReader] = ()) -> bool:
    """Installs the global tracer and meter providers; returns whether anything is recorded."""
    settings = settings or TelemetrySettings.from_env()
    processors = list(span_processors)
    readers = list(metric_readers)
    if settings.traces:
        processors.append(BatchSpanProcessor(_span_exporter(settings.traces)))
    if settings.metrics:
        readers.append(PeriodicExportingMetricReader(_metric_exporter(settings.metrics)))
    if not processors and not readers:
        return False
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service)})
    if processors:
        tracer_provider = TracerProvider(resource=resource)
        for processor in processors:
            tracer_provider.add_span_processor(processor)
        trace.set_tracer_provider(tracer_provider)
    if readers:
        metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=readers))
    _instrument_clients()
    return True


def _span_exporter(kind: str) -> ConsoleSpanExporter:
    if kind == "console":
        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # type: ignore[return-value]


def _metric_exporter(kind: str) -> ConsoleMetricExporter:
    if kind == "console":
        return ConsoleMetricExporter()
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

    return OTLPMetricExporter()  # type: ignore[return-value]


def tracing_enabled() -> bool:
    """Whether spans are recorded: hot paths take their instrumented (slower) route only then."""
    return isinstance(trace.get_tracer_provider(), TracerProvider)


def _instrument_clients() -> None:
    """Spans for every SQL statement (asyncpg) and Redis command (redis-py)."""
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    asyncpg_instrumentor = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
    if not asyncpg_instrumentor.is_instrumented_by_opentelemetry:
        asyncpg_instrumentor.instrument()
    if not RedisInstrumentor().is_instrumented_by_opentelemetry:
        RedisInstrumentor().instrument()
