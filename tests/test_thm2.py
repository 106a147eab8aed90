"""Tests for proofs.thm2_*: Theorem 2, its Corollary and Appendix B (nonlinear autoencoder)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from _claims import assert_default_claim_passes
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs import Evidence, Status, _registry
from proofs.thm2_activation import certify_chord, check_assumption_c, check_chord_bound
from proofs.thm2_corollary import (
    COROLLARY_INSTANCES,
    check_corollary,
    check_corollary_rank,
    corollary_facts,
)
from proofs.thm2_dynamics import check_conclusion, gradient_descent
from proofs.thm2_gradient import check_linearization, check_row_span

DEFAULTS = [
    pytest.param(check_assumption_c, Evidence.PROOF, id="assumption-c"),
    pytest.param(check_chord_bound, Evidence.EXACT, id="chord-bound"),
    pytest.param(check_row_span, Evidence.EXACT, id="row-span"),
    pytest.param(check_linearization, Evidence.PROOF, id="linearization"),
    pytest.param(check_conclusion, Evidence.NUMERIC, id="conclusion"),
    pytest.param(check_corollary, Evidence.EXACT, id="corollary"),
    pytest.param(check_corollary_rank, Evidence.EXACT, id="corollary-rank"),
]


@pytest.mark.parametrize(("func", "evidence"), DEFAULTS)
def test_default_claim_passes(func, evidence: Evidence) -> None:
    assert_default_claim_passes(func, evidence)


def test_all_thm2_ids_registered() -> None:
    ids = {c.id for c in _registry.load_all() if c.id.startswith("thm2.")}
    assert ids == {
        "thm2.assumption-c",
        "thm2.chord-bound",
        "thm2.row-span",
        "thm2.linearization",
        "thm2.conclusion",
        "thm2.corollary",
        "thm2.corollary-rank",
    }
    for cid in ids:
        check = _registry.get(cid)
        assert check.statement and check.method and check.reference


# ----------------------------------------------------------------------------- assumption 1(c)


def test_assumption_c_opposite_convexity_fails_with_model() -> None:
    result = check_assumption_c(flip_convexity=True)
    assert result.status == Status.FAIL
    cex = result.data["counterexample"]
    v = Fraction(cex["v"])
    assert cex["activation"] == "sigmoid" and 0 < v < Fraction(1, 2)
    # the model's sigma'' = v(1-v)(1-2v) is positive: the claimed concavity is false there
    assert Fraction(cex["phi_second"]) == v * (1 - v) * (1 - 2 * v) > 0


def test_assumption_c_tiny_timeout_is_never_pass() -> None:
    result = check_assumption_c(timeout_ms=1)
    assert result.status in (Status.UNKNOWN, Status.PASS)
    if result.status == Status.UNKNOWN:
        assert any(p["status"] == "unknown" for p in result.data["parts"])


# ----------------------------------------------------------------------------- chord bound


@pytest.mark.parametrize(
    ("name", "x"),
    [("sigmoid", Fraction(1, 20)), ("sigmoid", Fraction(19, 20)),
     ("tanh", Fraction(-1, 2)), ("tanh", Fraction(9, 10))],
    ids=["sigmoid-0.05", "sigmoid-0.95", "tanh--0.5", "tanh-0.9"],
)  # fmt: skip
def test_chord_certified_and_reverse_fails(name: str, x: Fraction) -> None:
    status, info = certify_chord(name, x)
    assert status == Status.PASS and info["pieces"] >= 1
    status, info = certify_chord(name, x, reverse=True)
    assert status == Status.FAIL
    gap = info["chord_minus_phi"]  # certified enclosure of chord - phi at z = p/2
    assert (gap[0] > 0) if x < (Fraction(1, 2) if name == "sigmoid" else 0) else (gap[1] < 0)


def test_chord_bound_reversed_claim_fails() -> None:
    result = check_chord_bound(quick=True, reverse=True)
    assert result.status == Status.FAIL
    cex = result.data["counterexample"]
    assert cex["activation"] == "sigmoid" and cex["x"] == "1/20"
    lo, hi = cex["chord_minus_phi"]
    assert 0 < lo <= hi  # chord strictly above phi: "chord below phi" is false


def test_chord_bound_too_few_pieces_is_unknown() -> None:
    result = check_chord_bound(quick=True, max_pieces=2)
    assert result.status == Status.UNKNOWN


def test_chord_matches_floating_point() -> None:
    # independent spot check of the certified side with plain floats at interior points
    p = np.log(0.1 / 0.9)
    u = np.linspace(0.01, 0.99, 99)
    chord = 0.5 + (0.1 - 0.5) * u
    assert np.all(chord - 1 / (1 + np.exp(-u * p)) > 0)


# ----------------------------------------------------------------------------- row span, chord


def test_row_span_without_phi_prime_fails() -> None:
    result = check_row_span(omit_phi_prime=True)
    assert result.status == Status.FAIL
    cex = result.data["counterexample"]
    assert cex["entry"] == [1, 1] and cex["difference"] != "0"


def test_row_span_other_sizes() -> None:
    assert check_row_span(d=2, n=1).status == Status.PASS


def test_linearization_with_papers_sign_fails() -> None:
    result = check_linearization(paper_sign=True)
    assert result.status == Status.FAIL
    update, chord = result.data["parts"]
    assert update["data"]["counterexample"]["residual"] == "-2*gamma*p*x_j"
    assert chord["data"]["counterexample"]["residual"] == "2*q"  # q = phi(0) - x_1
    assert result.data["counterexample"]["identity"] == "thm2.chord-update"


# ----------------------------------------------------------------------------- conclusion


def test_conclusion_from_nonzero_start_fails() -> None:
    result = check_conclusion(quick=True, init_scale=0.1)
    assert result.status == Status.FAIL
    cex = result.data["counterexample"]
    assert cex["converged"] and cex["fit"] <= 1e-10  # it still fits the data ...
    assert cex["dist_min_norm"] > 1e-3  # ... but not with the minimum norm solution
    assert cex["rank_A"] > cex["dim_span"]


def test_conclusion_budget_exhausted_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    import proofs.thm2_dynamics as thm2

    real = thm2.gradient_descent

    def short(x, **kw):
        kw["max_steps"] = 3
        return real(x, **kw)

    monkeypatch.setattr(thm2, "gradient_descent", short)
    result = thm2.check_conclusion(quick=True)
    assert result.status == Status.UNKNOWN


def test_gradient_descent_rejects_unknown_schedule() -> None:
    with pytest.raises(ValueError, match="schedule"):
        gradient_descent(np.full((3, 1), 0.25), schedule="adam", gamma=0.1)


@settings(max_examples=10, deadline=None)
@given(st.integers(min_value=0, max_value=10_000))
def test_adaptive_step_reaches_min_norm(seed: int) -> None:
    """Random Assumption-1 data (d = 4, n = 2): adaptive-step GD from 0 gives phi^-1(X) X^+."""
    x = np.random.default_rng(seed).uniform(0.2, 0.45, size=(4, 2))
    lam1 = np.linalg.eigvalsh(x @ x.T)[-1]
    a, steps = gradient_descent(x, schedule="adaptive", gamma=1 / lam1, max_steps=200_000)
    assert steps < 200_000
    target = np.log(x / (1 - x)) @ np.linalg.pinv(x)
    assert np.abs(a - target).max() < 1e-6


# ----------------------------------------------------------------------------- corollary


def test_corollary_collinear_preimages_fail_the_papers_rank_claim() -> None:
    restated = check_corollary(instances=("d3-n2-collinear-preimages",))
    assert restated.status == Status.PASS  # the rank claim does not apply there
    result = check_corollary(instances=("d3-n2-collinear-preimages",), rank_condition=False)
    assert result.status == Status.FAIL
    cex = result.data["counterexample"]
    assert cex["rank_A_inf"] == 1 and cex["dim_span"] == 2
    assert cex["failed"] == ["rank A(inf) = dim-span"]


def test_corollary_rank_with_papers_wording_fails() -> None:
    result = check_corollary_rank(quick=True, claim="dim-span")
    assert result.status == Status.FAIL
    assert result.data["counterexample"]["instance"] == "d3-n2-collinear-preimages"


def test_corollary_rank_records_the_gap() -> None:
    result = check_corollary_rank(quick=True)
    assert result.data["gap_instance"]["rank_A_inf"] < result.data["gap_instance"]["dim_span"]


def test_corollary_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown instance"):
        check_corollary(instances=("nope",))
    with pytest.raises(ValueError, match="claim"):
        check_corollary_rank(claim="nope")


@pytest.mark.parametrize("name", [n for n, _ in COROLLARY_INSTANCES])
def test_corollary_facts_numerically(name: str) -> None:
    """The exact ranks agree with a float computation of X = sigmoid(V) and V X^+."""
    v = np.array(dict(COROLLARY_INSTANCES)[name], dtype=float).T
    x = 1 / (1 + np.exp(-v))
    a = v @ np.linalg.pinv(x)
    facts = corollary_facts(dict(COROLLARY_INSTANCES)[name])
    assert facts["eigenvectors"] and facts["phi_span"]
    assert np.allclose(1 / (1 + np.exp(-(a @ x))), x)
    assert facts["dim_span"] == np.linalg.matrix_rank(x)
    assert facts["rank_A_inf"] == np.linalg.matrix_rank(a, tol=1e-9)
