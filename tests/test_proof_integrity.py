"""Proof integrity: vacuity guard, counterexample re-check, second solver, injected unknowns."""

from __future__ import annotations

import pytest

from proofs._result import Status

z3 = pytest.importorskip("z3")


@pytest.mark.parametrize(
    "assumptions",
    [
        pytest.param(lambda s: (s < 0, s > 0), id="s<0-and-s>0"),
        pytest.param(lambda s: (s >= 2, s < 2), id="s>=2-and-s<2"),
    ],
)
def test_contradictory_assumptions_are_an_error_not_a_proof(assumptions) -> None:  # type: ignore[no-untyped-def]
    from proofs._z3 import prove, verdict_result

    s = z3.Int("s")
    v = prove(s * s < 0, assumptions=assumptions(s))
    assert v.status == Status.ERROR
    assert "contradictory" in v.reason
    assert verdict_result(v, "x").status == Status.ERROR


def test_contradictory_antecedent_is_an_error() -> None:
    from proofs._z3 import prove

    s = z3.Int("s")
    v = prove(z3.Implies(z3.And(s >= 2, s < 2), s == 7))
    assert v.status == Status.ERROR


def test_satisfiable_assumptions_still_prove() -> None:
    from proofs._z3 import prove

    s = z3.Int("s")
    assert prove(s * s >= 0, assumptions=(s >= 2,)).status == Status.PASS


def test_false_claim_is_fail_by_substitution() -> None:
    from proofs._z3 import prove

    x = z3.Real("x")
    v = prove(x * x > 1, assumptions=(x > 0,))
    assert v.status == Status.FAIL
    assert v.model is not None


def test_step_size_recheck_evaluates_the_claim_under_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """A mutated claim inside thm1.step-size must be reported as fail, not unknown."""
    import proofs.thm1 as thm1

    real_and = z3.And
    calls = {"n": 0}

    def mutated_and(*args):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:  # the main claim 0 <= 1 - g lam < 1, made false: < 1/2
            a, b = args
            lhs = b.arg(0)
            return real_and(a, lhs < z3.RealVal("1/2"))
        return real_and(*args)

    monkeypatch.setattr(thm1.z3 if hasattr(thm1, "z3") else z3, "And", mutated_and)
    result = thm1.check_step_size()
    assert result.status == Status.FAIL, result.detail


def test_injected_unknown_is_reported_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    import proofs._z3 as z3h
    from proofs.thm4 import check_all_sizes

    def undecided(claim, **kw):  # type: ignore[no-untyped-def]
        return z3h.Verdict(Status.UNKNOWN, None, "z3: unknown (timeout)")

    monkeypatch.setattr(z3h, "prove", undecided)
    result = check_all_sizes()
    assert result.status == Status.UNKNOWN
    assert "timeout" in result.detail


def test_cvc5_disagreement_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("cvc5")
    import proofs._z3 as z3h

    monkeypatch.setattr(z3h, "cvc5_check", lambda smt2, timeout_ms=0: "sat")
    s = z3.Int("s")
    with z3h.using_solvers(("z3", "cvc5")):
        assert z3h.prove(s * s >= 0).status == Status.ERROR
    with z3h.using_solvers(("z3",)):
        assert z3h.prove(s * s >= 0).status == Status.PASS


def test_cvc5_unknown_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("cvc5")
    import proofs._z3 as z3h

    monkeypatch.setattr(z3h, "cvc5_check", lambda smt2, timeout_ms=0: "unknown")
    s = z3.Int("s")
    with z3h.using_solvers(("z3", "cvc5")):
        assert z3h.prove(s * s >= 0).status == Status.UNKNOWN


def test_cvc5_proves_the_exported_script() -> None:
    pytest.importorskip("cvc5")
    import proofs._z3 as z3h

    s = z3.Int("s")
    with z3h.recording() as log, z3h.using_solvers(("z3", "cvc5")):
        v = z3h.prove(s * s >= 0, assumptions=(s >= 2,), what="squares are nonnegative")
    assert v.status == Status.PASS and v.solvers == ("z3", "cvc5")
    (ob,) = log
    assert "; expected: unsat" in ob.smt2 and "(check-sat)" in ob.smt2
    assert z3h.cvc5_check(ob.smt2) == "unsat"
