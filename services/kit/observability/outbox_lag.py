"""`outbox.lag`: the age of the oldest row still waiting in an outbox (alerts, Stripe pushes)."""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

# Updated by the loops that drain each outbox; read when metrics are collected.
_lag_seconds: dict[str, float] = {}


def set_outbox_lag(outbox: str, seconds: float) -> None:
    _lag_seconds[outbox] = seconds


def _observe(options: CallbackOptions) -> Iterable[Observation]:
    return [Observation(lag, {"outbox": name}) for name, lag in _lag_seconds.items()]


metrics.get_meter("outbox").create_observable_gauge(
    "outbox.lag", callbacks=[_observe], unit="s", description="Age of the oldest undelivered outbox row")
