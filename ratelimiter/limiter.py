"""The decision function every front door calls: descriptors -> buckets -> one Decision."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from ratelimiter.config import Domain, FailureMode, Limit, Limits, Rule
from ratelimiter.model import (
    CheckRequest,
    Decision,
    InvalidArgument,
    LimitStatus,
    State,
    most_constrained,
    state_for,
)
from ratelimiter.store import BucketCall, BucketResult, StoreUnavailable

log = logging.getLogger(__name__)

# Characters that would end a hash tag early or blur the boundaries between entries.
_TAG_ESCAPES = str.maketrans({"%": "%25", "{": "%7B", "}": "%7D", "=": "%3D", "&": "%26",
                              "|": "%7C"})
FAIL_CLOSED_RETRY_MS = 1_000


class Buckets(Protocol):
    async def take(self, calls: Sequence[BucketCall]) -> list[BucketResult]: ...


class DecisionRecorder(Protocol):
    def decided(self, domain: str, decision: Decision, failure_mode: FailureMode | None) -> None: ...


def bucket_tag(domain: str, entries: tuple[tuple[str, str], ...]) -> str:
    """The hash tag naming one descriptor's buckets: all its limits land in one slot."""
    body = "&".join(f"{k.translate(_TAG_ESCAPES)}={v.translate(_TAG_ESCAPES)}" for k, v in entries)
    return "{" + domain.translate(_TAG_ESCAPES) + "|" + body + "}"


@dataclass(slots=True)
class _Plan:
    """What one descriptor needs from the store."""

    rule: Rule | None
    limits: tuple[Limit, ...]
    hits: int
    call: BucketCall | None


class Limiter:
    """Matches descriptors against the configured limits and spends tokens in Redis."""

    def __init__(self, limits: Limits, buckets: Buckets, *, key_prefix: str = "rl:",
                 recorder: DecisionRecorder | None = None) -> None:
        self.limits = limits
        self.buckets = buckets
        self.key_prefix = key_prefix
        self.recorder = recorder

    def domain(self, name: str) -> Domain:
        domain = self.limits.domains.get(name)
        if domain is None:
            raise InvalidArgument("domain", f"unknown domain {name[:64]!r}")
        return domain

    async def decide(self, request: CheckRequest) -> Decision:
        """Allowed only if every descriptor's limits admit its hits. Raises InvalidArgument."""
        domain = self.domain(request.domain)
        plans = self._plans(domain, request)
        calls = [p.call for p in plans if p.call is not None]
        try:
            results = await self.buckets.take(calls)
        except StoreUnavailable:
            decision = _by_policy(plans, domain.failure_mode)
            if self.recorder is not None:
                self.recorder.decided(domain.name, decision, domain.failure_mode)
            return decision
        decision = _from_results(plans, iter(results))
        if self.recorder is not None:
            self.recorder.decided(domain.name, decision, None)
        return decision

    def _plans(self, domain: Domain, request: CheckRequest) -> list[_Plan]:
        rules = [
            Rule(limits=(d.override,)) if d.override is not None else domain.rule_for(d.entries)
            for d in request.descriptors
        ]
        replaced = {name for rule in rules if rule is not None
                    for limit in rule.limits for name in limit.replaces}
        plans = []
        for descriptor, rule in zip(request.descriptors, rules, strict=True):
            hits = request.hits if descriptor.hits is None else descriptor.hits
            limits = () if rule is None else rule.limits
            if replaced:
                limits = tuple(lim for lim in limits if not (lim.name and lim.name in replaced))
            call = None
            if limits:
                tag = _tag(self.key_prefix, domain.name, descriptor.entries)
                if len(limits) == 1:
                    suffix, spec = _encoded(limits[0])
                    call = BucketCall(keys=((tag + suffix).encode(),), spec=b"%d" % hits + spec)
                else:
                    encoded = [_encoded(lim) for lim in limits]
                    call = BucketCall(keys=tuple((tag + sfx).encode() for sfx, _ in encoded),
                                      spec=b"%d" % hits + b"".join(spec for _, spec in encoded))
            plans.append(_Plan(rule=rule, limits=limits, hits=hits, call=call))
        return plans


@lru_cache(maxsize=16384)
def _tag(prefix: str, domain: str, entries: tuple[tuple[str, str], ...]) -> str:
    # Busy keys repeat (the same IPs ask again and again): escape them once.
    return prefix + bucket_tag(domain, entries)


@lru_cache(maxsize=4096)
def _encoded(limit: Limit) -> tuple[str, bytes]:
    """The key suffix and script arguments of a limit, formatted once, not per decision."""
    return ":" + limit.bucket_suffix, b" %d %d %d" % (limit.burst, limit.requests, limit.window_ms)


def _from_results(plans: list[_Plan], results: object) -> Decision:
    statuses = []
    allowed = True
    for plan in plans:
        if plan.call is None:
            statuses.append(LimitStatus(State.OK, None))
            continue
        result: BucketResult = next(results)  # type: ignore[call-overload]
        shadow = plan.rule is not None and plan.rule.shadow_mode
        per_limit = [
            LimitStatus(state=state_for(left, lim.burst, result.admitted), limit=lim,
                        remaining=left, reset_ms=reset, retry_after_ms=wait, shadow_mode=shadow)
            for lim, (left, reset, wait) in zip(plan.limits, result.buckets, strict=True)
        ]
        status = most_constrained(per_limit)
        if status.enforced_refusal:
            allowed = False
        statuses.append(status)
    return Decision(allowed=allowed, statuses=tuple(statuses))


def _by_policy(plans: list[_Plan], mode: FailureMode) -> Decision:
    statuses = []
    for plan in plans:
        if plan.call is None or mode is FailureMode.FAIL_OPEN:
            statuses.append(LimitStatus(State.OK, None))
        else:
            shadow = plan.rule is not None and plan.rule.shadow_mode
            statuses.append(LimitStatus(State.LIMITED, plan.limits[0],
                                        retry_after_ms=FAIL_CLOSED_RETRY_MS, shadow_mode=shadow))
    allowed = not any(s.enforced_refusal for s in statuses)
    return Decision(allowed=allowed, statuses=tuple(statuses), degraded=True)
