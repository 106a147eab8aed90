"""Each symconv-backed check passes on the paper's claim and fails on a wrong variant."""

from __future__ import annotations

from math import ceil

import numpy as np
import pytest

from proofs import Evidence, Result, Status
from proofs.audit import audit_tables, check_heuristic
from proofs.corollary_depth2 import check_depth2
from proofs.kernel_depth import check_depth_formula
from proofs.premise import check_single_layer
from proofs.section4 import check_downsampling_depth
from proofs.thm4 import check_all_sizes, check_depth_bound, check_filters_invariant, check_tight

SMALL = (2, 12)

CASES = [
    ("thm4.depth-bound", check_depth_bound, {"sizes": SMALL}, {"claimed": lambda s: s}),
    ("thm4.tight", check_tight, {"sizes": SMALL}, {"claimed": lambda s: s - 2}),
    ("thm4.filters-invariant", check_filters_invariant, {"sizes": (2, 5)}, {"claim": "grows"}),
    ("thm4.all-sizes", check_all_sizes, {}, {"claimed": lambda s: s - 2}),
    ("cor.depth2", check_depth2, {"max_size": 12}, {"min_size": 3}),
    ("premise.single-layer", check_single_layer, {"max_size": 12}, {"min_size": 2}),
    (
        "kernel.depth-formula",
        check_depth_formula,
        {"max_size": 20, "certify_up_to": 8},
        {"formula": lambda s, k: max(1, ceil((s - 1) / (k - 1)))},
    ),
    (
        "sec4.downsampling-depth",
        check_downsampling_depth,
        {"max_size": 16},
        {"claimed": lambda s: s - 1},
    ),
    ("tables.heuristic", check_heuristic, {"max_size": 12}, {"formula": lambda s: s**4 // 9}),
]


@pytest.mark.parametrize(("cid", "func", "small", "wrong"), CASES, ids=[c[0] for c in CASES])
def test_claim_passes(cid, func, small, wrong) -> None:
    result = func(quick=True, **small)
    assert result.status == Status.PASS, result.detail


@pytest.mark.parametrize(("cid", "func", "small", "wrong"), CASES, ids=[c[0] for c in CASES])
def test_wrong_variant_fails(cid, func, small, wrong) -> None:
    result = func(quick=True, **small, **wrong)
    assert result.status == Status.FAIL, result.detail
    assert result.data.get("counterexample"), result.data


def test_depth_bound_names_the_size_where_zeros_are_gone() -> None:
    result = check_depth_bound(sizes=(3, 6), claimed=lambda s: s)
    assert result.data["counterexample"]["size"] == 3
    # every one of the 4 sizes x 2 filter counts is a counterexample: sizes 3, 4, 5 and 6
    assert result.data["n_counterexamples"] == 4 * 2


def test_z3_timeout_is_unknown_not_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """An injected z3 ``unknown`` (a timeout) is reported as unknown, never as pass."""
    import proofs._z3 as z3h

    def timed_out(claim, **kw):
        return z3h.Verdict(Status.UNKNOWN, None, "z3: unknown (timeout)")

    monkeypatch.setattr(z3h, "prove", timed_out)
    result = check_all_sizes()
    assert result.status == Status.UNKNOWN
    assert "timeout" in result.detail
    verdict = z3h.Verdict(Status.UNKNOWN, None, "z3: unknown (timeout)")
    assert z3h.verdict_result(verdict, "x").status == Status.UNKNOWN


def test_audit_finds_the_table_typos() -> None:
    bad = {(r.table, r.row) for r in audit_tables() if not r.consistent}
    assert bad == {(1, 1), (1, 2), (1, 3), (2, 9)}
    row = next(r for r in audit_tables() if (r.table, r.row) == (1, 2))
    assert row.layers_from_params == 3


# --------------------------------------------------------------------------------------------
# thm4: what the checks prove, the records they report, and their guards


def test_all_sizes_obligations_are_the_band_lemma(monkeypatch: pytest.MonkeyPatch) -> None:
    """The three claims handed to the solvers are, for *every* reach and claimed depth, the
    band lemma's step (both directions, i, j in the image, L ≥ 0) and its threshold (s ≥ 2,
    L ≥ 1): z3 proves each equivalent to the statement written out here."""
    import z3

    import proofs.thm4 as thm4

    seen: list[tuple[object, str]] = []

    def record(claim, what, **kw):
        seen.append((claim, what))
        return Result.verdict(True, Evidence.PROOF, what)

    monkeypatch.setattr(thm4, "prove_claim", record)
    reach = z3.Function("reach", z3.IntSort(), z3.IntSort())
    claimed = z3.Function("claimed", z3.IntSort(), z3.IntSort())
    assert check_all_sizes(reach=reach, claimed=claimed).status == Status.PASS
    s, i, j, m, L = z3.Ints("s i j m L")

    def dist(a, b):
        return z3.If(a < b, b - a, a - b)

    image = z3.And(i >= 0, i <= s - 1, j >= 0, j <= s - 1, L >= 0)
    path = z3.Exists([m], z3.And(m >= 0, m <= s - 1, dist(i, m) <= L, dist(m, j) <= 1))
    near = dist(i, j) <= reach(L)
    pairs = z3.And(i >= 0, i <= s - 1, j >= 0, j <= s - 1)
    full = z3.ForAll([i, j], z3.Implies(pairs, dist(i, j) <= L))
    statements = [
        z3.Implies(z3.And(image, near), path),
        z3.Implies(z3.And(image, path), near),
        z3.Implies(z3.And(s >= 2, L >= 1), full == (L >= claimed(s))),
    ]
    assert [what for _, what in seen] == [
        "band lemma induction step, reach: |i−j| ≤ L+1 ⇒ some m joins i and j",
        "band lemma induction step, no reach beyond: a path through m ⇒ |i−j| ≤ L+1",
        "full pattern ⇔ L ≥ claimed(s)",
    ]
    for (claim, what), want in zip(seen, statements, strict=True):
        solver = z3.Solver()
        solver.set(timeout=10_000)
        solver.add(claim != want)
        assert solver.check() == z3.unsat, what


def test_all_sizes_base_case_is_the_band_of_the_radius(monkeypatch) -> None:
    import symconv
    from proofs.thm4 import _band_base_case

    result = check_all_sizes()
    assert result.data["parts"][0]["detail"] == (
        "base case: one layer's 1D pattern is the band (n < 40)"
    )
    # radius 2 is the kernel-5 stack: full exactly at depth ⌈(s − 1)/2⌉ (z3's s / 2 floors)
    assert check_all_sizes(radius=2, claimed=lambda s: s / 2).status == Status.PASS
    assert check_all_sizes(radius=2).status == Status.FAIL
    real = symconv.axis_pattern

    def wrong_on_one_pixel(layer, n):  # a band that misses the only pixel of a 1-pixel axis
        return real(layer, n) & (n > 1)

    monkeypatch.setattr(symconv, "axis_pattern", wrong_on_one_pixel)
    assert _band_base_case(1).status == Status.FAIL


def test_the_weight_count_is_checked_against_the_formula(monkeypatch) -> None:
    """A network whose weights are not k²(2F + (L − 2)F²) is not the theorem's network."""
    import symconv
    from proofs.thm4 import _structure_problem

    net = symconv.conv_stack(4, 2, filters=3)
    assert _structure_problem(net, 4, 2, 3) is None
    real = symconv.stack_params
    monkeypatch.setattr(symconv, "stack_params", lambda *a, **kw: real(*a, **kw) + 1)
    assert _structure_problem(net, 4, 2, 3) == "s=4, L=2, F=3: 54 weights, expected 55"


def test_depth_bound_reports_each_network_in_full() -> None:
    from symconv import certify, conv_stack

    result = check_depth_bound(sizes=(3, 4), filters=(2,), claimed=lambda s: s)
    assert result.status == Status.FAIL
    assert result.data["counterexample"] == {
        "size": 3,
        "filters": 2,
        "depth": 2,
        "forced_zeros": 0,
        "certificate": certify(conv_stack(3, 2, filters=2)).describe(),
        "problem": None,
    }


def test_a_network_without_its_filters_is_named_in_the_record(monkeypatch) -> None:
    import symconv

    real = symconv.conv_stack
    monkeypatch.setattr(symconv, "conv_stack", lambda s, d, filters=1, **kw: real(s, d, **kw))
    result = check_tight(sizes=(3, 3), filters=(4,))
    assert result.status == Status.FAIL
    cex = result.data["counterexample"]
    assert (cex["size"], cex["filters"], cex["depth"], cex["forced_zeros"]) == (3, 4, 2, 0)
    assert cex["problem"] == (
        "s=3, L=2, F=4: built channels [(1, 1), (1, 1)], expected [(1, 4), (4, 1)]"
    )


def test_the_recheck_names_both_counts() -> None:
    from dataclasses import replace

    from proofs.thm4 import _certificate_problem
    from symconv import certify, conv_stack

    net = conv_stack(5, 2)
    cert = certify(net)
    nz, fz = cert.nonzeros, cert.forced_zeros
    assert (nz, fz) == (361, 264)  # per axis a band of half-width 2: 19 of 25 pairs
    assert _certificate_problem(net, replace(cert, nonzeros=nz + 1), 5) == (
        "s=5: certificate says 362 nonzeros / 264 forced zeros, the independent pattern "
        "has 361 / 264"
    )


def test_the_recheck_pattern_is_not_the_factored_one(monkeypatch) -> None:
    """A factored pattern that overstates the support, shared by the certificate, is caught
    by the count of the sparse product (the certificate alone agrees with its pattern)."""
    import symconv._patterns
    from proofs.thm4 import _certificate_problem
    from symconv import certify, conv_stack
    from tests._mutate import mutate

    twice = "cols = _axis_apply(layer, _axis_apply(layer, cols))"
    mutate(monkeypatch, symconv._patterns, "cols = _axis_apply(layer, cols)", twice)
    net = conv_stack(4, 2)
    assert _certificate_problem(net, certify(net), 4) == (
        "s=4: certificate says 224 nonzeros / 32 forced zeros, the independent pattern has 196 / 60"
    )


def _draws(monkeypatch: pytest.MonkeyPatch, holes: list[list[tuple[int, int]]]) -> list:
    """``network_matrix_mod`` whose n-th call zeroes the entries ``holes[n % len(holes)]`` (a
    witness that vanished for that draw); returns the list of the weights of each call."""
    import scipy.sparse as sp

    import symconv

    real, calls = symconv.network_matrix_mod, []

    def draw(net, weights, prime):
        m = real(net, weights, prime).toarray()
        for a, b in holes[len(calls) % len(holes)]:
            m[a, b] = 0
        calls.append([w.copy() for w in weights])
        return sp.csr_matrix(m)

    monkeypatch.setattr(symconv, "network_matrix_mod", draw)
    return calls


@pytest.mark.parametrize(
    ("holes", "draws", "problem"),
    [
        ([[]], 1, None),
        ([[(0, 5)], []], 2, None),
        ([[(0, 5)], [(3, 3)], [(3, 3)]], 2, None),
        ([[(0, 5)], [(0, 5)], [(0, 5)]], 3, "s=4: 1 entries the certificate witnessed stay 0"),
    ],
    ids=["first-draw", "second-draw", "union-of-draws", "never"],
)
def test_the_recheck_counts_an_entry_witnessed_by_any_draw(
    monkeypatch: pytest.MonkeyPatch, holes, draws: int, problem: str | None
) -> None:
    """Up to three draws; an entry counts as recomputed if one of them makes it nonzero, and
    drawing stops once every entry is."""
    from proofs.thm4 import _certificate_problem
    from symconv import certify, conv_stack

    net = conv_stack(4, 3)
    cert = certify(net)
    calls = _draws(monkeypatch, holes)
    assert _certificate_problem(net, cert, 4) == problem
    assert len(calls) == draws


def test_the_recheck_draws_the_same_positive_weights_every_run(monkeypatch) -> None:
    """The re-check is reproducible: a second run recomputes with the same integer weights,
    each in 1..p−1 (a zero weight could cut a path)."""
    from proofs.thm4 import _certificate_problem
    from symconv import certify, conv_stack

    net = conv_stack(3, 2, filters=2)
    cert = certify(net)
    calls = _draws(monkeypatch, [[(0, 8)]])  # every draw misses one entry: all three drawn
    assert _certificate_problem(net, cert, 3) == "s=3: 1 entries the certificate witnessed stay 0"
    assert _certificate_problem(net, cert, 3) is not None
    first, second = calls[:3], calls[3:]
    assert len(first) == len(second) == 3
    for a, b in zip(first, second, strict=True):
        assert [w.shape for w in a] == [(2, 1, 3, 3), (1, 2, 3, 3)]
        assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
        assert all(((1 <= w) & (w < cert.prime)).all() for w in a)
    assert not np.array_equal(first[0][0], first[1][0])  # each draw its own weights
