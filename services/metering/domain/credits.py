"""The credit book of one organization: grants, holds and the ledger entries every change makes.

Pure logic, no I/O. The store loads an organization's book under its balance row lock, applies a
batch of operations in arrival order, then writes back what the book recorded. Each operation is
granted or refused on its own against the running balance, so a refusal never affects the others.

Burn order: monthly credits (or a spend-capped organization's USD cap) before bonus credits;
within a kind, the earliest expiry first (no expiry last), then the oldest grant.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from services.kit.decimals import ZERO
from services.metering.domain.pricing import LlmUsage
from services.metering.domain.usage_limits import MeterCounter

MONTHLY_KINDS = frozenset({"monthly", "spend_cap"})
# Spending of an organization without a credit limit beyond its grants is taken "on account":
# from this pseudo-grant, which never runs out; its ledger rows name no grant.
ON_ACCOUNT = 0
_NEVER = datetime.max.replace(tzinfo=None)


class Unit(enum.Enum):
    CREDITS = "credits"
    USD = "usd"

    @classmethod
    def of_billing_model(cls, billing_model: str) -> Unit:
        """A BYOM organization's book counts USD against its spend cap; any other counts credits."""
        return cls.USD if billing_model == "byom" else cls.CREDITS


class DenialReason(enum.Enum):
    INSUFFICIENT_CREDITS = "insufficient_credits"
    SPEND_CAP_REACHED = "spend_cap_reached"
    HARD_LIMIT = "hard_limit"


Cost = Decimal | LlmUsage


def period_allowance(used: Decimal, reserved: Decimal, available: Decimal, overspent: Decimal) -> Decimal:
    """What a period may spend in all: spent, held and still available, less what was spent
    beyond an allowance lowered since (a BYOM spend cap lowered below the spend)."""
    return used + reserved + available - overspent


def running_out(unit: Unit) -> DenialReason:
    """Why a balance in `unit` refuses: credits run out, or a BYOM spend cap is reached."""
    return DenialReason.SPEND_CAP_REACHED if unit is Unit.USD else DenialReason.INSUFFICIENT_CREDITS


@dataclass
class Grant:
    grant_id: int
    kind: str
    remaining: Decimal
    expires_at: datetime | None

    @property
    def is_monthly(self) -> bool:
        return self.kind in MONTHLY_KINDS

    def copy(self) -> Grant:
        return Grant(self.grant_id, self.kind, self.remaining, self.expires_at)

    def burn_key(self) -> tuple[int, datetime, int]:
        expiry = self.expires_at.replace(tzinfo=None) if self.expires_at else _NEVER
        order = 2 if self.grant_id == ON_ACCOUNT else 0 if self.is_monthly else 1
        return (order, expiry, self.grant_id)


def on_account() -> Grant:
    return Grant(ON_ACCOUNT, "account", Decimal("Infinity"), None)


@dataclass
class Hold:
    hold_id: str
    amount: Decimal
    remaining: Decimal
    status: str  # open | released | expired | denied
    expires_at: datetime
    created_at: datetime
    allocations: dict[int, Decimal] = field(default_factory=dict)  # grant_id -> still held
    # What the Reserve that made the hold asked and answered (None on holds stored before these
    # were kept): a retry is compared with `request` and answered with these.
    request: ReserveOp | None = None
    denial_reason: DenialReason | None = None
    balance_after: Balance | None = None


@dataclass(frozen=True)
class LedgerEntry:
    kind: str
    grant_id: int | None
    hold_id: str | None
    amount: Decimal
    hold_amount: Decimal
    reference: str | None


@dataclass(frozen=True)
class Balance:
    unit: Unit
    monthly_remaining: Decimal
    bonus_remaining: Decimal
    reserved: Decimal

    @property
    def available(self) -> Decimal:
        return self.monthly_remaining + self.bonus_remaining


@dataclass(frozen=True)
class Attribution:
    workspace_id: str | None = None
    user_id: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class DeductOp:
    idempotency_key: str
    cost: Cost
    hold_id: str | None = None
    attribution: Attribution = Attribution()


@dataclass(frozen=True)
class ReserveOp:
    hold_id: str
    cost: Cost
    ttl: timedelta


@dataclass(frozen=True)
class ReleaseOp:
    hold_id: str


Operation = DeductOp | ReserveOp | ReleaseOp


@dataclass(frozen=True)
class Deduction:
    """The result of a Deduct, stored under its idempotency key and replayed on retries."""

    idempotency_key: str
    granted: bool
    denial_reason: DenialReason | None
    amount: Decimal
    unit: Unit
    from_hold: Decimal
    from_monthly: Decimal
    from_bonus: Decimal
    hold_id: str | None
    balance: Balance
    created_at: datetime
    attribution: Attribution
    llm: LlmUsage | None = None
    replayed: bool = False


@dataclass(frozen=True)
class Reservation:
    hold: Hold
    granted: bool
    denial_reason: DenialReason | None
    unit: Unit
    balance: Balance
    replayed: bool


@dataclass(frozen=True)
class Release:
    released: Decimal
    already_closed: bool
    balance: Balance


@dataclass(frozen=True)
class Extension:
    """The answer to adding to an open hold: `added` to it, or refused (`closed`: not open)."""

    granted: bool
    denial_reason: DenialReason | None
    added: Decimal
    hold: Hold
    balance: Balance
    closed: bool = False


class CreditBook:
    """An organization's grants and holds as loaded under lock, plus what this batch changed."""

    def __init__(self, unit: Unit, grants: Iterable[Grant], holds: Iterable[Hold],
                 reserved: Decimal, period_used: Decimal, now: datetime,
                 hard_limit: Decimal | None = None, tokens: MeterCounter | None = None,
                 unlimited: bool = False) -> None:
        self.unit = unit
        # No credit limit: what the grants do not cover is taken on account.
        self.unlimited = unlimited
        # A quota's hard limit on what the period may commit (used plus held), if one is set.
        self.hard_limit = hard_limit
        # The period's `llm_tokens` counter when a quota tracks it: token costs count against it.
        self.tokens = tokens
        self.now = now
        self.grants = {g.grant_id: g for g in grants}
        self.grants[ON_ACCOUNT] = on_account()  # spendable only when unlimited; holds may name it
        # Sorted once: a book's grants are neither added to nor re-dated, and every balance and
        # every take walks them in this order.
        self._burn_order = sorted(self.grants.values(), key=Grant.burn_key)
        self.holds = {h.hold_id: h for h in holds}
        self.reserved = reserved
        self.period_used = period_used
        self.entries: list[LedgerEntry] = []
        self.changed_grants: set[int] = set()
        self.changed_holds: set[str] = set()
        self.new_deductions: list[Deduction] = []
        self._expire_lapsed_grants()
        self._expire_lapsed_holds()

    # --- balance -------------------------------------------------------------------------

    def balance(self) -> Balance:
        monthly = bonus = ZERO
        for grant in self._spendable():
            if grant.grant_id == ON_ACCOUNT:
                continue
            if grant.is_monthly:
                monthly += grant.remaining
            else:
                bonus += grant.remaining
        return Balance(self.unit, monthly, bonus, self.reserved)

    def _spendable(self) -> list[Grant]:
        return [g for g in self._burn_order if g.remaining > 0 and not self._lapsed(g)
                and (self.unlimited or g.grant_id != ON_ACCOUNT)]

    def _lapsed(self, grant: Grant) -> bool:
        return grant.expires_at is not None and grant.expires_at <= self.now

    def _refusal(self, new_spend: Decimal, tokens: Decimal) -> DenialReason | None:
        """Why spending `new_spend` (and `tokens`) more is refused, or None when it is granted."""
        if not self.unlimited and new_spend > self.balance().available:
            return running_out(self.unit)
        if self.hard_limit is not None and self.period_used + self.reserved + new_spend > self.hard_limit:
            return DenialReason.HARD_LIMIT
        counter = self._token_counter()
        if tokens and counter is not None and not counter.fits(tokens):
            return DenialReason.HARD_LIMIT
        return None

    def _token_counter(self) -> MeterCounter | None:
        """The `llm_tokens` counter when it counts this period, else None."""
        return self.tokens if self.tokens is not None and self.tokens.counts(self.now) else None

    # --- operations ----------------------------------------------------------------------

    def deduct(self, op: DeductOp, amount: Decimal, llm: LlmUsage | None = None) -> Deduction:
        hold = self.holds.get(op.hold_id) if op.hold_id else None
        from_hold = min(hold.remaining, amount) if hold and hold.status == "open" else ZERO
        rest = amount - from_hold
        tokens = llm.tokens.total if llm else ZERO
        refusal = self._refusal(rest, tokens)
        granted = refusal is None
        from_monthly = from_bonus = ZERO
        if granted:
            if hold is not None and from_hold > 0:
                self._capture(hold, from_hold, op.idempotency_key)
            from_monthly, from_bonus = self._take(rest, "deduct", None, op.idempotency_key)
            self.period_used += amount
            counter = self._token_counter()
            if counter is not None:
                counter.used += tokens
        result = Deduction(
            idempotency_key=op.idempotency_key, granted=granted,
            denial_reason=refusal, amount=amount, unit=self.unit,
            from_hold=from_hold if granted else ZERO, from_monthly=from_monthly, from_bonus=from_bonus,
            hold_id=op.hold_id, balance=self.balance(), created_at=self.now,
            attribution=op.attribution, llm=llm,
        )
        self.new_deductions.append(result)
        return result

    def reserve(self, op: ReserveOp, amount: Decimal) -> Reservation:
        """Holds credits; tokens of a token-priced hold are checked against the limit, not counted."""
        tokens = op.cost.tokens.total if isinstance(op.cost, LlmUsage) else ZERO
        refusal = self._refusal(amount, tokens)
        granted = refusal is None
        hold = Hold(op.hold_id, amount, ZERO, "denied", self.now + op.ttl, self.now)
        if granted:
            hold.status = "open"
            self._take(amount, "reserve", hold, op.hold_id)
        hold.request, hold.denial_reason, hold.balance_after = op, refusal, self.balance()
        self.holds[hold.hold_id] = hold
        self.changed_holds.add(hold.hold_id)
        return Reservation(hold, granted, refusal, self.unit, hold.balance_after, replayed=False)

    def release(self, hold: Hold, status: str = "released") -> Release:
        if hold.status != "open":
            return Release(ZERO, True, self.balance())
        released = hold.remaining
        for grant_id, held in sorted(hold.allocations.items()):
            if held == 0:
                continue
            grant = self.grants[grant_id]
            grant.remaining += held
            self._record("release", grant, hold.hold_id, held, -held, status)
            if self._lapsed(grant):
                # Credits returned to a grant whose time has passed lapse with it at once.
                grant.remaining -= held
                self._record("expire", grant, None, -held, ZERO, "lapsed")
            hold.allocations[grant_id] = ZERO
        hold.remaining = ZERO
        hold.status = status
        self.reserved -= released
        self.changed_holds.add(hold.hold_id)
        return Release(released, False, self.balance())

    def extend_hold(self, hold: Hold, need: Decimal, want: Decimal, ttl: timedelta) -> Extension:
        """Adds at least `need` and up to `want` to an open hold, as a Reserve of it would be
        granted or refused, and renews its expiry to now + `ttl` either way."""
        if hold.status != "open":
            return Extension(False, None, ZERO, hold, self.balance(), closed=True)
        hold.expires_at = self.now + ttl
        self.changed_holds.add(hold.hold_id)
        refusal = self._refusal(need, ZERO) if need > 0 else None
        if refusal is not None:
            return Extension(False, refusal, ZERO, hold, self.balance())
        room = want if self.unlimited else min(want, self.balance().available)
        if self.hard_limit is not None:
            room = min(room, self.hard_limit - self.period_used - self.reserved)
        added = max(need, room)
        if added > 0:
            self._take(added, "reserve", hold, hold.hold_id)
        return Extension(True, None, added, hold, self.balance())

    def settle(self, op: DeductOp, hold: Hold | None, amount: Decimal, llm: LlmUsage | None) -> Deduction:
        """Charges what a session used, from its hold first, and releases the rest of the hold.

        The session granted its chunks against the hold, so the charge is not refused; only
        when the hold had lapsed is the rest taken from what the balance (and a hard limit)
        still allows, never more."""
        is_open = hold is not None and hold.status == "open"
        from_hold = min(hold.remaining, amount) if hold is not None and is_open else ZERO
        rest = amount - from_hold
        if not self.unlimited:
            rest = min(rest, self.balance().available)
        if self.hard_limit is not None:
            rest = max(ZERO, min(rest, self.hard_limit - self.period_used - self.reserved))
        if hold is not None and from_hold > 0:
            self._capture(hold, from_hold, op.idempotency_key)
        from_monthly, from_bonus = self._take(rest, "deduct", None, op.idempotency_key)
        charged = from_hold + rest
        self.period_used += charged
        counter = self._token_counter()
        if counter is not None and llm is not None:
            counter.used += llm.tokens.total
        if hold is not None and is_open:
            self.release(hold)
        result = Deduction(
            idempotency_key=op.idempotency_key, granted=True, denial_reason=None, amount=charged,
            unit=self.unit, from_hold=from_hold, from_monthly=from_monthly, from_bonus=from_bonus,
            hold_id=op.hold_id, balance=self.balance(), created_at=self.now,
            attribution=op.attribution, llm=llm,
        )
        self.new_deductions.append(result)
        return result

    # --- internals -----------------------------------------------------------------------

    def _take(self, amount: Decimal, kind: str, hold: Hold | None,
              reference: str) -> tuple[Decimal, Decimal]:
        """Takes `amount` from grants in burn order; the caller has checked it is available."""
        left, monthly, bonus = amount, ZERO, ZERO
        for grant in self._spendable():
            if left == 0:
                break
            part = min(grant.remaining, left)
            grant.remaining -= part
            left -= part
            if grant.is_monthly:
                monthly += part
            else:
                bonus += part
            if hold is None:
                self._record(kind, grant, None, -part, ZERO, reference)
            else:
                hold.allocations[grant.grant_id] = hold.allocations.get(grant.grant_id, ZERO) + part
                hold.remaining += part
                self._record(kind, grant, hold.hold_id, -part, part, reference)
        if hold is not None:
            self.reserved += amount
        return monthly, bonus

    def _capture(self, hold: Hold, amount: Decimal, reference: str) -> None:
        left = amount
        for grant in sorted((self.grants[g] for g in hold.allocations), key=Grant.burn_key):
            held = hold.allocations[grant.grant_id]
            part = min(held, left)
            if part == 0:
                continue
            hold.allocations[grant.grant_id] = held - part
            left -= part
            self._record("capture", grant, hold.hold_id, ZERO, -part, reference)
        hold.remaining -= amount
        self.reserved -= amount
        self.changed_holds.add(hold.hold_id)

    def _record(self, kind: str, grant: Grant, hold_id: str | None, amount: Decimal,
                hold_amount: Decimal, reference: str | None) -> None:
        if amount != 0 and grant.grant_id != ON_ACCOUNT:
            self.changed_grants.add(grant.grant_id)
        self.entries.append(LedgerEntry(kind, grant.grant_id, hold_id, amount, hold_amount, reference))

    def _expire_lapsed_grants(self) -> None:
        for grant in self.grants.values():
            if grant.remaining > 0 and self._lapsed(grant):
                self._record("expire", grant, None, -grant.remaining, ZERO, "lapsed")
                grant.remaining = ZERO

    def _expire_lapsed_holds(self) -> None:
        for hold in list(self.holds.values()):
            if hold.status == "open" and hold.expires_at <= self.now:
                self.release(hold, status="expired")
