"""The pure rules of a push: whole-number values, identifiers, timestamps, what an answer means."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from devstack.stripe_test_server.forms import decode
from services.billing.domain.retry import Answer, Verdict, backoff_seconds, decide
from services.billing.domain.stripe_units import event_timestamp, idempotency_key, identifier, stripe_value


def test_values_are_scaled_to_whole_numbers_rounding_half_even() -> None:
    assert stripe_value(Decimal("12.3455"), 3) == 12346 and stripe_value(Decimal("12.3445"), 3) == 12344
    assert stripe_value(Decimal("86400"), 0) == 86400 and stripe_value(Decimal("0.0004"), 3) == 0


def test_identifiers_are_deterministic_unique_and_short_enough_for_stripe() -> None:
    day = date(2024, 11, 29)
    long_org, long_meter = "o" * 64, "m" * 64
    first = identifier(long_org, long_meter, day, 1)
    assert first == identifier(long_org, long_meter, day, 1) and len(first) <= 100
    others = {identifier(long_org, long_meter, day, 2), identifier(long_org, "x", day, 1),
              identifier("p", long_meter, day, 1), identifier(long_org, long_meter, day + timedelta(1), 1)}
    assert first not in others and len(others) == 4
    stamp = datetime(2024, 11, 29, tzinfo=UTC)
    assert idempotency_key(first, stamp).startswith(first)


def test_days_older_than_stripe_accepts_are_carried_into_the_current_period() -> None:
    now = datetime(2024, 12, 31, 2, 0, tzinfo=UTC)
    anchor = datetime(2024, 1, 1, tzinfo=UTC)
    assert event_timestamp(date(2024, 12, 30), now, anchor) == (datetime(2024, 12, 30, tzinfo=UTC), False)
    stamp, carried = event_timestamp(date(2024, 11, 1), now, anchor)
    assert carried and stamp == now


def test_the_first_day_of_an_organization_is_stamped_at_its_billing_anchor() -> None:
    now = datetime(2024, 12, 31, 2, 0, tzinfo=UTC)
    anchor = datetime(2024, 12, 20, 13, 0, 0, 250_000, tzinfo=UTC)  # created 13:00:00.25
    assert event_timestamp(date(2024, 12, 20), now, anchor) == (
        datetime(2024, 12, 20, 13, 0, 1, tzinfo=UTC), False)  # the next whole second
    assert event_timestamp(date(2024, 12, 21), now, anchor) == (datetime(2024, 12, 21, tzinfo=UTC), False)


@pytest.mark.parametrize(("answer", "verdict", "after"), [
    (Answer(200, {}), Verdict.DELIVERED, None),
    (Answer(None, {}, "timeout"), Verdict.RETRY, None),
    (Answer(429, {"Retry-After": "7"}), Verdict.RETRY, 7.0),
    (Answer(500, {}), Verdict.RETRY, None),
    (Answer(503, {"stripe-should-retry": "true"}), Verdict.RETRY, None),
    (Answer(500, {"Stripe-Should-Retry": "false"}), Verdict.FAILED, None),
    (Answer(409, {}), Verdict.RETRY, None),
    (Answer(400, {}, "An event already exists with identifier mb_x.", "identifier"),
     Verdict.ALREADY_DELIVERED, None),
    (Answer(400, {}, "Timestamp must be within the past 35 calendar days", "timestamp"),
     Verdict.RESTAMP, None),
    (Answer(400, {}, "payload[value] must be a whole number", "payload[value]"), Verdict.FAILED, None),
    (Answer(401, {}, "Invalid API Key provided"), Verdict.RETRY, None),
])
def test_each_stripe_answer_means_one_thing(answer: Answer, verdict: Verdict, after: float | None) -> None:
    decision = decide(answer)
    assert (decision.verdict, decision.retry_after) == (verdict, after)


def test_backoff_grows_with_jitter_is_capped_and_honours_retry_after() -> None:
    rand = random.Random(1)
    delays = [backoff_seconds(n, 1.0, 60.0, None, rand) for n in range(1, 10)]
    assert all(0.5 * min(60, 2 ** (n - 1)) <= d <= min(60, 2 ** (n - 1)) for n, d in enumerate(delays, 1))
    assert backoff_seconds(1, 1.0, 60.0, 30.0, rand) == 30.0


def test_the_test_server_decodes_stripe_form_encoding() -> None:
    assert decode("event_name=x&payload[stripe_customer_id]=cus_1&payload[value]=5&types[0]=card&types[1]=ach"
                  "&metadata[org_id]=o") == {"event_name": "x", "payload": {"stripe_customer_id": "cus_1",
                                                                            "value": "5"},
                                             "types": ["card", "ach"], "metadata": {"org_id": "o"}}
