"""Tests for proofs.thm2_*: Theorem 2, its Corollary and Appendix B (nonlinear autoencoder)."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import sympy as sp
from _claims import assert_default_claim_passes
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs import Evidence, Status, _registry
from proofs.thm2_activation import (
    _cases,
    _certify_pieces,
    _ChordGap,
    _dphi_iv,
    _phi_iv,
    certify_chord,
    check_assumption_c,
    check_chord_bound,
)
from proofs.thm2_corollary import (
    COROLLARY_INSTANCES,
    check_corollary,
    check_corollary_rank,
    corollary_facts,
)
from proofs.thm2_dynamics import (
    CONCLUSION_INSTANCES,
    _conclusion_run,
    _training_set,
    check_conclusion,
    gradient_descent,
)
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


def _phi_derivatives(name: str, v: sp.Symbol) -> tuple[sp.Expr, sp.Expr]:
    """phi' and phi'' at z = phi^-1(v), differentiated by sympy from phi itself."""
    z = sp.Symbol("z")
    if name == "sigmoid":
        phi, inverse = 1 / (1 + sp.exp(-z)), sp.log(v / (1 - v))
    else:
        phi, inverse = sp.tanh(z), sp.atanh(v)
    d1, d2 = (sp.simplify(sp.diff(phi, z, k).subs(z, inverse)) for k in (1, 2))
    return d1, d2


def test_activation_table_holds_the_derivatives_of_phi() -> None:
    """Each row of Assumption 1(c)'s table: phi' and phi'' of that activation as polynomials
    of v = phi(z), v's range on that side of phi(0), and the sign of phi'' there."""
    v = sp.Symbol("v")
    ranges = {("sigmoid", 1): (0, Fraction(1, 2)), ("sigmoid", -1): (Fraction(1, 2), 1),
              ("tanh", 1): (-1, 0), ("tanh", -1): (0, 1)}  # fmt: skip
    rows = _cases(v)
    assert [(r[0], r[6]) for r in rows] == list(ranges)
    for name, _side, _case, (lo, hi), d1, d2, sign in rows:
        assert (lo, hi) == ranges[name, sign]
        true_d1, true_d2 = _phi_derivatives(name, v)
        assert sp.simplify(d1 - true_d1) == 0 and sp.simplify(d2 - true_d2) == 0
        assert sign == sp.sign(true_d2.subs(v, sp.Rational(lo + hi) / 2))


def test_assumption_c_parts_state_each_case() -> None:
    details = [p["detail"] for p in check_assumption_c().data["parts"]]
    assert details[:4] == [
        "sigmoid' = s (1 - s) with s = 1 / (1 + exp(-x)) (difference simplifies to 0)",
        "sigmoid'' = s (1 - s) (1 - 2 s) (difference simplifies to 0)",
        "tanh' = 1 - t^2 with t = tanh(x) (difference simplifies to 0)",
        "tanh'' = -2 t (1 - t^2) (difference simplifies to 0)",
    ]
    convex = "(3) convex, increasing on [phi^-1(x'), 0]"
    concave = "(2) concave, increasing on [0, phi^-1(x')]"
    cases = [("sigmoid, x < 1/2", ">", "(0, 1/2)", convex),
             ("sigmoid, x > 1/2", "<", "(1/2, 1)", concave),
             ("tanh, x < 0", ">", "(-1, 0)", convex),
             ("tanh, x > 0", "<", "(0, 1)", concave)]  # fmt: skip
    for detail, (who, cmp, rng, case) in zip(details[4:8], cases, strict=True):
        assert detail.startswith("proved for all values: ")
        assert f"{who}: phi' > 0 and phi'' {cmp} 0 for phi(z) in {rng} -> case {case}" in detail
    polys = {"sigmoid": ("-v**2 + v", "2*v**3 - 3*v**2 + v"), "tanh": ("1 - v**2", "2*v**3 - 2*v")}
    want = [f"{who}: phi^({k + 1}) = {polys[who.split(',')[0]][k]} in v = phi(z) "
            "(difference simplifies to 0)" for who, *_ in cases for k in (0, 1)]  # fmt: skip
    assert details[8:] == want
    assert [p["status"] for p in check_assumption_c().data["parts"]] == ["pass"] * len(details)


def test_assumption_c_counterexamples_report_phi_derivatives() -> None:
    """With the opposite convexity every case fails at a value v inside its range, and the
    counterexample's phi', phi'' are the activation's derivatives there, exactly."""
    parts = check_assumption_c(flip_convexity=True).data["parts"][4:8]
    sides = [("sigmoid", "x < 1/2"), ("sigmoid", "x > 1/2"), ("tanh", "x < 0"), ("tanh", "x > 0")]
    v = sp.Symbol("v")
    for part, (name, side) in zip(parts, sides, strict=True):
        cex = part["data"]["counterexample"]
        assert part["status"] == "fail" and (cex["activation"], cex["side"]) == (name, side)
        at = {v: sp.Rational(cex["v"])}
        d1, d2 = (Fraction(str(d.subs(at))) for d in _phi_derivatives(name, v))
        assert (Fraction(cex["phi_prime"]), Fraction(cex["phi_second"])) == (d1, d2)


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
    convex = x < (Fraction(1, 2) if name == "sigmoid" else 0)
    assert (gap[0] > 0) if convex else (gap[1] < 0)
    # the reported values enclose the float ones: p = phi^-1(x), z = p/2, phi(z), chord - phi
    phi, p = _FLOAT_PHI[name], _FLOAT_INVERSE[name](float(x))
    phi0 = phi(0.0)
    case = "convex, phi below the chord" if convex else "concave, phi above the chord"
    assert info["case"] == case
    for key, want in (("preimage", p), ("z", p / 2), ("phi_z", phi(p / 2)),
                      ("chord_minus_phi", phi0 + (float(x) - phi0) / 2 - phi(p / 2))):  # fmt: skip
        lo, hi = info[key]
        assert lo - 1e-12 <= want <= hi + 1e-12 and hi - lo < 1e-9, key


_FLOAT_PHI = {"sigmoid": lambda z: 1 / (1 + math.exp(-z)), "tanh": math.tanh}
_FLOAT_INVERSE = {"sigmoid": lambda x: math.log(x / (1 - x)), "tanh": math.atanh}
_FLOAT_DPHI = {"sigmoid": lambda z: math.exp(-z) / (1 + math.exp(-z)) ** 2,
               "tanh": lambda z: 1 - math.tanh(z) ** 2}  # fmt: skip


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_interval_phi_and_gap_enclose_the_floats(name: str) -> None:
    from mpmath import iv

    for z in (-2.5, -0.4, 0.3, 1.9):
        for f, want in ((_phi_iv, _FLOAT_PHI[name](z)), (_dphi_iv, _FLOAT_DPHI[name](z))):
            got = f(name, iv.mpf(z))
            assert float(got.a) - 1e-12 <= want <= float(got.b) + 1e-12, (f.__name__, z)
    # g(u) = sigma (chord(u) - phi(u p)) and g' for x = 1/5 (convex: sigma = +1)
    phi, x = _FLOAT_PHI[name], 0.2 if name == "sigmoid" else -0.6
    p = _FLOAT_INVERSE[name](x)
    gap = _ChordGap(name, iv.mpf(p), iv.mpf(x) - phi(0.0), 1)
    for u in (0.25, 0.7):
        g = phi(0.0) + (x - phi(0.0)) * u - phi(u * p)
        dg = (x - phi(0.0)) - p * _FLOAT_DPHI[name](u * p)
        for got, want in ((gap.g(iv.mpf(u)), g), (gap.dg(iv.mpf(u)), dg)):
            assert float(got.a) - 1e-12 <= want <= float(got.b) + 1e-12


def test_chord_bound_pieces_per_target() -> None:
    """The quick run's certificate: pieces per target, alike for x and its mirror image."""
    result = check_chord_bound(quick=True)
    targets = {"sigmoid": ["1/20", "1/4", "9/20", "11/20", "3/4", "19/20"],
               "tanh": ["-9/10", "-1/2", "-1/10", "1/10", "1/2", "9/10"]}  # fmt: skip
    assert result.data["targets"] == targets
    want = [
        f"{name}, x = {x}: chord {'above' if Fraction(x) < phi0 else 'below'} phi, {n} pieces"
        for name, phi0 in (("sigmoid", Fraction(1, 2)), ("tanh", 0))
        for x, n in zip(targets[name], (7, 11, 27, 27, 11, 7), strict=True)
    ]
    assert [p["detail"] for p in result.data["parts"]] == want
    assert "for 12 targets (180 pieces)" in result.detail
    assert certify_chord("sigmoid", Fraction(1, 20), max_pieces=7)[0] == Status.PASS
    assert certify_chord("sigmoid", Fraction(1, 20), max_pieces=6)[0] == Status.UNKNOWN


def test_chord_at_phi0_is_neither_certified_nor_refuted() -> None:
    """At x = phi(0) the interval between 0 and phi^-1(x) is a point: no point to fail at,
    nothing to certify. The answer is unknown, after the whole default budget (2000 pieces)."""
    status, info = certify_chord("sigmoid", Fraction(1, 2))
    assert (status, info["pieces"], info["preimage"]) == (Status.UNKNOWN, 2001, [0.0, 0.0])


class _Gap:
    """A gap g on [0, 1] with g(0) = g(1) = 0, given by interval functions g and g'."""

    def __init__(self, g: Callable[[Any], Any], dg: Callable[[Any], Any]) -> None:
        self.g, self.dg = g, dg


def test_certify_pieces_needs_strict_signs_everywhere() -> None:
    # g = u(1 - u): g' > 0 near 0, < 0 near 1, the mean value form > 0 inside
    bump = _Gap(lambda u: u * (1 - u), lambda u: 1 - 2 * u)
    assert _certify_pieces(bump, 200) == (Status.PASS, 7)
    # phi on the chord (g = 0): no piece is certified, whatever the budget
    flat = _Gap(lambda u: 0 * u, lambda u: 0 * u)
    assert _certify_pieces(flat, 50) == (Status.UNKNOWN, 51)
    # g = u^2 (1 - u) > 0 inside, but g'(0) = 0: the pieces at u = 0 are never certified,
    # though those inside and at u = 1 are
    cube = _Gap(lambda u: u * u * (1 - u), lambda u: 2 * u - 3 * u * u)
    assert _certify_pieces(cube, 200) == (Status.UNKNOWN, 201)


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
    assert [r["steps"] for r in result.data["runs"]] == [3, 3, 3]
    assert all(p["detail"].endswith("did not converge") for p in result.data["parts"])


def test_training_sets_satisfy_assumption_1() -> None:
    """Entries in (0.05, 0.45): inside sigmoid's range, all below sigmoid(0) = 1/2."""
    for _name, d, n, seed in CONCLUSION_INSTANCES:
        x = _training_set(d, n, seed)
        assert x.shape == (d, n) and 0.05 < x.min() and x.max() < 0.45


def test_constant_step_is_a_gradient_step_on_loss_2() -> None:
    rng = np.random.default_rng(3)
    x, a0 = rng.uniform(0.1, 0.4, size=(4, 2)), 0.3 * rng.standard_normal((4, 4))

    def loss(a: np.ndarray) -> float:
        return 0.5 * float(((x - 1 / (1 + np.exp(-a @ x))) ** 2).sum())

    grad = np.zeros((4, 4))
    for k in np.ndindex(4, 4):
        e = np.zeros((4, 4))
        e[k] = 1e-6
        grad[k] = (loss(a0 + e) - loss(a0 - e)) / 2e-6
    a1, steps = gradient_descent(x, schedule="constant", gamma=0.5, a0=a0, max_steps=1)
    assert steps == 1 and np.abs(a1 - (a0 - 0.5 * grad)).max() < 1e-8


def test_gradient_descent_stops_strictly_below_tol() -> None:
    x = np.full((2, 1), 0.25)  # at A = 0: |phi(A x) - x| = 1/4 exactly
    assert gradient_descent(x, schedule="constant", gamma=1.0, tol=0.25, max_steps=5)[1] >= 1
    assert gradient_descent(x, schedule="constant", gamma=1.0, tol=0.2500001)[1] == 0
    a, steps = gradient_descent(x, schedule="adaptive", gamma=0.0)  # never moves: the budget
    assert steps == 100_000 and not a.any()
    start = [[0, 0], [0, 0]]  # an integer A(0) that already fits: A comes back as floats
    a, steps = gradient_descent(x, schedule="constant", gamma=1.0, a0=start, tol=1.0)
    assert steps == 0 and a.dtype == np.float64 and start == [[0, 0], [0, 0]]


def test_conclusion_run_readings() -> None:
    x = _training_set(4, 2, 1)
    zero = _conclusion_run(x, np.zeros((4, 4)), 7, 7, 1)
    assert (zero["steps"], zero["converged"], zero["rank_A"], zero["dim_span"], zero["n"]) == (
        7, False, 0, 2, 2)  # fmt: skip
    u = np.arange(1.0, 5.0)
    for scale in (1e-6, 1.0, 1e6):  # rank counted relative to the largest singular value
        assert _conclusion_run(x, scale * np.outer(u, u[::-1]), 3, 10, 1)["rank_A"] == 1
    a = np.random.default_rng(0).standard_normal((4, 4))
    # A y off span(phi^-1(X)) is relative: the same for every multiple of A
    res = [_conclusion_run(x, s * a, 1, 2, 1)["phi_span_residual"] for s in (1e-3, 1.0, 30.0)]
    assert 0.01 < res[1] < 2 and res == pytest.approx([res[1]] * 3, rel=1e-9)
    assert _conclusion_run(x, a, 1, 2, 1) == _conclusion_run(x, a, 1, 2, 1)  # reproducible


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
    assert cex["preimages"] == ((-1, -2, -3), (-2, -4, -6))


def test_corollary_parts_report_the_ranks() -> None:
    parts = check_corollary(instances=("d3-n1", "d3-n2-collinear-preimages")).data["parts"]
    assert [p["detail"] for p in parts] == [
        "d3-n1: rank A(inf) = 1, dim span(X) = 1, rank phi^-1(X) = 1",
        "d3-n2-collinear-preimages: rank A(inf) = 1, dim span(X) = 2, rank phi^-1(X) = 1 "
        "(rank condition fails: the rank claim does not apply)",
    ]


@pytest.mark.parametrize(
    "facts", [("eigenvectors",), ("row_span",), ("phi_span",), ("row_span", "phi_span")]
)
def test_corollary_names_each_fact_that_fails(
    monkeypatch: pytest.MonkeyPatch, facts: tuple[str, ...]
) -> None:
    import proofs.thm2_corollary as cor

    names = {"eigenvectors": "phi(A x(i)) = x(i)", "row_span": "rows of A(inf) in span(X)^T",
             "phi_span": "A y in span(phi^-1(X))"}  # fmt: skip
    real = cor.corollary_facts
    monkeypatch.setattr(
        cor, "corollary_facts", lambda pre, k=1: {**real(pre, k), **dict.fromkeys(facts, False)}
    )
    result = cor.check_corollary(instances=("d3-n1",))
    assert result.status == Status.FAIL
    assert result.data["counterexample"]["failed"] == [names[f] for f in facts]
    assert result.data["parts"][0]["detail"] == (
        "d3-n1: rank A(inf) = 1, dim span(X) = 1, rank phi^-1(X) = 1; fails "
        + ", ".join(names[f] for f in facts)
    )


def test_corollary_outside_its_setting_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    """Examples on both sides of 1/2 in a coordinate (not Assumption 1(b)), or dependent
    examples: the Corollary is not claimed there (unknown), and the other instances still run."""
    import proofs.thm2_corollary as cor

    extra = (("mixed", ((-1, 2, -3), (1, 2, 3))), ("repeated", ((-1, -2, -3), (-1, -2, -3))))
    monkeypatch.setattr(cor, "COROLLARY_INSTANCES", cor.COROLLARY_INSTANCES + extra)
    for name in ("mixed", "repeated"):
        result = cor.check_corollary(instances=(name, "d3-n1"))
        assert result.status == Status.UNKNOWN and result.evidence == Evidence.EXACT
        first, second = result.data["parts"]
        assert first["detail"] == f"{name}: outside the checked setting"
        assert (first["status"], first["evidence"]) == ("unknown", "exact")
        assert second["status"] == "pass"


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
