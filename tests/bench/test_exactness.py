"""The metering benchmark checks exactness after every phase: what the phase's clients were
granted, the drop of the organizations' balances and the credits the ledger took must agree."""

from __future__ import annotations

from decimal import Decimal

from bench.metering_exactness import PhaseExactness, every_phase


def phase(label: str, granted: int, drop: int, taken: int, errors: int = 0) -> PhaseExactness:
    return PhaseExactness(label, Decimal(granted), Decimal(drop), Decimal(taken), taken, errors)


def test_a_group_passes_when_each_phase_agrees_and_reports_the_totals() -> None:
    check = every_phase("Deduct exactness, hot",
                        [phase("32 callers", 100, 100, 100), phase("64 callers", 50, 50, 50)])

    assert check.passed
    assert check.detail == ("each of 2 phases: granted to clients 150, balance drop 150, "
                            "ledger 150 in 150 deductions, 0 errors in all")


def test_phases_whose_figures_disagree_fail_the_group_and_are_named_though_the_totals_agree() -> None:
    # The first phase took 10 credits more than its clients were granted, the second 10 fewer:
    # 150 granted, 150 dropped and 150 taken in all.
    check = every_phase("Deduct exactness, hot",
                        [phase("32 callers", 100, 110, 110), phase("64 callers", 50, 40, 40)])

    assert not check.passed
    assert check.detail == ("32 callers: granted to clients 100, balance drop 110, ledger 110 in 110 "
                            "deductions, 0 errors; 64 callers: granted to clients 50, balance drop 40, "
                            "ledger 40 in 40 deductions, 0 errors")


def test_a_phase_with_failed_calls_fails_the_group() -> None:
    assert not every_phase("Deduct exactness, hot", [phase("1 caller", 3, 3, 3, errors=1)]).passed
