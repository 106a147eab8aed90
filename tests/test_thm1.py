"""Tests for proofs.thm1: Theorem 1 and Appendix A (linear fully connected autoencoder)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from _claims import assert_default_claim_passes
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs import Evidence, Status, _registry
from proofs.thm1 import (
    INSTANCES,
    check_closed_form,
    check_min_norm,
    check_step_size,
    gd_iterates,
    min_norm_facts,
)

THM1_IDS = ("thm1.closed-form", "thm1.step-size", "thm1.min-norm")


@pytest.mark.parametrize(
    ("func", "evidence"),
    [
        pytest.param(check_closed_form, Evidence.PROOF, id="closed-form"),
        pytest.param(check_step_size, Evidence.PROOF, id="step-size"),
        pytest.param(check_min_norm, Evidence.EXACT, id="min-norm"),
    ],
)
def test_default_claim_passes(func, evidence: Evidence) -> None:
    assert_default_claim_passes(func, evidence)


def test_runner_reports_pass() -> None:
    outcome = _registry.run(_registry.get("thm1.min-norm"), quick=True)
    assert outcome.result.status == Status.PASS
    assert outcome.to_json()["id"] == "thm1.min-norm"


# ----------------------------------------------------------------------------- closed form


@pytest.mark.parametrize("offset", [1, 2], ids=lambda o: f"exponent-t{o:+d}")
def test_closed_form_wrong_exponent_fails(offset: int) -> None:
    result = check_closed_form(quick=True, exponent_offset=offset)
    assert result.status == Status.FAIL
    cex = result.data["counterexample"]
    assert cex["t"] == 0  # A(0) = 0 already contradicts a shifted exponent
    assert cex["gradient_descent"] != cex["closed_form"]
    assert "base case" in result.detail


def test_closed_form_negative_exponent_rejected() -> None:
    with pytest.raises(ValueError, match="exponent_offset"):
        check_closed_form(quick=True, exponent_offset=-1)


def test_gd_iterates_match_hand_computation() -> None:
    # S = [[1]] (d = 1, x = 1), gamma = 1/2: A(1) = 1/2, A(2) = 3/4 = 1 - (1/2)^2
    iterates = gd_iterates([[Fraction(1)]], Fraction(1, 2), 2)
    assert [a[0][0] for a in iterates] == [0, Fraction(1, 2), Fraction(3, 4)]


# ----------------------------------------------------------------------------- step size


@pytest.mark.parametrize("factor", [2, 3], ids=lambda f: f"gamma<{f}/lambda1")
def test_step_size_too_large_bound_fails_with_model(factor: int) -> None:
    result = check_step_size(step_bound_factor=factor)
    assert result.status == Status.FAIL
    cex = result.data["counterexample"]
    lam, lam1, gamma = (Fraction(cex[k]) for k in ("lam", "lam1", "gamma"))
    # the model satisfies the wrong hypothesis and violates 0 <= 1 - gamma lambda < 1
    assert 0 < lam <= lam1 and 0 < gamma and gamma * lam1 < factor
    assert not (0 <= 1 - gamma * lam < 1)


def test_step_size_witness_at_two_over_lambda1() -> None:
    result = check_step_size()
    witness = result.data["witness_at_2_over_lambda1"]
    assert Fraction(witness["factor"]) == -1
    assert Fraction(witness["gamma"]) * Fraction(witness["lam1"]) == 2


def test_step_size_timeout_is_never_pass() -> None:
    result = check_step_size(timeout_ms=1)
    assert result.status in (Status.UNKNOWN, Status.PASS)  # z3 may still answer in 1 ms
    if result.status == Status.UNKNOWN:
        assert any(part["status"] == "unknown" for part in result.data["parts"])


# ----------------------------------------------------------------------------- minimum norm


@pytest.mark.parametrize("name", [name for name, _ in INSTANCES])
def test_min_norm_facts_on_each_instance(name: str) -> None:
    facts = min_norm_facts(dict(INSTANCES)[name])
    assert all(v for v in facts.values() if isinstance(v, bool)), facts
    assert facts["rank_A_inf"] == facts["dim_span"] <= facts["n"] < facts["d"]


def test_min_norm_wrong_rank_claim_fails() -> None:
    result = check_min_norm(quick=True, claimed_rank_offset=1)
    assert result.status == Status.FAIL
    cex = result.data["counterexample"]
    assert cex["failed"] == ["rank A(inf) = dim span(X)"]
    assert cex["rank_A_inf"] == cex["dim_span"]


def test_min_norm_unknown_instance_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown instance"):
        check_min_norm(instances=("no-such",))


def test_min_norm_zero_data() -> None:
    facts = min_norm_facts([[0, 0, 0]])
    assert facts["dim_span"] == facts["rank_A_inf"] == 0
    assert facts["formula_equals_pinv"] and facts["iterates_split"]


@settings(max_examples=25, deadline=None)
@given(
    st.integers(min_value=2, max_value=5).flatmap(
        lambda d: st.lists(
            st.lists(st.integers(-3, 3), min_size=d, max_size=d), min_size=1, max_size=d - 1
        )
    )
)
def test_min_norm_property(examples: list[list[int]]) -> None:
    """Theorem 1's exact facts for random integer training sets with n < d <= 5."""
    facts = min_norm_facts(examples)
    assert facts["n"] < facts["d"]
    failed = [k for k, v in facts.items() if isinstance(v, bool) and not v]
    assert failed == []
    assert facts["rank_A_inf"] == facts["dim_span"]
