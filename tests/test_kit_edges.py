"""Edges of the proof kit a user's run seldom reaches: mismatched shapes in the exact
matrices, time limits that must reach the solver, the re-check of a model against the claim
and not against the solver's own assertions, the texts a failure prints, the exported
scripts and SMT-LIB files run on their own, and the timings ``verify reprove`` reports."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
import time
from fractions import Fraction
from pathlib import Path

import pytest
import z3

from proofs import Evidence, Result, Status, _identities, _kit, _reprove
from proofs import _z3 as z3h

F = Fraction
HAS_CVC5 = importlib.util.find_spec("cvc5") is not None


def _hard() -> tuple[z3.BoolRef, tuple[z3.BoolRef, ...]]:
    """x³ + y³ ≠ z³ over the positive integers: true (Fermat, n = 3), beyond z3's reach."""
    x, y, z = z3.Ints("x y z")
    return x * x * x + y * y * y != z * z * z, (x > 0, y > 0, z > 0)


# ------------------------------------------------------------------------------ exact matrices


@pytest.mark.parametrize(
    "call",
    [
        lambda: _kit.add(_kit.matrix([[1, 2]]), _kit.matrix([[1, 2], [3, 4]])),
        lambda: _kit.add(_kit.matrix([[1, 2]]), _kit.matrix([[1]])),
        lambda: _kit.matvec(_kit.matrix([[1, 2]]), [F(1)]),
        lambda: _kit.mul(_kit.matrix([[1, 2]]), _kit.matrix([[1], [2], [3]])),
        lambda: _kit.transpose(_kit.matrix([[1, 2], [3]])),
        lambda: _kit.rank(_kit.matrix([[1, 2], [3]])),
        lambda: _kit.solve(_kit.matrix([[1, 0], [0, 1]]), [F(1)]),
    ],
    ids=["add-rows", "add-cols", "matvec", "mul", "transpose-ragged", "rank-ragged", "solve-rhs"],
)
def test_mismatched_shapes_raise_instead_of_truncating(call) -> None:
    with pytest.raises(ValueError):
        call()


def test_empty_sums_are_exact_zeros() -> None:
    assert type(_kit.norm2([])) is Fraction and _kit.norm2([]) == 0
    (dot,) = _kit.matvec([[]], [])
    assert type(dot) is Fraction and dot == 0


def test_solve_sets_free_variables_to_zero() -> None:
    assert _kit.solve(_kit.matrix([[1, 1]]), [F(2)]) == [2, 0]
    assert _kit.solve(_kit.matrix([[0, 1, 1]]), [F(3)]) == [0, 3, 0]


def test_prove_claim_reports_the_exact_counterexample_and_its_step() -> None:
    a, b = z3.Reals("a b")
    with z3h.using_solvers(("z3",)):
        r = _kit.prove_claim(
            a + b < 3, "a + b < 3", assumptions=(a == 1, b == 2),
            exact=lambda m: {"a": m["a"], "b": m["b"]},
        )  # fmt: skip
        ok = _kit.prove_claim(a + 1 > a, "a + 1 > a")
    assert r.status is Status.FAIL
    assert r.detail == "does not hold: a + b < 3; counterexample a = 1, b = 2 (re-checked exactly)"
    assert r.data["counterexample"] == {"a": 1, "b": 2}
    assert (
        ok.status is Status.PASS
        and ok.detail == "proved for all values: a + 1 > a (confirmed by z3)"
    )


def test_prove_claim_passes_its_time_limit_to_the_solver() -> None:
    claim, assumptions = _hard()
    start = time.monotonic()
    r = _kit.prove_claim(claim, "Fermat n = 3", assumptions=assumptions, timeout_ms=200)
    assert r.status is Status.UNKNOWN and r.detail.startswith("undecided: Fermat n = 3; ")
    assert time.monotonic() - start < 5  # not the 10 s default


# ---------------------------------------------------------------------------------- results


def test_combine_without_a_lead_names_only_the_failing_parts() -> None:
    bad = Result.verdict(False, Evidence.EXACT, "rank 1 for the matrix X")
    good = Result.verdict(True, Evidence.EXACT, "fine")
    assert Result.combine(Evidence.EXACT, [good, bad]).detail == "rank 1 for the matrix X"
    assert Result.combine(Evidence.EXACT, [good]).detail == ""


# ------------------------------------------------------------------------------ solver layer


def test_cvc5_is_used_exactly_when_it_is_installed(monkeypatch) -> None:
    assert z3h.available_solvers() == (("z3", "cvc5") if HAS_CVC5 else ("z3",))
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "cvc5" else real(name, *a)
    )
    assert z3h.available_solvers() == ("z3",)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())
    assert z3h.available_solvers() == ("z3", "cvc5")


def test_prove_stops_at_its_time_limit() -> None:
    claim, assumptions = _hard()
    start = time.monotonic()
    with z3h.recording() as log:
        v = z3h.prove(claim, assumptions=assumptions, timeout_ms=200)
    assert v.status is Status.UNKNOWN and v.reason.startswith("z3: unknown (")
    assert time.monotonic() - start < 5
    assert log[0].what == str(claim)  # no step name: the claim names itself
    assert 0 <= log[0].seconds["z3"] < 5


def test_contradictory_assumptions_are_logged_under_their_step() -> None:
    x = z3.Int("x")
    with z3h.recording() as log:
        v = z3h.prove(x > 0, assumptions=(x > 1, x < 0), what="vacuous step")
    assert v.status is Status.ERROR
    assert v.reason == (
        "the assumptions are contradictory (no value satisfies them), so the claim "
        "would hold vacuously; nothing is proved"
    )
    assert [(ob.what, ob.status, ob.smt2) for ob in log] == [("vacuous step", Status.ERROR, "")]
    err = z3h.verdict_result(v, "vacuous step")
    assert err.evidence is Evidence.PROOF


@pytest.mark.skipif(not HAS_CVC5, reason="cvc5 not installed")
def test_second_solver_time_is_measured_from_its_start() -> None:
    x = z3.Int("x")
    with z3h.using_solvers(("z3", "cvc5")), z3h.recording() as log:
        assert z3h.prove(x + 0 == x).status is Status.PASS
    assert 0 <= log[0].seconds["cvc5"] < 60


def test_a_model_is_rechecked_against_the_claim_and_its_assumptions_not_the_search() -> None:
    """``_z3_refutes`` re-checks the model of the solver it is given against ``assumptions``
    and the negated claim: a model of other assertions proves nothing."""
    x = z3.Int("x")
    s = z3h._solver(1000)
    s.add(x > 0, x <= 3)  # the search: satisfiable, with 1 <= x <= 3
    times: dict[str, float] = {}
    answers: dict[str, str] = {}
    v = z3h._z3_refutes(s, x > 0, (), times, answers)  # x > 0 holds at that model
    assert v is not None and v.status is Status.UNKNOWN
    assert v.reason == "z3: a model was found but substituting it into the claim did not confirm it"
    v = z3h._z3_refutes(s, x > 9, (x > 5,), times, answers)  # the model breaks the assumption
    assert v is not None and v.status is Status.UNKNOWN
    assert answers == {"z3": "sat"} and 0 <= times["z3"] < 5


def test_recheck_reads_the_constants_of_a_model_with_a_function() -> None:
    f = z3.Function("f", z3.IntSort(), z3.IntSort())
    x, y = z3.Ints("x y")
    s = z3.Solver()
    s.add(f(x) == 2, x == 1, y == 3)
    assert s.check() == z3.sat
    m = s.model()
    assert z3h._recheck(z3.And(x == 1, y == 3), m) is True
    assert z3h._recheck(y == 4, m) is False
    assert z3h._recheck(z3.BoolVal(True), m) is True
    empty = z3.Solver()
    assert empty.check() == z3.sat
    assert z3h._recheck(z3.BoolVal(False), empty.model()) is False  # a model of nothing


def test_smt2_header_names_the_claim_only_when_there_is_one() -> None:
    s = z3h._solver(1000)
    s.add(z3.Int("x") > 0)
    plain = z3h.smt2_text(s, "a step")
    assert "; claim:" not in plain
    assert "; re-prove: verify reprove DIR  (z3 and cvc5 by their Python APIs), or z3 FILE" in plain
    named = z3h.smt2_text(s, "a step", ("x > 0",), "x  >\n 0")
    assert "; claim: x > 0" in named.splitlines()


@pytest.mark.skipif(not HAS_CVC5, reason="cvc5 not installed")
def test_cvc5_without_check_sat_answers_unknown() -> None:
    assert z3h.cvc5_check("(set-logic ALL)(declare-const a Int)(assert (> a 0))") == "unknown"
    assert (
        z3h.cvc5_check("(set-logic ALL)(declare-const a Int)(assert (> a 0))(check-sat)") == "sat"
    )


# ------------------------------------------------------------------------- exported scripts


@pytest.mark.parametrize("name", ["thm2.chord-through", "thm2.chord-update"])
def test_an_exported_script_runs_alone_and_its_docstring_wraps_at_88(
    name: str, tmp_path: Path
) -> None:
    text = _identities.script(name)
    path = tmp_path / "identity.py"
    path.write_text(text)
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    assert (run.returncode, run.stdout.strip()) == (0, f"OK {name}"), run.stderr
    doc = text.split('"""')[1]
    statement = _identities.get(name).statement
    lines = doc.split("\n\n")[1].splitlines()
    assert " ".join(lines) == " ".join(statement.split())
    assert all(len(line) <= 88 for line in lines) and max(map(len, lines)) > 70
    assert doc.endswith("exits 1\notherwise.")


def test_an_exported_script_of_a_wrong_identity_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "identity.py"
    path.write_text(_identities.script("thm2.chord-through", SIGN=-1, OFFSET=1))
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and run.stdout.startswith("FAIL thm2.chord-through: residual")
    assert run.stderr == ""  # it exits by itself, not by an exception


# --------------------------------------------------------------------------------- reprove


def test_reprove_passes_its_time_limit_and_rounds_its_timings(tmp_path: Path) -> None:
    claim, assumptions = _hard()
    s = z3h._solver(1000)
    s.add(*assumptions, z3.Not(claim))
    (tmp_path / "hard.smt2").write_text(z3h.smt2_text(s, "Fermat n = 3"), encoding="utf-8")
    x = z3.Int("x")
    easy = z3h._solver(1000)
    easy.add(z3.Not(x + 0 == x))
    (tmp_path / "easy.smt2").write_text(z3h.smt2_text(easy, "x + 0 = x"), encoding="utf-8")
    start = time.monotonic()
    results = _reprove.reprove(tmp_path, solvers=("z3",), timeout_ms=200)
    assert time.monotonic() - start < 5
    assert [r.file for r in results] == ["easy.smt2", "hard.smt2"]  # sorted by path
    by_file = {r.file: r for r in results}
    assert by_file["hard.smt2"].answers == {"z3": "unknown"} and not by_file["hard.smt2"].ok
    assert by_file["easy.smt2"].answers == {"z3": "unsat"} and by_file["easy.smt2"].ok
    for r in by_file.values():
        (secs,) = r.seconds.values()
        assert isinstance(secs, float) and 0 <= secs < 5 and round(secs, 4) == secs


def test_z3_check_stops_at_its_time_limit() -> None:
    claim, assumptions = _hard()
    s = z3h._solver(1000)
    s.add(*assumptions, z3.Not(claim))
    start = time.monotonic()
    assert _reprove.z3_check(s.to_smt2(), timeout_ms=200) == "unknown"
    assert time.monotonic() - start < 5


def test_expected_answer_reads_the_header() -> None:
    assert _reprove.expected_answer("; expected: sat\n(check-sat)") == "sat"
    assert _reprove.expected_answer("(check-sat)\n; expected: sat") == "unsat"
    assert _reprove.expected_answer(textwrap.dedent("; a\n;\n; expected:  unsat \n")) == "unsat"
