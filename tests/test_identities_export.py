"""Standalone sympy scripts for the identities behind proof verdicts (verify certificates)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from proofs import _identities
from verifier.cli import main

#: the identities of the checks the module fixture exports (``--only thm1.closed,thm2.assump``)
NAMES = [i.name for i in _identities.for_checks({"thm1.closed-form", "thm2.assumption-c"})]


def _run_script(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    out_dir = tmp_path_factory.mktemp("certs")
    out, err = io.StringIO(), io.StringIO()
    code = main(["certificates", "--out", str(out_dir), "--only", "thm1.closed,thm2.assump"],
                out, err)  # fmt: skip
    assert code == 0, err.getvalue()
    return out_dir, code, out.getvalue()


def test_certificates_write_one_script_per_identity(exported: tuple[Path, int, str]) -> None:
    out_dir, _, printed = exported
    assert sorted(p.name for p in out_dir.glob("*.py")) == sorted(f"{n}.py" for n in NAMES)
    index = json.loads((out_dir / "index.json").read_text())
    scripts = [e for e in index["files"] if e["kind"] == "sympy"]
    assert {e["file"] for e in scripts} == {f"{n}.py" for n in NAMES}
    assert all(e["status"] == "pass" for e in scripts)
    assert {e["check"] for e in scripts} == {"thm1.closed-form", "thm2.assumption-c"}
    smt2 = sorted(p.name for p in out_dir.glob("*.smt2"))
    assert smt2 and smt2 == sorted(e["file"] for e in index["files"] if e["kind"] == "smt2")
    assert f"{len(smt2)} obligations" in printed and f"{len(NAMES)} sympy identities" in printed
    assert not list(out_dir.glob("*.tmp")) and not list(out_dir.glob(".*"))


@pytest.mark.parametrize("name", ["thm1.gradient", "thm1.base-case", "thm2.tanh-d2"])
def test_exported_script_runs_standalone_and_prints_ok(
    exported: tuple[Path, int, str], name: str
) -> None:
    text = (exported[0] / f"{name}.py").read_text()
    assert "import sympy as sp" in text and "proofs" not in text.split('"""', 2)[2]
    assert _identities.get(name).check in text
    done = _run_script(exported[0] / f"{name}.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"OK {name}"


def test_script_of_a_wrong_exponent_exits_1(tmp_path: Path) -> None:
    """A(t) = I - (I - gamma S)^(t+1): the base case leaves gamma S, the script says so."""
    path = tmp_path / "wrong.py"
    path.write_text(_identities.script("thm1.base-case", OFFSET=1))
    done = _run_script(path)
    assert done.returncode == 1
    assert done.stdout.startswith("FAIL thm1.base-case: residual") and "gamma*S" in done.stdout


def test_checks_evaluate_the_exported_text() -> None:
    assert all(_identities.evaluate(n)[2] is None for n in NAMES)
    assert _identities.evaluate("thm1.base-case", OFFSET=2)[2] is not None
    with pytest.raises(ValueError, match="no parameter"):
        _identities.script("thm1.gradient", OFFSET=1)
