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


# ----------------------------------------------------------------------------- what each step says

#: the parts of thm1.closed-form, in order, as a passing run reports them
CLOSED_FORM_PARTS = (
    "dL/dA = (A - I) S for loss (1): for symbolic sizes d, n by sympy's matrix calculus on "
    "A (d x d), X (d x n) with S = X X^T, and entry by entry at d=3, n=2",
    "base case: I - (I - gamma S)^0 = 0",
    "(I - gamma S)^t (I - gamma S) = ((-gamma)*S + I)**(t + 1)",
    "inductive step I - M^t M = A(t) + gamma (I - A(t)) S (difference expands to 0)",
    "(I - gamma S)^t commutes with S: M S - S M expands to 0, and (PM)S - S(PM) = "
    "(PS - SP)M + P(MS - SM) (difference 0)",
    "d3-n1: A(t) = I - (I - gamma S)^(t+0) for t <= 3",
)


def test_closed_form_says_what_each_step_proves() -> None:
    result = check_closed_form(quick=True, instances=("d3-n1",))
    assert result.status == Status.PASS
    assert tuple(p["detail"] for p in result.data["parts"]) == CLOSED_FORM_PARTS
    assert all(p["status"] == "pass" for p in result.data["parts"])


def test_closed_form_counterexample_is_the_first_iterate_in_full() -> None:
    # x = (1, 2, 2): S = x x^T, trace S = 9, the safe step gamma = 1/(trace S + 1) = 1/10 is
    # below 1/lambda_1 = 1/9; with the exponent t + 1, A(0) = 0 is compared with gamma S
    result = check_closed_form(quick=True, exponent_offset=1, instances=("d3-n1",))
    assert result.status == Status.FAIL
    assert result.data["counterexample"] == {
        "instance": "d3-n1",
        "gamma": "1/10",
        "t": 0,
        "gradient_descent": [["0"] * 3] * 3,
        "closed_form": [["1/10", "1/5", "1/5"], ["1/5", "2/5", "2/5"], ["1/5", "2/5", "2/5"]],
    }
    parts = result.data["parts"]
    assert parts[1]["detail"] == "base case: I - (I - gamma S)^1 = gamma*S, not A(0) = 0"
    assert parts[-1]["detail"] == (
        "d3-n1: gradient descent and I - (I - gamma S)^(t+1) differ at t = 0 (gamma = 1/10)"
    )
    assert [p["status"] for p in parts] == ["pass", "fail", "pass", "pass", "pass", "fail"]


_G, _B, _P, _I, _C = CLOSED_FORM_PARTS[:5]


@pytest.mark.parametrize(
    ("name", "step", "detail"),
    [
        pytest.param("thm1.gradient", 0, f"{_G} — does not simplify to 0", id="gradient"),
        pytest.param("thm1.base-case", 1, f"{_B}, not A(0) = 0", id="base-case"),
        pytest.param("thm1.power-rule", 2, _P, id="power-rule"),
        pytest.param("thm1.inductive-step", 3, _I.replace("to 0)", "to r)"), id="inductive-step"),
        pytest.param("thm1.m-commutes-with-s", 4, _C.replace("to 0,", "to r,"), id="m-commutes"),
        pytest.param("thm1.commuting-lemma", 4, _C.replace("(difference 0)", "(difference r)"),
                     id="commuting-lemma"),
    ],
)  # fmt: skip
def test_closed_form_fails_when_one_identity_leaves_a_residual(
    monkeypatch: pytest.MonkeyPatch, name: str, step: int, detail: str
) -> None:
    """Each sympy identity decides its own step: a residual in any one fails the check
    there, and the step's detail shows the residual."""
    import sympy

    from proofs import _identities

    real = _identities.evaluate

    def evaluate(which: str, **params: int) -> tuple[object, object, object]:
        lhs, rhs, rest = real(which, **params)
        return (lhs, rhs, sympy.Symbol("r")) if which == name else (lhs, rhs, rest)

    monkeypatch.setattr(_identities, "evaluate", evaluate)
    result = check_closed_form(quick=True, instances=("d3-n1",))
    assert result.status == Status.FAIL
    parts = result.data["parts"]
    assert [i for i, p in enumerate(parts) if p["status"] != "pass"] == [step]
    assert parts[step]["detail"] == detail
    assert parts[step]["detail"] in result.detail


# ----------------------------------------------------------------------------- the witness


def test_step_size_says_what_each_step_proves() -> None:
    result = check_step_size()
    w = result.data["witness_at_2_over_lambda1"]  # whichever model z3 gives
    assert [p["detail"].split(" (confirmed")[0] for p in result.data["parts"]] == [
        "proved for all values: 0 < lambda <= lambda_1, 0 < gamma < 1/lambda_1 "
        "=> 0 <= 1 - gamma lambda < 1",
        "proved for all values: for lambda > 0: |1 - gamma lambda| < 1 <=> 0 < gamma < 2/lambda",
        "proved for all values: gamma = 2/lambda_1 gives 1 - gamma lambda_1 = -1",
        f"witness lambda_1 = {w['lam1']}, gamma = {w['gamma']}: 1 - gamma lambda_1 = -1, "
        "not in (-1, 1) (re-checked with Fractions)",
    ]


def _witness_part(monkeypatch: pytest.MonkeyPatch, search: object) -> tuple[dict, dict]:
    """The witness step of thm1.step-size when z3's search answers ``search``."""
    import proofs.thm1

    monkeypatch.setattr(proofs.thm1, "find_model", lambda *c, timeout_ms: search)
    result = check_step_size()
    return result.data["parts"][-1], result.data.get("witness_at_2_over_lambda1", {})


def test_step_size_witness_is_recomputed_from_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    from proofs._z3 import Search

    part, witness = _witness_part(monkeypatch, Search(True, {"lam1": "2", "gamma": "1/1"}))
    assert part["status"] == "pass"
    assert witness == {"lam1": "2", "gamma": "1", "factor": "-1"}
    assert part["detail"].startswith("witness lambda_1 = 2, gamma = 1: 1 - gamma lambda_1 = -1")


@pytest.mark.parametrize(
    "model",
    [{"lam1": "2", "gamma": "2"}, {"lam1": "-1", "gamma": "-2"}, {"lam1": "0", "gamma": "7"}],
    ids=["gamma-lambda1-is-4", "lambda1-negative", "lambda1-zero"],
)
def test_step_size_refuses_a_model_off_gamma_two_over_lambda1(
    monkeypatch: pytest.MonkeyPatch, model: dict[str, str]
) -> None:
    from proofs._z3 import Search

    part, witness = _witness_part(monkeypatch, Search(True, model))
    assert part["status"] == "unknown"
    assert part["detail"] == "no rational witness at gamma = 2/lambda_1 (not rational)"
    assert witness == {}


@pytest.mark.parametrize(
    ("search", "why"),
    [((True, {"lam1": "1.41?", "gamma": "2"}), "not rational"), ((False, None), "none exists"),
     ((None, None), "undecided")],
    ids=["irrational", "unsat", "undecided"],
)  # fmt: skip
def test_step_size_says_why_there_is_no_witness(
    monkeypatch: pytest.MonkeyPatch, search: tuple, why: str
) -> None:
    from proofs._z3 import Search

    part, witness = _witness_part(monkeypatch, Search(*search))
    assert (part["status"], part["detail"]) == (
        "unknown",
        f"no rational witness at gamma = 2/lambda_1 ({why})",
    )
    assert witness == {}


@pytest.mark.parametrize(
    ("lam1", "witness"),
    [("1/2", {"lam1": "1/2", "gamma": "4", "factor": "-1"}),
     ("3", {"lam1": "3", "gamma": "2/3", "factor": "-1"}), ("0", None), ("-1", None)],
    ids=["lambda1-1/2", "lambda1-3", "lambda1-0", "lambda1-negative"],
)  # fmt: skip
def test_step_size_witness_exists_for_every_positive_lambda1(
    monkeypatch: pytest.MonkeyPatch, lam1: str, witness: dict[str, str] | None
) -> None:
    """The search is for gamma = 2/lambda_1 with lambda_1 > 0: pinning lambda_1, z3 finds the
    witness for every positive value and none for lambda_1 <= 0."""
    import z3

    import proofs.thm1
    from proofs._z3 import find_model

    def pinned(*constraints: object, timeout_ms: int) -> object:
        value = Fraction(lam1)
        pin = z3.Real("lam1") == z3.Q(value.numerator, value.denominator)
        return find_model(*constraints, pin, timeout_ms=timeout_ms)

    monkeypatch.setattr(proofs.thm1, "find_model", pinned)
    result = check_step_size()
    part = result.data["parts"][-1]
    if witness is None:
        assert part["detail"] == "no rational witness at gamma = 2/lambda_1 (none exists)"
        assert "witness_at_2_over_lambda1" not in result.data
    else:
        assert part["status"] == "pass"
        assert result.data["witness_at_2_over_lambda1"] == witness
