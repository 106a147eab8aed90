"""Proof integrity: vacuity guard, counterexample re-check, second solver, injected unknowns."""

from __future__ import annotations

import numpy as np
import pytest

from proofs import Status

z3 = pytest.importorskip("z3")


@pytest.mark.parametrize(
    "assumptions",
    [
        pytest.param(lambda s: (s < 0, s > 0), id="s<0-and-s>0"),
        pytest.param(lambda s: (s >= 2, s < 2), id="s>=2-and-s<2"),
    ],
)
def test_contradictory_assumptions_are_an_error_not_a_proof(assumptions) -> None:
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

    def mutated_and(*args):
        calls["n"] += 1
        if calls["n"] == 1:  # the main claim 0 <= 1 - g lam < 1, made false: < 1/2
            a, b = args
            lhs = b.arg(0)
            return real_and(a, lhs < z3.RealVal("1/2"))
        return real_and(*args)

    monkeypatch.setattr(thm1.z3 if hasattr(thm1, "z3") else z3, "And", mutated_and)
    result = thm1.check_step_size()
    assert result.status == Status.FAIL, result.detail


@pytest.mark.parametrize(
    ("cvc5_says", "status"),
    [("sat", Status.ERROR), ("unknown", Status.UNKNOWN)],
    ids=["disagreement-is-an-error", "unknown-is-unknown"],
)
def test_a_cvc5_answer_other_than_unsat_is_never_a_pass(
    monkeypatch: pytest.MonkeyPatch, cvc5_says: str, status: Status
) -> None:
    pytest.importorskip("cvc5")
    import proofs._z3 as z3h

    monkeypatch.setattr(z3h, "cvc5_check", lambda smt2, timeout_ms=0: cvc5_says)
    s = z3.Int("s")
    with z3h.using_solvers(("z3", "cvc5")):
        assert z3h.prove(s * s >= 0).status == status
    with z3h.using_solvers(("z3",)):
        assert z3h.prove(s * s >= 0).status == Status.PASS


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


def test_corollary_tests_a_inf_itself() -> None:
    """Doubling A(inf) must break phi(A x(i)) = x(i): the fact is checked on A(inf)."""
    from proofs.thm2_corollary import check_corollary

    result = check_corollary(quick=True, instances=("d3-n1",), a_inf_scale=2)
    assert result.status == Status.FAIL, result.detail
    assert "phi(A x(i)) = x(i)" in result.detail
    assert check_corollary(quick=True, instances=("d3-n1",)).status == Status.PASS


def test_gradient_identity_labels_are_earned() -> None:
    """thm1's gradient is proved for symbolic sizes; thm2.row-span (fixed sizes) is exact."""
    from proofs import _registry

    _registry.load_all()
    assert _registry.get("thm2.row-span").evidence == "exact"
    from proofs.thm1 import _symbolic_gradient

    result = _symbolic_gradient()
    assert result.status == Status.PASS and "symbolic sizes d, n" in result.detail


def _ignore_filters(monkeypatch: pytest.MonkeyPatch) -> None:
    import symconv

    real = symconv.conv_stack

    def no_filters(size, depth, filters=1, **kw):
        return real(size, depth, **kw)

    monkeypatch.setattr(symconv, "conv_stack", no_filters)


@pytest.mark.parametrize("cid", ["thm4.depth-bound", "thm4.tight", "thm4.filters-invariant"])
def test_checks_fail_when_conv_stack_ignores_filters(
    cid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from proofs import _registry

    check = _registry.get(cid)
    _ignore_filters(monkeypatch)
    params = {"sizes": (2, 5)}
    result = check.func(quick=True, **params)
    assert result.status == Status.FAIL, result.detail


@pytest.mark.parametrize("cid", ["thm4.depth-bound", "thm4.tight"])
def test_checks_fail_on_a_fake_certificate(cid: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A certificate claiming every entry witnessed, computed from nothing, is caught."""
    import symconv
    from proofs import _registry

    def fake(net, **kw):
        d = net.in_shape[1] * net.in_shape[2]
        return symconv.Certificate(
            nonzeros=d * d, witnessed=d * d, contradicted=0, forced_zeros=0,
            prime=symconv.PRIME, seed=0, method="fake", tries=1,
        )  # fmt: skip

    monkeypatch.setattr(symconv, "certify", fake)
    check = _registry.get(cid)
    wrong = {"thm4.tight": {"claimed": lambda s: max(1, s - 2)}}.get(cid, {})
    result = check.func(quick=True, sizes=(3, 5), **wrong)
    assert result.status == Status.FAIL, result.detail


def test_all_sizes_label_and_failure_lead() -> None:
    from proofs import _registry
    from proofs.thm4 import check_all_sizes

    assert _registry.get("thm4.all-sizes").evidence == "exact"
    bad = check_all_sizes(claimed=lambda s: s)
    assert bad.status == Status.FAIL
    assert not bad.detail.startswith("proved")


def test_deep_memorizes_not_reaching_the_target_is_unknown() -> None:
    from proofs.numeric_checks import check_deep_memorizes

    result = check_deep_memorizes(quick=True, seeds=(0, 1, 2), max_steps=5)
    assert result.status == Status.UNKNOWN, result.detail


def test_deep_memorizes_starts_near_zero_over_several_seeds() -> None:
    import inspect

    from proofs.numeric_checks import check_deep_memorizes

    defaults = inspect.signature(check_deep_memorizes).parameters
    assert defaults["init_scale"].default <= 0.2
    assert len(defaults["seeds"].default) >= 5
    result = check_deep_memorizes()
    assert result.status == Status.PASS, result.detail
    assert len(result.data["runs"]) == len(defaults["seeds"].default)


def test_audit_states_both_readings_of_table1_two_layer_rows() -> None:
    from proofs.audit import audit_tables

    for r in audit_tables():
        if r.table == 1 and r.row <= 3:
            assert "two readings" in r.note, r.note
            assert "s − 1 = 2" in r.note and "3 layers" in r.note


def _projection_runs(vector: np.ndarray, image: np.ndarray, seeds: int = 3) -> list[dict]:
    """Trained runs whose end-to-end map is the rank-1 projection onto ``vector``."""
    v = vector / np.linalg.norm(vector)
    return [
        {"seed": s, "loss": 0.0, "steps": 1, "matrix": np.outer(v, v), "image": image}
        for s in range(seeds)
    ]


@pytest.mark.parametrize(
    "onto, status",
    [("image", Status.PASS), ("other-vector", Status.FAIL)],
    ids=["projection-onto-the-image", "rank1-projection-onto-another-vector"],
)
def test_deep_memorizes_judges_the_eigenvector_not_only_the_spectrum(
    monkeypatch: pytest.MonkeyPatch, onto: str, status: Status
) -> None:
    """Spectrum (1, 0, 0, 0) is not memorization unless the top eigenvector is the image."""
    from proofs import numeric_checks

    image = np.array([1.0, 2.0, -0.5, 0.3])
    vector = image if onto == "image" else np.array([1.0, 2.0, -0.5, 0.9])  # 0.24 rad apart
    monkeypatch.setattr(
        numeric_checks, "train_deep_2x2", lambda *a, **k: _projection_runs(vector, image)
    )
    result = numeric_checks.check_deep_memorizes()
    assert result.status == status, result.detail
    angles = [r["span_angle"] for r in result.data["runs"]]
    assert all((a <= 1e-7) == (onto == "image") for a in angles), angles
