"""Locking an organization's balance row with its CreditBook, and saving what a batch changed:
one statement each way.

The locking statement reads the book too, with the credit alerts in force, and the write takes
the usage of the granted deductions, so a batch costs four round trips: BEGIN, lock and read,
write, COMMIT. The read sees the snapshot from before any wait for the lock; when a writer
committed in that wait, the batch reads the book again under the lock (`load_book`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

import asyncpg

from services.kit.row_sets import RowSet, column
from services.metering.domain.alerts import Severity
from services.metering.domain.credits import (
    ON_ACCOUNT,
    Attribution,
    Balance,
    CreditBook,
    Deduction,
    DenialReason,
    Grant,
    Hold,
    LedgerEntry,
    ReserveOp,
    Unit,
)
from services.metering.domain.pricing import LlmUsage, TokenCounts
from services.metering.store.allowances import period_credits
from services.metering.store.deduction_usage import DeductionUsage, usage_of
from services.metering.store.periods import (
    LOCKED_BALANCE_COLUMNS,
    LOCKED_BALANCE_ROW,
    LockedBalance,
    credits_unlimited,
    locked_balance,
)

R = TypeVar("R")

# Stored results of the batch's idempotency keys ($2), the holds it names ($3) or that have
# expired, their allocations, and every grant with credits left (or holding a loaded hold's
# credits), as JSON; and the severities of the active alerts of one resource.
_BOOK_HOLDS = """
named_holds AS (
    SELECT hold_id, amount, remaining, status, expires_at, created_at, model, tokens, denial_reason,
           monthly_remaining, bonus_remaining, reserved
    FROM holds
    WHERE org_id = $1 AND (hold_id = ANY($3::text[]) OR (status = 'open' AND expires_at <= {now}))
), open_allocations AS (
    SELECT a.hold_id, a.grant_id, a.remaining
    FROM hold_allocations a JOIN named_holds h ON h.hold_id = a.hold_id AND h.status = 'open'
    WHERE a.org_id = $1
)"""
_BOOK_COLUMNS = """
    (SELECT coalesce(json_agg(d), '[]') FROM deductions d
     WHERE d.org_id = $1 AND d.idempotency_key = ANY($2::text[])) AS deductions,
    (SELECT coalesce(json_agg(h), '[]') FROM named_holds h) AS holds,
    (SELECT coalesce(json_agg(a), '[]') FROM open_allocations a) AS allocations,
    (SELECT coalesce(json_agg(g), '[]') FROM (
        SELECT grant_id, kind, remaining, expires_at FROM credit_grants
        WHERE org_id = $1 AND (remaining > 0 OR grant_id IN (SELECT grant_id FROM open_allocations))
     ) g) AS grants,
    (SELECT coalesce(array_agg(severity), '{{}}') FROM alerts
     WHERE org_id = $1 AND resource = {resource} AND status = 'active') AS active_alerts,
    (SELECT min(expires_at) FROM holds WHERE org_id = $1 AND status = 'open') AS next_hold_expiry,
    EXISTS (SELECT FROM quotas WHERE org_id = $1 AND resource = 'llm_tokens') AS tokens_quota"""

# The book at the batch's time $4, of the alerts of resource $5, under a lock already held.
READ_BOOK = f"WITH {_BOOK_HOLDS.format(now='$4')}\nSELECT {_BOOK_COLUMNS.format(resource='$5')}"

# The balance row lock and the book (of the alerts of resource $4) in one round trip. The book is
# read in the statement's snapshot, taken before any wait for the lock: `current` tells whether
# the locked row is the one that snapshot sees. Every writer of the book updates the balance row
# in its transaction, so a writer that committed in between gave the row a new version (xmin).
LOCK_AND_READ_BOOK = f"""
WITH {_BOOK_HOLDS.format(now='statement_timestamp()')}
SELECT {LOCKED_BALANCE_COLUMNS},
    b.xmin = (SELECT s.xmin FROM balances s WHERE s.org_id = $1) AS current, b.xmin AS balance_version,
    o.xmin AS org_version, cq.xmin AS quota_version,
{_BOOK_COLUMNS.format(resource='$4')}{LOCKED_BALANCE_ROW}"""


@dataclass(frozen=True)
class LedgerRow:
    kind: str = column("text")
    grant_id: int | None = column("bigint")
    hold_id: str | None = column("text")
    amount: Decimal | None = column("numeric")
    hold_amount: Decimal | None = column("numeric")
    reference: str | None = column("text")


@dataclass(frozen=True)
class GrantRow:
    grant_id: int = column("bigint")
    remaining: Decimal = column("numeric")


@dataclass(frozen=True)
class HoldRow:
    hold_id: str = column("text")
    amount: Decimal = column("numeric")
    remaining: Decimal = column("numeric")
    status: str = column("text")
    expires_at: datetime = column("timestamptz")
    created_at: datetime = column("timestamptz")
    # What the Reserve asked and answered (NULL for holds stored before these were kept).
    model: str | None = column("text")
    tokens: str | None = column("text", cast="jsonb")
    denial_reason: str | None = column("text")
    monthly_remaining: Decimal | None = column("numeric")
    bonus_remaining: Decimal | None = column("numeric")
    reserved: Decimal | None = column("numeric")


@dataclass(frozen=True)
class AllocationRow:
    hold_id: str = column("text")
    grant_id: int = column("bigint")
    remaining: Decimal = column("numeric")


@dataclass(frozen=True)
class DeductionRow:
    idempotency_key: str = column("text")
    amount: Decimal = column("numeric")
    unit: str = column("text")
    granted: bool = column("bool")
    denial_reason: str | None = column("text")
    from_hold: Decimal = column("numeric")
    from_monthly: Decimal = column("numeric")
    from_bonus: Decimal = column("numeric")
    hold_id: str | None = column("text")
    monthly_remaining: Decimal = column("numeric")
    bonus_remaining: Decimal = column("numeric")
    reserved: Decimal = column("numeric")
    workspace_id: str | None = column("text")
    user_id: str | None = column("text")
    source: str | None = column("text")
    model: str | None = column("text")
    tokens: str | None = column("text", cast="jsonb")


@dataclass(frozen=True)
class _HoldParameters:
    """The holds a batch changed and their allocations: written together or not at all."""

    holds: RowSet[HoldRow]
    allocations: RowSet[AllocationRow]


@dataclass(frozen=True)
class _BookParameters:
    """The parameters of a batch's write: $1 the organization, $2 the batch's time, then each row
    set (one parameter each), then the balance; the warm write of a batch of plain deductions,
    which changes no hold, has no holds or allocations."""

    ledger: RowSet[LedgerRow]
    grants: RowSet[GrantRow]
    holds: _HoldParameters | None
    deductions: RowSet[DeductionRow]
    usage: RowSet[DeductionUsage]
    balance: int  # the first of the balance's four

    @classmethod
    def numbered(cls, with_holds: bool, shape: LoneShape | None = None) -> _BookParameters:
        """Each row set as one `jsonb` parameter; or, given a lone deduction's `shape`, its rows a
        parameter per value (see kit.row_sets). A lone deduction changes no hold: its holds and
        allocations are empty, there only when its write checks as one that counts tokens does
        (see `_warm_check`)."""

        def rows(row_type: type[R], first_param: int, alias: str, count: int) -> RowSet[R]:
            """`count` rows of a lone deduction's, or any number as `jsonb`."""
            if shape is None:
                return _packed(row_type, first_param, alias)
            return RowSet(row_type, first_param, alias, rows=count)

        ledger = rows(LedgerRow, 3, "e", shape.entries if shape else 0)
        grants = rows(GrantRow, ledger.next_param, "u", shape.grants if shape else 0)
        holds = None
        if with_holds:
            changed = rows(HoldRow, grants.next_param, "h", 0)
            holds = _HoldParameters(changed, rows(AllocationRow, changed.next_param, "a", 0))
        deductions = rows(DeductionRow, holds.allocations.next_param if holds else grants.next_param, "d", 1)
        usage = rows(DeductionUsage, deductions.next_param, "x", shape.usage if shape else 0)
        return cls(ledger, grants, holds, deductions, usage, usage.next_param)


def _packed(row_type: type[R], first_param: int, alias: str) -> RowSet[R]:
    """A row set of a book's write: tens of columns, a few rows, sent as one `jsonb` parameter
    (see kit.row_sets)."""
    return RowSet(row_type, first_param, alias, as_json=True)


@dataclass(frozen=True)
class LoneShape:
    """How many ledger entries, grants and usage rows a batch of one deduction writes, and
    whether it counts LLM tokens."""

    entries: int
    grants: int
    usage: int
    counts_tokens: bool = False

    # More rows than this (a deduction spread over many grants) take the shared statement: the
    # statements of lone deductions stay few, each prepared once per connection. A deduction of
    # tokens has a usage row per kind of token and one for its credits.
    MOST_ROWS: ClassVar[int] = 5

    @classmethod
    def of(cls, book: CreditBook, usage: list[DeductionUsage], counts_tokens: bool) -> LoneShape | None:
        """The shape of the book's write when it is a lone deduction's of few rows, else None."""
        if len(book.new_deductions) != 1 or book.changed_holds:
            return None
        shape = cls(len(book.entries), len(book.changed_grants), len(usage), counts_tokens)
        return shape if max(shape.entries, shape.grants, shape.usage) <= cls.MOST_ROWS else None


_LOCKED = _BookParameters.numbered(with_holds=True)
_WARM = _BookParameters.numbered(with_holds=False)


def _warm_check(first: int, with_holds: bool) -> str:
    """The check of a warm write (see `save_warm_book`), its parameters numbered from `first`:
    under the balance row lock, the rows the book was read from are still the versions it was read
    from, the credits allowance and the active credit alerts are the same, and the batch's time is
    the database's to within a second. With `with_holds`, the holds the batch opens ($first + 5)
    name no hold and no deduction stored before: a key used before takes the locked path, which
    answers what was stored under it. Reading those rows in the statement's snapshot is enough:
    whoever wrote them gave the balance row a new version, which the lock's recheck sees. And
    when the batch counts tokens ($first + 6), no quota counts them: a quota that does takes the
    locked path, which locks and adds to its counter."""
    keys = f"${first + 5}::text[]"
    fresh = "" if not with_holds else f"""
      AND (cardinality({keys}) = 0 OR (
          NOT EXISTS (SELECT FROM holds WHERE org_id = $1 AND hold_id = ANY({keys}))
          AND NOT EXISTS (SELECT FROM deductions WHERE org_id = $1 AND idempotency_key = ANY({keys}))))
      AND (NOT ${first + 6}::bool OR NOT EXISTS (
          SELECT FROM quotas WHERE org_id = $1 AND resource = 'llm_tokens'))"""
    return f"""
warm AS (
    SELECT statement_timestamp() AS now FROM balances b
    JOIN organizations o USING (org_id)
    LEFT JOIN quotas cq ON cq.org_id = b.org_id AND cq.resource = 'credits'
    WHERE b.org_id = $1 AND b.xmin = ${first}::xid AND o.xmin = ${first + 1}::xid
      AND cq.xmin IS NOT DISTINCT FROM ${first + 2}::xid
      AND {period_credits('$1')} IS NOT DISTINCT FROM ${first + 3}::numeric
      AND ARRAY(SELECT severity FROM alerts WHERE org_id = $1 AND resource = 'credits'
                AND status = 'active' ORDER BY severity) = ${first + 4}::text[]
      AND abs(extract(epoch FROM statement_timestamp() - $2)) < 1{fresh}
    FOR UPDATE OF b
),"""


def _write_book(p: _BookParameters, warm: bool) -> str:
    """The write of a batch, its row sets as `p` numbers and sends them: every row it changed and
    the balance; when `warm`, only if the warm check passes (nothing otherwise), and with the
    holds and allocations it changed when `p` has them. Returns the balance row's new version,
    and when `warm` the statement's time."""
    checked = "EXISTS (SELECT FROM warm)"
    check, where, and_ = ("", "", "")
    if warm:
        check, where, and_ = (_warm_check(p.balance + 4, with_holds=p.holds is not None),
                              f"\n    WHERE {checked}", f" AND {checked}")
    now = ", (SELECT now FROM warm) AS now" if warm else ""  # Citus refuses a function in RETURNING
    holds_written = "" if p.holds is None else f"""
), held AS (
    INSERT INTO holds (org_id, {p.holds.holds.names}, closed_at)
    SELECT $1, {p.holds.holds.values}, CASE WHEN h.status IN ('released', 'expired') THEN $2 END
    FROM {p.holds.holds.source}{where}
    ON CONFLICT (org_id, hold_id) DO UPDATE
    SET remaining = EXCLUDED.remaining, status = EXCLUDED.status, closed_at = EXCLUDED.closed_at,
        expires_at = EXCLUDED.expires_at
), allocations AS (
    INSERT INTO hold_allocations (org_id, {p.holds.allocations.names})
    SELECT $1, {p.holds.allocations.values}
    FROM {p.holds.allocations.source}{where}
    ON CONFLICT (org_id, hold_id, grant_id) DO UPDATE SET remaining = EXCLUDED.remaining"""
    return f"""
WITH {check} ledger AS (
    INSERT INTO ledger_entries (org_id, {p.ledger.names}, created_at)
    SELECT $1, {p.ledger.values}, $2
    FROM {p.ledger.source}{where}
), grants AS (
    UPDATE credit_grants g SET remaining = u.remaining
    FROM {p.grants.source}
    WHERE g.org_id = $1 AND g.grant_id = u.grant_id{and_}{holds_written}
), deducted AS (
    -- org_id from the organization's balance row: Citus then runs the insert on its shard, and
    -- reports a key stored before as a unique violation (from the coordinator it would not).
    INSERT INTO deductions (org_id, {p.deductions.names}, created_at)
    SELECT k.org_id, {p.deductions.values}, $2
    FROM balances k, {p.deductions.source}
    WHERE k.org_id = $1{and_}
), usage AS (
    INSERT INTO usage_events (org_id, {p.usage.names})
    SELECT $1, {p.usage.values}
    FROM {p.usage.source}{where}
    ORDER BY x.idempotency_key
    ON CONFLICT (org_id, idempotency_key) DO NOTHING
)
UPDATE balances
SET monthly_remaining = ${p.balance}, bonus_remaining = ${p.balance + 1}, reserved = ${p.balance + 2},
    period_used = ${p.balance + 3}, updated_at = $2
WHERE org_id = $1{and_}
RETURNING xmin AS version{now}"""


WRITE_BOOK = _write_book(_LOCKED, warm=False)
WRITE_WARM_BOOK = _write_book(_WARM, warm=True)
WRITE_WARM_BOOK_WITH_HOLDS = _write_book(_LOCKED, warm=True)


@functools.cache
def write_lone_deduction(shape: LoneShape) -> tuple[_BookParameters, str]:
    """The warm write of a batch of one plain deduction of this shape, and its parameters."""
    p = _BookParameters.numbered(with_holds=shape.counts_tokens, shape=shape)
    return p, _write_book(p, warm=True)


def _json(text: str) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads(text, parse_float=Decimal, parse_int=Decimal)
    return loaded


def _when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


@dataclass
class LoadedBook:
    book: CreditBook
    stored: dict[str, Deduction]  # the stored results of the batch's keys that were used before
    active_alerts: frozenset[Severity]  # of the resource the load was asked for
    next_hold_expiry: datetime | None  # of the organization's open holds, when it has any
    tokens_quota: bool  # whether a quota counts the organization's LLM tokens


@dataclass(frozen=True)
class BookVersions:
    """The versions (xmin) of the rows a book and its terms were read from."""

    balance: int
    organization: int
    credits_quota: int | None  # None: the organization has no credits quota row


@dataclass(frozen=True)
class LockedBook:
    balance: LockedBalance
    # None when a writer committed between the read's snapshot and the lock: read it again.
    book: LoadedBook | None
    versions: BookVersions  # as read; the balance row's changes with the batch's write


async def lock_book(conn: asyncpg.Connection, org_id: str, keys: list[str], hold_ids: list[str],
                    alerts_of: str) -> LockedBook | None:
    """Locks the organization's balance row FOR UPDATE until the caller's transaction ends and
    reads its book (as `load_book`) in the same statement; None for an unknown organization."""
    row = await conn.fetchrow(LOCK_AND_READ_BOOK, org_id, keys, hold_ids, alerts_of)
    if row is None:
        return None
    balance = locked_balance(row)
    return LockedBook(balance, _loaded_book(row, balance) if row["current"] else None,
                      BookVersions(row["balance_version"], row["org_version"], row["quota_version"]))


async def load_book(conn: asyncpg.Connection, org_id: str, org: LockedBalance, keys: list[str],
                    hold_ids: list[str], alerts_of: str) -> LoadedBook:
    """The organization's book, the stored results of `keys`, and the active alerts of the
    resource `alerts_of`."""
    return _loaded_book(await conn.fetchrow(READ_BOOK, org_id, keys, hold_ids, org.now, alerts_of), org)


def _loaded_book(row: asyncpg.Record, org: LockedBalance) -> LoadedBook:
    unit = Unit.of_billing_model(org.billing_model)
    holds = {h["hold_id"]: hold_from_json(h, unit) for h in _json(row["holds"])}
    for a in _json(row["allocations"]):
        holds[a["hold_id"]].allocations[int(a["grant_id"])] = a["remaining"]
    grants = [Grant(int(g["grant_id"]), g["kind"], g["remaining"], _when(g["expires_at"]))
              for g in _json(row["grants"])]
    book = CreditBook(unit, grants, holds.values(), org.reserved, org.period_used, org.now,
                      hard_limit=org.hard_limit, unlimited=credits_unlimited(org))
    stored = {d["idempotency_key"]: deduction_from_json(d) for d in _json(row["deductions"])}
    return LoadedBook(book, stored, frozenset(Severity(s) for s in row["active_alerts"]),
                      row["next_hold_expiry"], row["tokens_quota"])


def hold_from_json(h: Mapping[str, Any], unit: Unit) -> Hold:
    expires_at, created_at = datetime.fromisoformat(h["expires_at"]), datetime.fromisoformat(h["created_at"])
    hold = Hold(h["hold_id"], h["amount"], h["remaining"], h["status"], expires_at, created_at)
    if h["monthly_remaining"] is not None:  # the Reserve's request and answer were kept
        hold.request = ReserveOp(h["hold_id"], _llm(h) or h["amount"], expires_at - created_at)
        hold.denial_reason = DenialReason(h["denial_reason"]) if h["denial_reason"] else None
        hold.balance_after = Balance(unit, h["monthly_remaining"], h["bonus_remaining"], h["reserved"])
    return hold


def _llm(row: Mapping[str, Any]) -> LlmUsage | None:
    if not row["model"]:
        return None
    counts = row["tokens"] or {}
    return LlmUsage(row["model"], TokenCounts(**{k: Decimal(v) for k, v in counts.items()}))


def deduction_from_json(d: Mapping[str, Any]) -> Deduction:
    unit = Unit(d["unit"])
    llm = _llm(d)
    return Deduction(
        idempotency_key=d["idempotency_key"], granted=d["granted"],
        denial_reason=DenialReason(d["denial_reason"]) if d["denial_reason"] else None,
        amount=d["amount"], unit=unit, from_hold=d["from_hold"], from_monthly=d["from_monthly"],
        from_bonus=d["from_bonus"], hold_id=d["hold_id"],
        balance=Balance(unit, d["monthly_remaining"], d["bonus_remaining"], d["reserved"]),
        created_at=datetime.fromisoformat(d["created_at"]),
        attribution=Attribution(d["workspace_id"], d["user_id"], d["source"]),
        llm=llm, replayed=True,
    )


async def save_book(conn: asyncpg.Connection, org_id: str, book: CreditBook) -> int:
    """Writes the batch's ledger rows, grant and hold changes, deductions, their usage and the
    balance; returns the balance row's new version."""
    arguments = _book_arguments(org_id, book, _LOCKED, usage_of(book.new_deductions))
    row = await conn.fetchrow(WRITE_BOOK, *arguments)
    version: int = row["version"]
    return version


@dataclass(frozen=True)
class WarmWrite:
    """What a warm write checks besides the row versions: the organization's credits per period,
    its active credit alerts, and whether a quota counts its LLM tokens, as the book was made with."""

    versions: BookVersions
    monthly_credits: Decimal | None
    active_alerts: frozenset[Severity]
    tokens_quota: bool


async def save_warm_book(conn: asyncpg.Connection, org_id: str, book: CreditBook, warm: WarmWrite,
                         new_holds: list[str], counts_tokens: bool) -> tuple[int, datetime] | None:
    """Writes as `save_book` does, in one statement that commits on its own (the connection must
    not be in a transaction), if the book is still the organization's, the holds the batch opened
    (`new_holds`) were never used before and, when the batch `counts_tokens`, no quota counts
    them: see `_warm_check`. Returns the balance row's new
    version and the statement's time, or None when nothing was written. Raises
    asyncpg.UniqueViolationError when a deduction's key was stored before."""
    v = warm.versions
    check = [v.balance, v.organization, v.credits_quota, warm.monthly_credits,
             sorted(s.value for s in warm.active_alerts)]
    usage = usage_of(book.new_deductions)
    # A lone deduction, the most frequent batch, has a statement of its shape: cheaper for
    # PostgreSQL than reading its few rows out of JSON.
    shape = LoneShape.of(book, usage, counts_tokens)
    if shape:
        p, statement = write_lone_deduction(shape)
    else:
        with_holds = book.changed_holds or counts_tokens
        p, statement = (_LOCKED, WRITE_WARM_BOOK_WITH_HOLDS) if with_holds else (_WARM, WRITE_WARM_BOOK)
    arguments = [*_book_arguments(org_id, book, p, usage), *check]
    if p.holds is not None:  # the check of a write that opens holds or counts tokens
        arguments += [new_holds, counts_tokens]
    row = await conn.fetchrow(statement, *arguments)
    return None if row is None else (row["version"], row["now"])


def _book_arguments(org_id: str, book: CreditBook, p: _BookParameters,
                    usage: list[DeductionUsage]) -> list[Any]:
    balance = book.balance()
    grants = [GrantRow(i, book.grants[i].remaining) for i in sorted(book.changed_grants)]
    arguments = [org_id, book.now, *p.ledger.arguments([_ledger_row(x) for x in book.entries]),
                 *p.grants.arguments(grants)]
    if p.holds is not None:
        holds = [book.holds[h] for h in sorted(book.changed_holds)]
        arguments += [*p.holds.holds.arguments([_hold_row(h) for h in holds]),
                      *p.holds.allocations.arguments([AllocationRow(h.hold_id, g, left) for h in holds
                                                      for g, left in sorted(h.allocations.items())])]
    elif book.changed_holds:
        raise ValueError("a write without holds was given a batch that changed one")
    return [
        *arguments,
        *p.deductions.arguments([_deduction_row(d) for d in book.new_deductions]),
        *p.usage.arguments(usage),
        balance.monthly_remaining, balance.bonus_remaining, balance.reserved, book.period_used,
    ]


def _ledger_row(entry: LedgerEntry) -> LedgerRow:
    return LedgerRow(entry.kind, None if entry.grant_id == ON_ACCOUNT else entry.grant_id, entry.hold_id,
                     entry.amount, entry.hold_amount, entry.reference)


def _tokens_json(llm: LlmUsage | None) -> str | None:
    return json.dumps(llm.tokens.as_json()) if llm else None


def _hold_row(hold: Hold) -> HoldRow:
    """The hold, with what its Reserve asked and answered when it is new (stored ones keep theirs)."""
    asked = hold.request.cost if hold.request and isinstance(hold.request.cost, LlmUsage) else None
    after = hold.balance_after
    return HoldRow(
        hold.hold_id, hold.amount, hold.remaining, hold.status, hold.expires_at, hold.created_at,
        asked.model if asked else None, _tokens_json(asked),
        hold.denial_reason.value if hold.denial_reason else None,
        after.monthly_remaining if after else None, after.bonus_remaining if after else None,
        after.reserved if after else None,
    )


def _deduction_row(d: Deduction) -> DeductionRow:
    return DeductionRow(
        d.idempotency_key, d.amount, d.unit.value, d.granted,
        d.denial_reason.value if d.denial_reason else None,
        d.from_hold, d.from_monthly, d.from_bonus, d.hold_id, d.balance.monthly_remaining,
        d.balance.bonus_remaining, d.balance.reserved, d.attribution.workspace_id, d.attribution.user_id,
        d.attribution.source, d.llm.model if d.llm else None, _tokens_json(d.llm),
    )
