"""``proofs._z3`` path by path: solvers chosen, obligations recorded with what they assume,
every answer of either solver mapped to its status, models re-checked, searches."""

from __future__ import annotations

from fractions import Fraction

import pytest

import proofs._z3 as z3h
from proofs import Evidence, Status

z3 = pytest.importorskip("z3")


def test_solvers_default_and_choice() -> None:
    assert z3h.available_solvers()[0] == "z3"
    assert z3h.solvers() == z3h.available_solvers()
    with z3h.using_solvers(("z3",)):
        assert z3h.solvers() == ("z3",)
        with z3h.using_solvers(("z3", "cvc5")):
            assert z3h.solvers() == ("z3", "cvc5")
        assert z3h.solvers() == ("z3",)
    for bad in (("cvc5",), ("z3", "yices"), ()):
        with pytest.raises(ValueError, match="solvers must include z3"):
            with z3h.using_solvers(bad):
                pass


def test_recording_collects_each_obligation_with_its_assumptions() -> None:
    x = z3.Real("x")
    assert z3h.obligations() is None
    with z3h.recording() as log, z3h.using_solvers(("z3",)):
        assert z3h.obligations() is log
        z3h.prove(x * x >= 0, what="squares")
        z3h.prove(z3.Implies(x > 1, x > 0), assumptions=(x < 5,), what="one\ntwo")
        z3h.prove(x > 0, assumptions=(x > 0, x < 0), what="vacuous")
    assert z3h.obligations() is None
    sq, imp, vac = log
    assert (sq.what, sq.assumptions, sq.claim) == ("squares", (), "x*x >= 0")
    assert sq.status == Status.PASS and sq.confirmed_by == ("z3",) and "z3" in sq.seconds
    assert sq.answers == {"z3": "unsat"}
    assert "; assuming: nothing" in sq.smt2 and "; claim: x*x >= 0" in sq.smt2
    assert imp.assumptions == ("x < 5", "x > 1")  # then the claim's own antecedent
    assert "; one\n; two\n; assuming: x < 5\n; assuming: x > 1\n" in imp.smt2
    assert vac.status == Status.ERROR and vac.smt2 == "" and vac.assumptions == ("x > 0", "x < 0")


def test_smt2_text_is_a_standalone_unsat_script() -> None:
    s = z3h._solver(1000)
    x = z3.Int("x")
    s.add(x > 2, x < 1)
    text = z3h.smt2_text(s, "", ("x > 2",), "x  <\n 1")
    lines = text.splitlines()
    assert lines[0] == "; obligation: the negation of the claim below, with its assumptions"
    assert lines[1] == "; obligation" and lines[2] == "; assuming: x > 2"
    assert lines[3] == "; claim: x < 1" and lines[4] == "; expected: unsat"
    assert "(set-info :status unsat)" in text and "(set-logic ALL)" in text
    assert text.endswith("\n")
    assert z3h.cvc5_check(text) == "unsat"


def test_prove_maps_each_z3_answer() -> None:
    x = z3.Real("x")
    with z3h.using_solvers(("z3",)):
        ok = z3h.prove(x * x + 1 > 0)
        assert (ok.status, ok.solvers, ok.model) == (Status.PASS, ("z3",), None)
        assert ok.reason == "the negation is unsat (z3)"
        bad = z3h.prove(x > 3, assumptions=(x > 2,))
        assert bad.status == Status.FAIL and bad.reason.startswith("z3: counterexample")
        assert 2 < Fraction(bad.model["x"]) <= 3


def test_z3_unknown_is_unknown_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    real = z3h._solver

    class Undecided:
        def __init__(self, timeout_ms: int) -> None:
            self.inner = real(timeout_ms)

        def __getattr__(self, name: str):
            return getattr(self.inner, name)

        def check(self):
            return z3.unknown

        def reason_unknown(self) -> str:
            return "timeout"

    monkeypatch.setattr(z3h, "_solver", Undecided)
    x = z3.Real("x")
    v = z3h.prove(x * x >= 0, assumptions=(x > 1,))
    assert (v.status, v.reason, v.model) == (Status.UNKNOWN, "z3: unknown (timeout)", None)
    assert z3h.find_model(x > 0).found is None


def test_a_model_that_does_not_recheck_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    x = z3.Real("x")
    monkeypatch.setattr(z3h, "_recheck", lambda formula, model: False)
    with z3h.using_solvers(("z3",)):
        v = z3h.prove(x > 3, assumptions=(x > 2,))
    assert v.status == Status.UNKNOWN and v.model is not None
    assert "did not confirm" in v.reason


def test_recheck_decides_quantified_formulas_on_their_own() -> None:
    s, i = z3.Ints("s i")
    solver = z3h._solver(1000)
    solver.add(s == 3)
    assert solver.check() == z3.sat
    model = solver.model()
    every = z3.ForAll([i], z3.Implies(z3.And(0 <= i, i < s), i < 3))
    some = z3.Exists([i], z3.And(0 <= i, i < s, i > 5))
    assert z3h._recheck(every, model) is True
    assert z3h._recheck(some, model) is False
    assert z3h._recheck(s == 3, model) is True and z3h._recheck(s == 4, model) is False


@pytest.mark.parametrize(
    ("answer", "status", "reason"),
    [
        ("sat", Status.ERROR, "solvers disagree: z3 says unsat, cvc5 says sat"),
        ("unknown", Status.UNKNOWN, "z3: unsat, but cvc5: unknown (time limit)"),
        ("unsat", Status.PASS, "the negation is unsat (z3, cvc5)"),
    ],
)
def test_cvc5_answers(
    monkeypatch: pytest.MonkeyPatch, answer: str, status: Status, reason: str
) -> None:
    seen = []
    monkeypatch.setattr(z3h, "cvc5_check", lambda smt2, t: seen.append(t) or answer)
    x = z3.Real("x")
    with z3h.recording() as log, z3h.using_solvers(("z3", "cvc5")):
        v = z3h.prove(x * x >= 0, timeout_ms=1234)
    assert (v.status, v.reason) == (status, reason)
    assert seen == [1234]
    assert log[0].answers == {"z3": "unsat", "cvc5": answer} and "cvc5" in log[0].seconds
    assert v.solvers == (("z3", "cvc5") if status == Status.PASS else ())


def test_cvc5_check_answers_sat_unsat_and_unknown() -> None:
    assert z3h.cvc5_check("(declare-fun x () Real)(assert (> x 0.0))(check-sat)") == "sat"
    assert z3h.cvc5_check("(assert false)(check-sat)") == "unsat"
    assert z3h.cvc5_check("(assert true)") == "unknown"  # no check-sat: no answer


def test_find_model() -> None:
    x = z3.Int("x")
    found = z3h.find_model(x > 2, x < 4)
    assert found.found is True and found.model == {"x": "3"}
    assert z3h.find_model(x > 2, x < 3) == z3h.Search(False)
    assert z3h.Search(None).model is None


def test_verdict_result_for_every_status() -> None:
    ok = z3h.verdict_result(z3h.Verdict(Status.PASS, None, "r", ("z3", "cvc5")), "c")
    assert (ok.status, ok.evidence) == (Status.PASS, Evidence.PROOF)
    assert ok.detail == "proved for all values: c (confirmed by z3 and cvc5)"
    plain = z3h.verdict_result(z3h.Verdict(Status.PASS, None, "r"), "c")
    assert plain.detail == "proved for all values: c"
    bad = z3h.verdict_result(z3h.Verdict(Status.FAIL, {"x": "1"}, "r"), "c")
    assert bad.status == Status.FAIL and bad.data["counterexample"] == {"x": "1"}
    assert bad.detail == "does not hold: c; counterexample {'x': '1'}"
    err = z3h.verdict_result(z3h.Verdict(Status.ERROR, None, "why"), "c")
    assert (err.status, err.detail) == (Status.ERROR, "not proved: c; why")
    unk = z3h.verdict_result(z3h.Verdict(Status.UNKNOWN, None, "why"), "c")
    assert (unk.status, unk.detail) == (Status.UNKNOWN, "undecided: c; why")


def test_solver_settings_and_model_dict() -> None:
    s = z3h._solver(4321)
    x = z3.Int("x")
    s.add(x == 5)
    assert s.check() == z3.sat
    assert z3h._model_dict(s.model()) == {"x": "5"}
    assert z3h._antecedent(z3.Implies(x > 1, x > 0)).eq(x > 1)
    assert z3h._antecedent(x > 0) is None
    assert (z3h.SEED, z3h.TIMEOUT_MS) == (0, 10_000)
