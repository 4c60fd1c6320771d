"""Hard limits on metered usage: which new events fit, in arrival order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from services.metering.domain.alerts import QuotaLimits
from services.metering.domain.billing_period import BillingPeriod
from services.metering.domain.usage_model import Aggregation, Figure, reading_fits, with_reading


@dataclass
class MeterCounter:
    """A tracked (organization, meter): its limits and what the current period has used so far."""

    org_id: str
    meter: str
    limits: QuotaLimits
    period: BillingPeriod
    used: Decimal
    aggregation: Aggregation = Aggregation.SUM
    latest_at: datetime | None = None  # the latest counted reading (a level's stands)

    def counts(self, occurred_at: datetime) -> bool:
        return self.period.start <= occurred_at < self.period.end

    def fits(self, quantity: Decimal) -> bool:
        return reading_fits(self.aggregation, self.used, quantity, self.limits.hard_limit)

    def count(self, quantity: Decimal, occurred_at: datetime) -> None:
        figure = with_reading(self.aggregation, Figure(self.used, self.latest_at), quantity, occurred_at)
        self.used, self.latest_at = figure.used, figure.latest_at


@dataclass(frozen=True)
class Candidate:
    org_id: str
    meter: str
    quantity: Decimal
    occurred_at: datetime


def admit(candidates: Iterable[Candidate],
          counters: Mapping[tuple[str, str], MeterCounter]) -> list[bool]:
    """Admits events in order while they fit their hard limit; counts the admitted ones (a sum
    adds them, a peak keeps the highest, a level the latest reading).

    Only events of the counter's current period count against it; late events of an earlier
    period are stored without touching this period's total.
    """
    verdicts = []
    for c in candidates:
        counter = counters.get((c.org_id, c.meter))
        if counter is None or not counter.counts(c.occurred_at):
            verdicts.append(True)
            continue
        fits = counter.fits(c.quantity)
        if fits:
            counter.count(c.quantity, c.occurred_at)
        verdicts.append(fits)
    return verdicts
