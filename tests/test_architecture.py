"""The layering of the README: three libraries under one program, one error class per
layer, one home for the paper's printed data."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import paperdata
import symconv
from numerics import ExperimentError
from verifier import UsageError
from verifier.cli import main


def test_the_programs_error_names_the_argument_and_cuts_long_values():
    exc = UsageError("--size", 0, "must be a positive integer")
    assert isinstance(exc, ValueError)
    assert (exc.argument, exc.value) == ("--size", 0)
    assert str(exc) == "--size: must be a positive integer (got 0)"
    assert str(UsageError("--out", "x" * 500, "bad")).endswith("(500 characters))")


@pytest.mark.parametrize(
    "exc",
    [symconv.SymconvError("size", 0, "must be positive"), ExperimentError("size", 0, "bad")],
    ids=["symconv", "numerics"],
)
def test_library_errors_are_value_errors_naming_the_argument(exc):
    assert isinstance(exc, ValueError) and not isinstance(exc, UsageError)
    assert (exc.argument, exc.value) == ("size", 0)


def test_a_library_error_at_the_boundary_is_one_line_and_exit_2(monkeypatch, capsys):
    import io

    import verifier.cli_masks as masks

    def boom(*_a, **_k):
        raise ExperimentError("--images", "y" * 400, "not an image")

    monkeypatch.setattr(masks, "_masks", boom)
    err = io.StringIO()
    assert main(["masks", "--size", "3", "--depth", "1"], io.StringIO(), err) == 2
    line = err.getvalue()
    assert line.count("\n") == 1 and "--images: not an image" in line and len(line) < 300


def test_a_bug_keeps_its_traceback(monkeypatch):
    import io

    import verifier.cli_masks as masks

    def bug(*_a, **_k):
        raise ValueError("a bug, not a user's mistake")

    monkeypatch.setattr(masks, "_masks", bug)
    with pytest.raises(ValueError, match="a bug"):
        main(["masks", "--size", "3", "--depth", "1"], io.StringIO(), io.StringIO())


def test_symconv_values_are_shown_in_full():
    long = "x" * 500
    assert str(symconv.SymconvError("shape", long, "bad")).endswith(repr(long) + ")")


def test_the_command_line_imports_no_numpy_to_report_a_mistake():
    code = "import sys, verifier.cli; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_printed_tables_have_every_row_once():
    assert len(paperdata.TABLE1) == 9 and len(paperdata.TABLE2) == 9
    assert [r.skip for r in paperdata.TABLE2] == [False] * 4 + [True] * 2 + [False, True, True]
    assert all(r.filters == 1 for r in paperdata.TABLE2)
    assert {r.size for r in paperdata.TABLE1} == {3}


PACKAGES = ("symconv", "paperdata", "numerics", "proofs", "verifier")
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
    """The package's modules; ``proofs/__main__.py`` is the program's old entry point (it
    only calls :func:`verifier.cli.main`), not part of the library."""
    files = sorted((ROOT / package).glob("*.py"))
    return [f for f in files if (package, f.name) != ("proofs", "__main__.py")]


def _imports_where(package: str, bad: Callable[[str, bool], bool]) -> list[str]:
    """``FILE: MODULE`` for every import of ``package`` with ``bad(module, at_top_level)``."""
    return [
        f"{path.name}: {name}"
        for path in _package_files(package)
        for name, top in _imports(path)
        if bad(name, top)
    ]


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
    [
        ("symconv", {"paperdata", "numerics", "proofs", "verifier"}),
        ("paperdata", {"numerics", "proofs", "verifier"}),
        ("numerics", {"proofs", "verifier"}),
        ("proofs", {"verifier"}),
    ],
    ids=[
        "symconv-stands-alone",
        "paperdata-on-symconv",
        "numerics-never-imports-proofs-or-the-program",
        "proofs-never-imports-the-program",
    ],
)
def test_floors_point_down(package, forbidden):
    bad = _imports_where(package, lambda name, _: name.split(".")[0] in forbidden)
    assert bad == []


def test_proofs_imports_numerics_only_lazily():
    """torch and the experiments load only when a torch check or an experiment runs."""
    bad = _imports_where("proofs", lambda name, top: top and name.split(".")[0] == "numerics")
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


def test_symconv_is_mathematics_only():
    """No file writing, pictures, program errors or printed tables in the mathematics."""
    names = {p.name for p in _package_files("symconv")}
    assert not names & {"_atomic.py", "_png.py", "_figure.py", "_paper.py"}
    bad = _imports_where(
        "symconv",
        lambda name, _: name.split(".")[0] in {"matplotlib", "PIL", "tempfile", "argparse"},
    )
    assert bad == []


def test_libraries_open_no_files_for_experiments():
    """numerics writes figures and arrays only through the run's Output."""
    bad = _imports_where(
        "numerics",
        lambda name, _: name in {"tempfile", "verifier"} or name.startswith("verifier."),
    )
    assert bad == []
