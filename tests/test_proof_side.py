"""The proof-side findings: no default instance is left out to make a claim pass, every
identity behind a ``proof`` verdict is exported with its assumptions, every solver step
states what it assumes, and the extensions are marked as the toolkit's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from proofs import Status, _identities, _registry


def test_corollary_runs_the_collinear_instance_by_default() -> None:
    """A known counterexample is never left out: the restated Corollary covers it."""
    from proofs.thm2_corollary import check_corollary

    result = check_corollary()
    names = [p["detail"].split(":")[0] for p in result.data["parts"]]
    assert "d3-n2-collinear-preimages" in names
    assert result.status == Status.PASS, result.detail
    assert "rank phi^-1(X) = dim span(X)" in result.detail


def test_corollary_as_printed_fails_with_the_counterexample() -> None:
    from proofs.thm2_corollary import check_corollary

    result = check_corollary(rank_condition=False)
    assert result.status == Status.FAIL
    cex = result.data["counterexample"]
    assert cex["instance"] == "d3-n2-collinear-preimages"
    assert cex["rank_A_inf"] == 1 and cex["dim_span"] == 2
    assert cex["failed"] == ["rank A(inf) = dim-span"]


def test_restated_corollary_is_marked_as_the_toolkits() -> None:
    check = _registry.get("thm2.corollary")
    assert check.extension
    assert {"rank_condition": False} in check.wrong
    assert "rank phi^-1(X) = dim span(X)" in check.statement


@pytest.mark.parametrize("cid", ["thm4.tight", "thm4.all-sizes"])
def test_sufficiency_of_s_minus_1_is_an_extension(cid: str) -> None:
    """The paper proves only the lower bound (at least s − 1 layers)."""
    assert _registry.get(cid).extension
    assert not _registry.get("thm4.depth-bound").extension


def test_linearization_identities_are_exported() -> None:
    found = _identities.for_checks({"thm2.linearization"})
    assert [i.name for i in found] == ["thm2.chord-update", "thm2.chord-through"]
    for identity in found:
        assert "x_1 != phi(0)" in identity.statement
        assert _identities.evaluate(identity.name)[2] is None
        assert "nonzero=True" in identity.source  # the assumption is in the text itself
    assert _identities.evaluate("thm2.chord-update", SIGN=-1)[2] is not None
    assert _identities.evaluate("thm2.chord-through", OFFSET=1)[2] is not None


def test_linearization_states_its_assumption_and_evaluates_the_exported_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from proofs.thm2_gradient import check_linearization

    result = check_linearization()
    assert result.status == Status.PASS
    assert any("x_1 != phi(0)" in a for a in result.data["assumptions"])
    ident = _identities.get("thm2.chord-update")
    broken = _identities.Identity(
        ident.name,
        ident.check,
        ident.statement,
        ident.source.replace("bx - p", "bx + p"),
        ident.params,
    )
    monkeypatch.setitem(_identities._BY_NAME, ident.name, broken)
    assert check_linearization().status == Status.FAIL


def test_chord_through_x1_decides_on_its_own() -> None:
    """A chord through the wrong point with a right update: only the chord test fails."""
    from proofs.thm2_gradient import check_linearization

    result = check_linearization(chord_offset=1)
    assert result.status == Status.FAIL
    assert [p["status"] for p in result.data["parts"]] == ["pass", "fail"]


def test_step_size_steps_carry_their_assumptions() -> None:
    outcome = _registry.run(_registry.get("thm1.step-size"), quick=True)
    first = outcome.obligations[0]
    assert first.assumptions[:2] == ("lam > 0", "lam <= lam1")
    assert all(ob.assumptions for ob in outcome.obligations)
    assert "; assuming: lam > 0" in first.smt2 and "; claim: And(" in first.smt2
    assert outcome.to_json()["obligations"][0]["assumptions"][0] == "lam > 0"


def test_all_sizes_proves_both_directions_as_own_steps() -> None:
    outcome = _registry.run(_registry.get("thm4.all-sizes"))
    whats = [ob.what for ob in outcome.obligations]
    assert any("no reach beyond" in w for w in whats)
    assert any(w.startswith("band lemma induction step, reach") for w in whats)


def test_reprove_a_folder_with_both_solvers(tmp_path: Path) -> None:
    import proofs

    outcome = _registry.run(_registry.get("thm1.step-size"), quick=True)
    for n, ob in enumerate(outcome.obligations):
        (tmp_path / f"step-{n}.smt2").write_text(ob.smt2)
    done = proofs.reprove(tmp_path)
    assert len(done) == len(outcome.obligations) >= 3
    assert all(r.ok and r.answers == {"z3": "unsat", "cvc5": "unsat"} for r in done)
    # a false claim (x > 0 for all x) answers sat: not ok, by either solver alone
    (tmp_path / "false.smt2").write_text(
        "; expected: unsat\n(declare-fun x () Real)\n(assert (not (> x 0.0)))\n(check-sat)\n"
    )
    for solvers in (("z3",), ("cvc5",)):
        bad = [r for r in proofs.reprove(tmp_path, solvers=solvers) if not r.ok]
        assert [r.file for r in bad] == ["false.smt2"] and bad[0].answers == {solvers[0]: "sat"}
    with pytest.raises(ValueError, match="solvers"):
        proofs.reprove(tmp_path, solvers=("yices",))


def test_reprove_command_exit_status(tmp_path: Path) -> None:
    import io

    from proofs._reprove import expected_answer
    from verifier.cli import main as verify

    def main(argv: list[str]) -> int:
        main.out = io.StringIO()  # type: ignore[attr-defined]
        return verify(["reprove", *argv], main.out, io.StringIO())  # type: ignore[attr-defined]

    assert main([str(tmp_path)]) == 2  # nothing to re-prove
    (tmp_path / "t.smt2").write_text("; expected: unsat\n(assert false)\n(check-sat)\n")
    assert main([str(tmp_path), "--solvers", "z3"]) == 0
    assert "1 of 1 obligations re-proved by z3" in main.out.getvalue()  # type: ignore[attr-defined]
    (tmp_path / "s.smt2").write_text("; expected: unsat\n(assert true)\n(check-sat)\n")
    assert main([str(tmp_path), "--json"]) == 1
    assert main([str(tmp_path / "missing")]) == 2
    assert main([str(tmp_path), "--solvers", "z3,yices"]) == 2
    assert expected_answer("; obligation\n; expected: sat\n(assert true)") == "sat"
    assert expected_answer("(assert true)\n; expected: sat") == "unsat"


def test_assumption_c_fails_on_a_wrong_polynomial_that_keeps_its_sign(monkeypatch) -> None:
    """z3 decides signs only: a wrong phi' that keeps its sign (2 s(1 - s) for the sigmoid)
    would be "proved"; the check compares each polynomial with sympy's derivative of phi."""
    from proofs import thm2_activation

    real = thm2_activation._cases

    def wrong(v: Any) -> list:
        rows = real(v)
        return [(*r[:4], 2 * r[4], *r[5:]) if r[0] == "sigmoid" else r for r in rows]

    monkeypatch.setattr(thm2_activation, "_cases", wrong)
    result = thm2_activation.check_assumption_c(quick=True)
    assert result.status == Status.FAIL
    failed = [p["detail"] for p in result.data["parts"] if p["status"] == "fail"]
    assert len(failed) == 2 and all("sigmoid" in d and "phi^(1)" in d for d in failed)


# ----------------------------------------------------------------------------- the tables' audit


def test_audit_rows_carry_the_printed_and_the_recomputed_numbers() -> None:
    from dataclasses import asdict

    from proofs.audit import audit_tables

    rows = {(r.table, r.row): asdict(r) for r in audit_tables()}
    assert rows[(2, 9)] == {
        "table": 2, "row": 9, "size": 7, "train_examples": 5, "filters": 1,
        "layers_printed": 350, "params_printed": 3105, "bound_printed": 144, "bound": 267,
        "params": 3150, "layers_from_params": 345, "consistent": False,
        "note": "printed bound 144 ≠ ⌈7⁴/9⌉ = 267; printed params 3105 ≠ 3150 for 350 "
        "layers; the printed count is that of 345 layers",
    }  # fmt: skip
    first = rows[(1, 1)]
    assert {k: v for k, v in first.items() if k != "note"} == {
        "table": 1, "row": 1, "size": 3, "train_examples": 2, "filters": 1,
        "layers_printed": 2, "params_printed": 27, "bound_printed": 9, "bound": 9,
        "params": 18, "layers_from_params": 3, "consistent": False,
    }  # fmt: skip
    assert first["note"].startswith(
        "printed params 27 ≠ 18 for 2 layers; the printed count is that of 3 layers; two readings: "
    )


def test_audit_of_rows_no_depth_or_only_another_depth_explains(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import paperdata
    from proofs.audit import audit_tables

    monkeypatch.setattr(
        paperdata,
        "TABLE1",
        (
            paperdata.PrintedRow(3, 2, 9, 2, 1, 28),  # 28 weights: no depth has them
            paperdata.PrintedRow(3, 2, 9, 4, 1, 27),  # 4 layers (not s - 1) printed with 27
        ),
    )
    monkeypatch.setattr(paperdata, "TABLE2", ())
    assert [(r.row, r.layers_from_params, r.note) for r in audit_tables()] == [
        (1, None, "printed params 28 ≠ 18 for 2 layers; no depth gives the printed count"),
        (2, 3, "printed params 27 ≠ 36 for 4 layers; the printed count is that of 3 layers"),
    ]
