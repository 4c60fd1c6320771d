"""Prometheus metrics of the sidecar (served as text on the HTTP port at /metrics)."""

from __future__ import annotations

import logging

from opentelemetry import metrics as otel_metrics
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    disable_created_metrics,
    generate_latest,
)

from ratelimiter.config import FailureMode
from ratelimiter.model import Decision, State

log = logging.getLogger("ratelimiter.store")

# The same decisions for OpenTelemetry (exported only when telemetry is configured).
OTEL_DECISIONS = otel_metrics.get_meter("ratelimiter").create_counter(
    "ratelimiter.decisions", unit="{decision}",
    description="Rate-limit decisions by domain and state (ok, warning, limited, shadow_limited)")


class Metrics:
    """Counters for decisions and store health, in their own registry."""

    def __init__(self) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry()
        self.decisions = Counter(
            "ratelimiter_decisions", "Decisions by domain and outcome (ok, warning, limited, "
            "shadow_limited).", ["domain", "outcome"], registry=self.registry)
        self.degraded = Counter(
            "ratelimiter_degraded_decisions", "Decisions taken by the failure policy because "
            "Redis was unreachable.", ["domain", "policy"], registry=self.registry)
        self.store_up = Gauge("ratelimiter_store_up", "1 while Redis answers, 0 while it does not.",
                              registry=self.registry)
        self.store_transitions = Counter(
            "ratelimiter_store_transitions", "Store health changes.", ["to"],
            registry=self.registry)
        self.config_reloads = Counter(
            "ratelimiter_config_reloads", "Configuration reloads by result.", ["result"],
            registry=self.registry)
        self.store_round_trips = Counter(
            "ratelimiter_store_round_trips", "Pipelines sent to Redis (one per event-loop turn "
            "with decisions to take).", registry=self.registry)
        self.store_up.set(1)
        self._decision_counters: dict[tuple[str, str], Counter] = {}

    def decided(self, domain: str, decision: Decision, failure_mode: FailureMode | None) -> None:
        headline = decision.headline
        if headline.state is State.LIMITED and headline.shadow_mode:
            outcome = "shadow_limited"
        else:
            outcome = headline.state.name.lower()
        counter = self._decision_counters.get((domain, outcome))
        if counter is None:
            counter = self._decision_counters[(domain, outcome)] = self.decisions.labels(
                domain, outcome)
        counter.inc()
        OTEL_DECISIONS.add(1, {"domain": domain, "state": outcome,
                               "degraded": failure_mode is not None})
        if failure_mode is not None:
            self.degraded.labels(domain, failure_mode.value).inc()

    def store_transition(self, up: bool, reason: str) -> None:
        self.store_up.set(1 if up else 0)
        self.store_transitions.labels("up" if up else "down").inc()
        if up:
            log.warning("store up again: %s; limits enforced", reason)
        else:
            log.error("store down: %s; failure policies apply until it answers", reason)

    def render(self) -> bytes:
        return generate_latest(self.registry)
