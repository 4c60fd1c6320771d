"""Retries of credit operations: a key answers only the request it was first used for.

A retry with the same key and the same parameters gets the stored answer, as it was then. The
same key with any parameter changed is refused (INVALID_ARGUMENT naming that parameter): the
stored answer belongs to another request, and a new request needs a new key.
"""

from __future__ import annotations

from decimal import Decimal

from services.kit.errors import FieldError
from services.metering.domain.credits import (
    Balance,
    Cost,
    Deduction,
    DeductOp,
    Hold,
    Reservation,
    ReserveOp,
    Unit,
    running_out,
)
from services.metering.domain.pricing import LlmUsage


def replayed_deduction(stored: Deduction, op: DeductOp) -> Deduction:
    """The stored answer of `op`'s key, or a FieldError naming what `op` changed."""
    earlier = DeductOp(stored.idempotency_key, stored.llm or stored.amount, stored.hold_id,
                       stored.attribution)
    changed = _cost_change(earlier.cost, op.cost) or next(
        (name for name, before, now in (
            ("hold_id", earlier.hold_id, op.hold_id),
            ("workspace_id", earlier.attribution.workspace_id, op.attribution.workspace_id),
            ("user_id", earlier.attribution.user_id, op.attribution.user_id),
            ("source", earlier.attribution.source, op.attribution.source),
        ) if before != now),
        None,
    )
    if changed:
        raise _reused(changed)
    return stored


def replayed_reservation(hold: Hold, op: ReserveOp, unit: Unit, balance_now: Balance) -> Reservation:
    """The stored answer of the Reserve that made `hold`, or a FieldError naming what `op` changed.

    Holds stored before requests and answers were kept are answered from the hold alone, with the
    balance of now."""
    granted = hold.status != "denied"
    if hold.request is None or hold.balance_after is None:
        return Reservation(hold, granted, None if granted else running_out(unit), unit, balance_now,
                           replayed=True)
    changed = _cost_change(hold.request.cost, op.cost) or (
        "ttl_seconds" if hold.request.ttl != op.ttl else None
    )
    if changed:
        raise _reused(changed)
    return Reservation(hold, granted, hold.denial_reason, unit, hold.balance_after, replayed=True)


def _cost_change(before: Cost, now: Cost) -> str | None:
    """The request field whose cost differs from the stored one, or None."""
    if isinstance(now, Decimal):
        return None if isinstance(before, Decimal) and before == now else "amount"
    if not isinstance(before, LlmUsage):
        return "tokens"
    if before.model != now.model:
        return "tokens.model"
    return next((f"tokens.{kind}_tokens" for kind, count in vars(now.tokens).items()
                 if vars(before.tokens)[kind] != count), None)


def _reused(field: str) -> FieldError:
    return FieldError(field, "differs from the earlier request with this idempotency_key; "
                             "use a new idempotency_key for a different request")
