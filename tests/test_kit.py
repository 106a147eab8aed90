"""The check toolkit (``proofs._kit``) and results (``proofs._result``): exact matrices
against sympy on random rectangular matrices, and the result rules one by one."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs import Evidence, Result, Status
from proofs import _kit as kit

small = st.integers(-4, 4)


def mats(rows: int, cols: int) -> st.SearchStrategy[list[list[int]]]:
    return st.lists(st.lists(small, min_size=cols, max_size=cols), min_size=rows, max_size=rows)


@st.composite
def matrix_pairs(draw: st.DrawFn) -> tuple[list[list[int]], list[list[int]]]:
    r, k, c = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return draw(mats(r, k)), draw(mats(k, c))


def _sym(m: list[list[object]]) -> sympy.Matrix:
    return sympy.Matrix([[sympy.Rational(str(v)) for v in row] for row in m])


@settings(max_examples=60)
@given(matrix_pairs())
def test_products_transpose_and_gram_equal_sympy(pair) -> None:
    a, b = kit.matrix(pair[0]), kit.matrix(pair[1])
    assert _sym(kit.mul(a, b)) == _sym(a) * _sym(b)
    assert _sym(kit.transpose(a)) == _sym(a).T
    assert _sym(kit.gram(a)) == _sym(a) * _sym(a).T
    v = [Fraction(x) for x in pair[1][0]] if len(pair[1][0]) == len(a[0]) else None
    if v is not None:
        assert _sym([kit.matvec(a, v)]).T == _sym(a) * _sym([v]).T
    assert kit.norm2(a[0]) == sum(x * x for x in a[0])


@settings(max_examples=60)
@given(
    st.integers(1, 4).flatmap(lambda n: mats(n, n)),
    st.integers(0, 3),
    st.sampled_from(["1/2", "-3", "2/3"]),
)
def test_square_matrix_functions_equal_sympy(m, t: int, scale: str) -> None:
    a = kit.matrix(m)
    s = _sym(a)
    assert kit.rank(a) == s.rank()
    assert kit.det(a) == s.det()
    assert _sym(kit.power(a, t)) == s**t
    assert _sym(kit.add(a, kit.identity(len(a)), Fraction(scale))) == s + sympy.Rational(
        scale
    ) * sympy.eye(len(a))
    assert _sym(kit.add(a, a)) == 2 * s


@settings(max_examples=60)
@given(st.integers(1, 4), st.integers(1, 4), st.data())
def test_rank_and_solve_on_rectangular_systems(r: int, c: int, data) -> None:
    m = kit.matrix(data.draw(mats(r, c)))
    b = [Fraction(x) for x in data.draw(st.lists(small, min_size=r, max_size=r))]
    assert kit.rank(m) == _sym(m).rank()
    y = kit.solve(m, b)
    solvable = _sym(m).rank() == _sym([[*row, v] for row, v in zip(m, b, strict=True)]).rank()
    assert (y is not None) == solvable
    if y is not None:
        assert kit.matvec(m, y) == b


def test_det_sign_of_row_swaps_and_singular() -> None:
    assert kit.det(kit.matrix([[0, 1], [1, 0]])) == -1
    assert kit.det(kit.matrix([[0, 1, 0], [0, 0, 1], [1, 0, 0]])) == 1
    assert kit.det(kit.matrix([[1, 2], [2, 4]])) == 0
    assert kit.rank([]) == 0
    assert kit.matrix([["1/2", 3]]) == [[Fraction(1, 2), Fraction(3)]]
    assert kit.identity(2) == [[1, 0], [0, 1]]


def test_instances_and_sizes() -> None:
    assert kit.instance_names(None, ["a", "b"], ["b"]) == ("b",)
    assert kit.instance_names(["a"], ["a", "b"], ["b"]) == ("a",)
    with pytest.raises(ValueError, match="unknown instance 'c'; known: a, b"):
        kit.instance_names(["c"], ["a", "b"], ["b"])
    assert list(kit.size_range((2, 4))) == [2, 3, 4]
    ok = kit.instance_part(Evidence.EXACT, "i1", "fine", [])
    assert ok.status == Status.PASS and "counterexample" not in ok.data
    bad = kit.instance_part(Evidence.EXACT, "i1", "bad", ["f1"], rank=2)
    assert bad.status == Status.FAIL
    assert bad.data["counterexample"] == {"instance": "i1", "failed": ["f1"], "rank": 2}


def test_fraction_model_reads_rationals_only() -> None:
    assert kit.fraction_model(None) is None
    assert kit.fraction_model({"x": "1/3", "/0": "7", "y": "-2"}) == {"x": Fraction(1, 3), "y": -2}
    assert kit.fraction_model({"x": "1.41?"}) is None
    assert kit.fraction_model({"x": "1/0"}) is None


def test_prove_claim_fail_pass_and_unreadable_models() -> None:
    import z3

    x = z3.Real("x")
    assert kit.prove_claim(x * x >= 0, "squares").status == Status.PASS
    bad = kit.prove_claim(x > 1, "x > 1", assumptions=(x > 0,), exact=lambda m: {"x": m["x"]})
    assert bad.status == Status.FAIL and bad.evidence == Evidence.PROOF
    assert 0 < bad.data["counterexample"]["x"] <= 1
    assert "re-checked exactly" in bad.detail
    plain = kit.prove_claim(x > 1, "x > 1", assumptions=(x > 0,))
    assert plain.status == Status.FAIL and plain.data["counterexample"]
    missing = kit.prove_claim(x > 1, "x > 1", assumptions=(x > 0,), exact=lambda m: {"y": m["y"]})
    assert missing.status == Status.UNKNOWN
    irrational = kit.prove_claim(x * x != 2, "no root of 2", exact=lambda m: dict(m))
    assert irrational.status == Status.UNKNOWN and "not rational" in irrational.detail
    vacuous = kit.prove_claim(x > 1, "vacuous", assumptions=(x > 0, x < 0))
    assert vacuous.status == Status.ERROR


# --------------------------------------------------------------------------------------------
# results


def test_verdict_statuses_and_fail_lead() -> None:
    p = Result.verdict(True, "exact", "holds", counterexamples=[{"a": 1}], extra=3)
    assert (p.status, p.detail, p.data) == (Status.PASS, "holds", {"extra": 3})
    assert p.ok and p.evidence == Evidence.EXACT
    u = Result.verdict(None, Evidence.NUMERIC, "undecided", fail_lead="lead")
    assert (u.status, u.detail, u.ok) == (Status.UNKNOWN, "undecided", False)
    f = Result.verdict(
        False, Evidence.EXACT, "holds", fail_lead="broken", counterexamples=[1, 2, 3, 4]
    )
    assert f.status == Status.FAIL and not f.ok
    assert f.detail == "broken: [1, 2, 3]"
    assert f.data == {"counterexample": 1, "n_counterexamples": 4}
    g = Result.verdict(False, Evidence.EXACT, "holds", fail_lead="broken")
    assert g.detail == "broken" and "counterexample" not in g.data
    h = Result.verdict(False, Evidence.EXACT, "plain detail", counterexamples=[5])
    assert h.detail == "plain detail" and h.data["counterexample"] == 5
    given = Result.verdict(False, Evidence.EXACT, "d", counterexamples=[5], counterexample={"x": 1})
    assert given.data == {"counterexample": {"x": 1}}
    none = Result.verdict(True, Evidence.EXACT, "d", counterexample=None)
    assert none.data == {}
    assert Result(Status.SKIPPED, Evidence.EXACT, "no torch").ok


@pytest.mark.parametrize(
    ("statuses", "want"),
    [
        (["pass", "fail", "error"], "fail"),
        (["pass", "error", "unknown"], "error"),
        (["unknown", "skipped", "pass"], "unknown"),
        (["skipped", "pass"], "skipped"),
        (["pass", "pass"], "pass"),
        ([], "error"),
    ],
)
def test_combine_precedence(statuses: list[str], want: str) -> None:
    parts = [Result(Status(s), Evidence.EXACT, f"part {i}") for i, s in enumerate(statuses)]
    got = Result.combine(Evidence.PROOF, parts, "all fine", fail_lead="lead")
    assert got.status == Status(want) and got.evidence == Evidence.PROOF
    if want == "pass":
        assert got.detail == "all fine"
    else:
        bad = [f"part {i}" for i, s in enumerate(statuses) if s != "pass"]
        assert got.detail == "; ".join(["lead", *bad])
    assert len(got.data["parts"]) == len(statuses)


def test_combine_collects_failing_counterexamples_only() -> None:
    parts = [
        Result.verdict(False, Evidence.EXACT, "a", counterexample={"n": 1}),
        Result(Status.ERROR, Evidence.EXACT, "b", {"counterexample": {"n": 9}}),
        Result.verdict(False, Evidence.EXACT, "c", counterexample={"n": 2}),
        Result.verdict(False, Evidence.EXACT, "d"),
    ]
    got = Result.combine(Evidence.EXACT, parts, "ok", extra=1)
    assert got.data["counterexample"] == {"n": 1} and got.data["n_counterexamples"] == 2
    assert got.data["extra"] == 1
    assert got.detail == "ok; a; b; c; d"
    own = Result.combine(Evidence.EXACT, parts, "ok", counterexample={"mine": True})
    assert own.data["counterexample"] == {"mine": True} and "n_counterexamples" not in own.data


def test_to_json_converts_numpy_fractions_and_sympy() -> None:
    r = Result.verdict(True, Evidence.EXACT, "d", arr=np.arange(3), f=Fraction(1, 2),
                       s=sympy.Symbol("x") + 1, t=(1, np.int64(2)), b=np.bool_(True),
                       n=None, m={1: 2.5})  # fmt: skip
    out = r.to_json()
    assert out == {
        "status": "pass",
        "evidence": "exact",
        "detail": "d",
        "data": {"arr": [0, 1, 2], "f": "1/2", "s": "x + 1", "t": [1, 2], "b": True,
                 "n": None, "m": {"1": 2.5}},
    }  # fmt: skip
    more = Result.verdict(True, Evidence.EXACT, "d", i=sympy.Integer(7), two=Fraction(4, 2),
                          r=sympy.Rational(-3, 2)).to_json()["data"]  # fmt: skip
    assert more == {"i": 7, "two": 2, "r": "-3/2"}  # never truncated to an integer
