"""verify list / explain / certificates / --solvers: references, extensions, exported proofs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _cli import run


def test_explain_prefix_lists_the_group_with_titles() -> None:
    code, out, err = run("explain", "thm4")
    assert code == 0, err
    assert "thm4.depth-bound" in out and "thm4.all-sizes" in out
    assert "Fewer than s-1 kernel-3 layers" in out
    assert "lemma1" not in out


def test_explain_unknown_prefix_is_one_line_exit_2() -> None:
    code, _, err = run("explain", "nosuch")
    assert code == 2 and err.count("\n") == 1 and "nosuch" in err


def test_list_shows_references_and_extensions() -> None:
    code, out, _ = run("list")
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("sec4.downsampling-depth"))
    assert "extension" in line and "[Section 4]" in line
    line = next(x for x in out.splitlines() if x.startswith("thm4.depth-bound"))
    assert "claim" in line and "Theorem 4" in line
    rows = json.loads(run("list", "--json")[1])["checks"]
    assert {r["id"] for r in rows if r["extension"]} >= {
        "sec4.downsampling-depth",
        "kernel.depth-formula",
    }


def test_explanations_use_plain_words() -> None:
    import re

    from proofs import _registry

    leaks = re.compile(r"\w+=\S|\bmin_size\b|\binit_scale\b|\bmax_steps\b|claimed_rank")
    for c in _registry.load_all():
        assert not leaks.search(c.statement + " " + c.method), c.id


def test_explain_lists_machine_checked_steps_and_solvers() -> None:
    pytest.importorskip("cvc5")
    code, out, _ = run("explain", "thm1.step-size", "--solvers", "z3,cvc5")
    assert code == 0
    assert "Machine-checked steps" in out and "z3 and cvc5" in out
    code, out, _ = run("explain", "sec4.downsampling-depth", "--quick")
    assert "Extension" in out


def test_bad_solvers_value_is_one_line_exit_2() -> None:
    code, _, err = run("all", "--only", "thm1.step", "--solvers", "z3,yices")
    assert code == 2 and err.count("\n") == 1 and "--solvers" in err


def test_all_json_reports_obligations_and_solvers() -> None:
    pytest.importorskip("cvc5")
    code, out, _ = run("all", "--only", "thm1.step-size", "--json", "--solvers", "z3,cvc5")
    obj = json.loads(out)
    assert code == 0 and obj["solvers"] == ["z3", "cvc5"]
    (check,) = obj["checks"]
    assert check["obligations"] and all(
        ob["confirmed_by"] == ["z3", "cvc5"] for ob in check["obligations"]
    )


def test_certificates_are_standalone_and_reprovable(tmp_path: Path) -> None:
    pytest.importorskip("cvc5")
    import z3

    from proofs._z3 import cvc5_check

    out_dir = tmp_path / "certs"
    code, _, err = run("certificates", "--out", str(out_dir), "--only", "thm1.step,thm4.all")
    assert code == 0, err
    files = sorted(out_dir.glob("*.smt2"))
    assert len(files) >= 4
    index = json.loads((out_dir / "index.json").read_text())
    assert [e["file"] for e in index["files"] if e["kind"] == "smt2"] == [f.name for f in files]
    for f in files:
        text = f.read_text()
        assert "; expected: unsat" in text and "(check-sat)" in text
        assert cvc5_check(text) == "unsat", f.name
        s = z3.Solver()
        s.from_string(text)
        assert s.check() == z3.unsat, f.name
    assert not list(out_dir.glob("*.tmp"))


def test_certificates_bad_out_is_one_line_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run("certificates", "--out", str(blocker))
    assert code == 2 and err.count("\n") == 1 and "--out" in err
