"""Hard limits on metered usage: which new events fit, in arrival order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from services.domain.alerts import QuotaLimits
from services.domain.billing_period import BillingPeriod


@dataclass
class MeterCounter:
    """A tracked (organization, meter): its limits and what the current period has used so far."""

    org_id: str
    meter: str
    limits: QuotaLimits
    period: BillingPeriod
    used: Decimal

    def counts(self, occurred_at: datetime) -> bool:
        return self.period.start <= occurred_at < self.period.end

    def fits(self, quantity: Decimal) -> bool:
        hard = self.limits.hard_limit
        return hard is None or self.used + quantity <= hard


@dataclass(frozen=True)
class Candidate:
    org_id: str
    meter: str
    quantity: Decimal
    occurred_at: datetime


def admit(candidates: Iterable[Candidate],
          counters: Mapping[tuple[str, str], MeterCounter]) -> list[bool]:
    """Admits events in order while they fit their hard limit; counts the admitted ones.

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
            counter.used += c.quantity
        verdicts.append(fits)
    return verdicts
