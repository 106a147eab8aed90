"""The shared pieces the three packages stand on: one error class, one home for the paper."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import symconv
from numerics import ExperimentError, StoreError
from proofs import UsageError


@pytest.mark.parametrize("cls", [symconv.SymconvError, UsageError, ExperimentError, StoreError])
def test_every_argument_error_is_the_one_base(cls):
    exc = cls("--size", 0, "must be a positive integer")
    assert isinstance(exc, symconv.ArgumentError)
    assert isinstance(exc, ValueError)
    assert (exc.argument, exc.value) == ("--size", 0)
    assert str(exc) == "--size: must be a positive integer (got 0)"


def test_long_values_are_cut_except_symconv_ones():
    long = "x" * 500
    assert str(UsageError("--out", long, "bad")).endswith("(500 characters))")
    assert str(symconv.SymconvError("shape", long, "bad")).endswith(repr(long) + ")")


def test_the_command_line_imports_no_numpy_to_report_a_mistake():
    code = "import sys, proofs.cli; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_printed_tables_have_every_row_once():
    assert len(symconv.TABLE1) == 9 and len(symconv.TABLE2) == 9
    assert [r.skip for r in symconv.TABLE2] == [False] * 4 + [True] * 2 + [False, True, True]
    assert all(r.filters == 1 for r in symconv.TABLE2)
    assert {r.size for r in symconv.TABLE1} == {3}


PACKAGES = ("symconv", "numerics", "proofs")
ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported module, at module level?) for every import statement of one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    # imports under ``if TYPE_CHECKING:`` at top level count as top level
    for node in tree.body:
        if isinstance(node, ast.If):
            top.update(id(n) for n in ast.walk(node))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.module, id(node) in top))
            out += [(f"{node.module}.{a.name}", id(node) in top) for a in node.names]
    return out


def _package_files(package: str) -> list[Path]:
    return sorted((ROOT / package).glob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_packages_meet_only_through_their_init(package):
    """The import rule of the README: another package's private modules are off limits."""
    bad = []
    for path in _package_files(package):
        for name, _ in _imports(path):
            parts = name.split(".")
            if parts[0] in PACKAGES and parts[0] != package and len(parts) > 1:
                if parts[1].startswith("_"):
                    bad.append(f"{path.name}: {name}")
    assert bad == []


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("symconv", {"numerics", "proofs"}), ("numerics", {"proofs"})],
    ids=["symconv-stands-alone", "numerics-never-imports-proofs"],
)
def test_floors_point_down(package, forbidden):
    bad = [
        f"{path.name}: {name}"
        for path in _package_files(package)
        for name, _ in _imports(path)
        if name.split(".")[0] in forbidden
    ]
    assert bad == []


def test_proofs_imports_numerics_only_lazily():
    """torch and the experiments load only when a torch check or an experiment runs."""
    bad = [
        f"{path.name}: {name}"
        for path in _package_files("proofs")
        for name, top in _imports(path)
        if top and name.split(".")[0] == "numerics"
    ]
    assert bad == []


def test_tests_use_the_public_result_types():
    bad = [
        path.name
        for path in sorted((ROOT / "tests").glob("*.py"))
        if any(name.startswith("proofs._result") for name, _ in _imports(path))
    ]
    assert bad == []


def test_checks_build_results_two_ways_only():
    """README, "Adding a check": ``Result.verdict`` or ``Result.combine``, nothing else."""
    from proofs import CHECK_MODULES

    bad = []
    for module in CHECK_MODULES:
        path = ROOT / (module.replace(".", "/") + ".py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            if isinstance(f, ast.Name) and f.id == "Result":
                bad.append(f"{path.name}:{node.lineno} Result(...)")
            if (
                isinstance(f, ast.Attribute)
                and isinstance(f.value, ast.Name)
                and f.value.id == "Result"
                and f.attr not in ("verdict", "combine")
            ):
                bad.append(f"{path.name}:{node.lineno} Result.{f.attr}")
    assert bad == []
