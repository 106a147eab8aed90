"""Tests for proofs.thm3: Theorem 3 (single-filter convolution learns a rank-s² operator)."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs import Evidence, Status, _registry
from proofs.numeric_checks import check_min_norm_filter
from proofs.thm3 import (
    check_exceptional_image,
    check_rank,
    generic_image,
    learned_filter,
    operator,
    patch_matrix,
)


def test_rank_passes_on_the_paper_claim() -> None:
    outcome = _registry.run(_registry.get("thm3.rank"), quick=True)
    assert outcome.result.status == Status.PASS, outcome.result.detail
    assert outcome.result.evidence == Evidence.EXACT
    cases = outcome.result.data["cases"]
    assert {(c["size"], c["kernel"]) for c in cases} >= {(2, 5)}  # the paper's example
    assert all(c["rank"] == c["size"] ** 2 for c in cases)


def test_rank_fails_on_the_memorization_claim() -> None:
    result = check_rank(quick=True, cases=((2, 5),), claimed_rank=lambda s: 1)
    assert result.status == Status.FAIL
    cex = result.data["counterexample"]
    assert (cex["size"], cex["kernel"], cex["rank"], cex["claimed_rank"]) == (2, 5, 4, 1)
    assert cex["failed"] == ["rank_ok"]


def test_rank_reports_the_zero_image_as_a_counterexample() -> None:
    result = check_rank(cases=((2, 3),), images={(2, 3): [[0, 0], [0, 0]]})
    assert result.status == Status.FAIL
    assert result.data["counterexample"]["rank"] == 0


def test_paper_example_k5_s2_min_norm_filter() -> None:
    img = [[1, 2], [3, 4]]
    w = learned_filter(img, 5)
    p = patch_matrix(img, 5)
    assert len(w) == 25 and len(p) == 4  # 25 parameters, 4 dimensions
    x = [Fraction(v) for row in img for v in row]
    assert [sum(a * b for a, b in zip(r, w, strict=True)) for r in p] == x
    # w is P^T y for some y: agrees with numpy's pseudo-inverse
    pf = np.array([[float(v) for v in r] for r in p])
    assert np.allclose([float(v) for v in w], np.linalg.pinv(pf) @ np.array(x, dtype=float))
    # the identity filter also solves P w = x but has larger norm
    assert sum(v * v for v in w) < 1


@pytest.mark.parametrize(("s", "k"), [(3, 3), (4, 3)], ids=["s3-k3", "s4-k3"])
def test_few_parameters_learn_the_identity(s: int, k: int) -> None:
    result = check_rank(cases=((s, k),), seed=3)
    assert result.status == Status.PASS
    assert result.data["cases"][0]["identity_filter"] is True


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.integers(-5, 5), min_size=4, max_size=4).filter(any),
    st.sampled_from([3, 5]),
)
def test_learned_operator_reproduces_its_image(flat: list[int], k: int) -> None:
    img = [flat[:2], flat[2:]]
    a = operator(learned_filter(img, k), 2, k)
    x = [Fraction(v) for v in flat]
    assert [sum(p * q for p, q in zip(row, x, strict=True)) for row in a] == x


def test_exceptional_image_found_for_s3_k5() -> None:
    result = check_exceptional_image()
    assert result.status == Status.PASS, result.detail
    assert Fraction(result.data["det_positive"]) > 0 > Fraction(result.data["det_negative"])
    lo, hi = (Fraction(t) for t in result.data["t_interval"])
    assert 0 < lo < hi < 1


@pytest.mark.parametrize(("s", "k"), [(2, 3), (4, 3)], ids=["s2-k3-no-sign-change", "s4-k3"])
def test_exceptional_image_fails_where_no_certificate(s: int, k: int) -> None:
    result = check_exceptional_image(size=s, kernel=k)
    assert result.status == Status.FAIL


def test_torch_converges_to_min_norm_filter() -> None:
    pytest.importorskip("torch")
    result = check_min_norm_filter()
    assert result.status == Status.PASS, result.detail
    assert all(c["max_abs_diff_to_claimed_limit"] < 1e-8 for c in result.data["cases"])
    assert all(c["rank"] == c["size"] ** 2 for c in result.data["cases"])


def test_torch_fails_when_claiming_the_identity_filter() -> None:
    pytest.importorskip("torch")
    result = check_min_norm_filter(limit="identity")
    assert result.status == Status.FAIL
    assert result.data["counterexample"]["max_abs_diff_to_claimed_limit"] > 0.1


@pytest.mark.parametrize("k", [3, 5], ids=["k3", "k5"])
def test_a_one_pixel_image_passes(k: int) -> None:
    """s = 1: P is one row with x at the centre tap, so one step of gradient descent with
    eta = 1/|P|_F^2 lands exactly on w* = the identity filter; an error that has reached 0
    stays 0 and is not a failure to move closer."""
    result = check_rank(cases=((1, k),), images={(1, k): [[5]]})
    assert result.status == Status.PASS, result.detail
    case = result.data["cases"][0]
    assert case["rank"] == 1 and case["identity_filter"] is True
    assert case["gd_step"] == "1/25"
    assert case["gd_error_sq"] == [1.0, 0.0, 0.0, 0.0, 0.0]


def test_rank_reports_the_regression_it_solved() -> None:
    # 2 x 2 image, k = 3, padding 1: every patch holds the whole image, so |P|_F^2 = 4 * 30
    img = [[1, 2], [3, 4]]
    result = check_rank(cases=((2, 3),), images={(2, 3): img})
    case = result.data["cases"][0]
    assert case["parameters"] == 9
    assert case["gd_step"] == "1/120"
    w = learned_filter(img, 3)
    assert [Fraction(v) for v in case["min_norm_filter"]] == w
    assert case["gd_error_sq"][0] == float(sum(v * v for v in w))  # |0 - w*|^2
    errs = case["gd_error_sq"]
    assert len(errs) == 5 and all(b < a for a, b in pairwise(errs))
    paper = check_rank(cases=((2, 5),)).data["cases"][0]  # 25 parameters, 4 dimensions
    assert (paper["parameters"], paper["rank"]) == (25, 4)


def test_zero_image_fails_only_its_rank() -> None:
    result = check_rank(cases=((2, 3),), images={(2, 3): [[0, 0], [0, 0]]})
    assert result.data["counterexample"]["failed"] == ["rank_ok"]
    case = result.data["cases"][0]
    assert (case["gd_step"], case["gd_error_sq"]) == ("1", [0.0] * 5)  # P = 0: step 1


def test_generic_images_use_every_digit_from_minus_9_to_9() -> None:
    img = generic_image(40, np.random.default_rng(0))
    assert {v for row in img for v in row} == set(range(-9, 10))


def _with_iterates(monkeypatch: pytest.MonkeyPatch, make: Callable[[list], list]) -> list[str]:
    """What thm3.rank fails on (2, 5) when gradient descent gives ``make(w*)``'s iterates."""
    import proofs.thm3

    img = [[1, 2], [3, 4]]
    w = learned_filter(img, 5)
    monkeypatch.setattr(
        proofs.thm3, "_gd_iterates", lambda p, x, steps: (make(w), Fraction(1, 120))
    )
    result = check_rank(cases=((2, 5),), images={(2, 5): img})
    assert result.status == Status.FAIL
    return result.data["counterexample"]["failed"]


def test_gradient_descent_that_stalls_or_strays_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    zero = [Fraction(0)] * 25
    half = lambda w: [v / 2 for v in w]  # noqa: E731
    # stalls half-way to w*
    assert _with_iterates(monkeypatch, lambda w: [zero, half(w), half(w), half(w)]) == [
        "gd_error_decreasing"
    ]
    # reaches w*, then moves away again
    assert _with_iterates(monkeypatch, lambda w: [zero, w, [2 * v for v in w]]) == [
        "gd_error_decreasing"
    ]
    # leaves the row space of P at its first step (the corner tap sees only padding)
    corner = [Fraction(1)] + [Fraction(0)] * 24
    assert _with_iterates(monkeypatch, lambda w: [zero, corner, w]) == [
        "gd_iterates_in_row_space",
        "gd_error_decreasing",
    ]


def test_learned_filter_refuses_an_unsolvable_system(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guard: if the exact solve found no y with P P^T y = vec(x) (impossible: the identity
    filter solves P w = vec(x)), no filter is returned."""
    import proofs.thm3

    monkeypatch.setattr(proofs.thm3, "solve", lambda a, b: None)
    with pytest.raises(ArithmeticError, match=r"^P w = vec\(x\) has no solution$"):
        learned_filter([[1, 2], [3, 4]], 3)
