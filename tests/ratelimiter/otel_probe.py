"""Counts a few decisions with in-memory OpenTelemetry and prints the recorded points as JSON.
Its own process: it installs the global meter provider. `python -m tests.ratelimiter.otel_probe`."""

from __future__ import annotations

import json

from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from services.observability import telemetry


def main() -> None:
    reader = InMemoryMetricReader()
    telemetry.configure("ratelimiter", telemetry.TelemetrySettings(None, None), metric_readers=[reader])
    from ratelimiter.metrics import Metrics
    from ratelimiter.model import Decision, LimitStatus, State

    metrics = Metrics()
    for state in (State.OK, State.OK, State.WARNING, State.LIMITED):
        decision = Decision(allowed=state is not State.LIMITED, statuses=(LimitStatus(state, None),))
        metrics.decided("api", decision, None)
    points = [
        {"name": m.name, "attributes": dict(p.attributes), "value": p.value}
        for rm in reader.get_metrics_data().resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        for p in m.data.data_points
    ]
    print(json.dumps(points))


if __name__ == "__main__":
    main()
