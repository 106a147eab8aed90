"""The README lists every registered check and keeps its two quick-start commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from proofs import load_all

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_readme_lists_every_check_with_its_evidence() -> None:
    for check in load_all():
        assert f"| `{check.id}` | {check.evidence} |" in README, check.id


def test_readme_quick_start_commands() -> None:
    assert 'pip install torch==2.13.0 -e ".[numerics,test]" && verify all' in README
    assert "python -m pytest" in README


def _code_after(heading: str) -> str:
    """The first ```python block of a README section."""
    section = README.split(f"\n## {heading}\n", 1)[1]
    return section.split("```python\n", 1)[1].split("\n```", 1)[0]


def test_adding_a_check_example_runs_and_its_wrong_variant_fails(tmp_path, monkeypatch) -> None:
    import importlib

    from proofs import _registry, get, run

    (tmp_path / "readme_check_example.py").write_text(_code_after("Adding a check"))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        importlib.import_module("readme_check_example")
        check = get("demo.appendix-d")
        assert str(run(check, quick=True).result.status) == "pass"
        assert check.wrong, "the example declares a wrong variant"
        for wrong in check.wrong:
            out = run(check, quick=True, **wrong).result
            assert str(out.status) == "fail"
            assert out.data["counterexample"]["forced_zeros"] == 32
    finally:
        _registry._REGISTRY.pop("demo.appendix-d", None)
        import sys

        sys.modules.pop("readme_check_example", None)


@pytest.mark.parametrize("heading", ["Adding a check", "Adding an experiment"])
def test_extension_sections_name_real_places(heading: str) -> None:
    """Every file and registry the section points at exists."""
    import re

    import numerics
    import proofs

    section = README.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    root = Path(__file__).resolve().parents[1]
    paths = re.findall(r"`((?:proofs|numerics|symconv|tests)/[\w/]+\.py)`", section)
    assert paths
    new = {"proofs/appendix_d.py", "numerics/demo.py"}  # the examples' own (future) names
    assert [p for p in paths if p not in new and not (root / p).exists()] == []
    assert hasattr(proofs, "CHECK_MODULES") and hasattr(numerics, "EXPERIMENT_MODULES")


def test_adding_an_experiment_example_runs(tmp_path, monkeypatch) -> None:
    pytest.importorskip("torch")  # the experiment command needs the numerics extra
    import io
    import json
    import sys

    import numerics._experiment as experiment
    from verifier.cli import main

    (tmp_path / "readme_experiment_example.py").write_text(_code_after("Adding an experiment"))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(experiment.EXPERIMENT_MODULES, "demo", "readme_experiment_example")
    out, err = io.StringIO(), io.StringIO()
    try:
        code = main(["experiment", "demo", "--quick", "--out", str(tmp_path / "runs")], out, err)
    finally:
        sys.modules.pop("readme_experiment_example", None)
    assert code == 0, err.getvalue()
    stored = json.loads((tmp_path / "runs" / "demo.json").read_text())
    rows = {row["key"]: row for row in stored["rows"]}
    assert sorted(rows) == ["n1", "n2", "n3"]
    for n in (1, 2, 3):
        assert rows[f"n{n}"]["rank"] == n
        assert rows[f"n{n}"]["gap"] < 1e-8


def test_tests_named_in_the_docs_exist() -> None:
    """A test the README or docs cite as evidence is a real test (or test file)."""
    import re

    root = Path(__file__).resolve().parents[1]
    texts = [README] + [p.read_text(encoding="utf-8") for p in (root / "docs").glob("*.md")]
    texts.append((root / "benchmarks" / "README.md").read_text(encoding="utf-8"))
    source = "\n".join(p.read_text(encoding="utf-8") for p in (root / "tests").glob("*.py"))
    named = {m for text in texts for m in re.findall(r"\btest_[a-z0-9_]+", text)}
    assert named
    missing = [
        n
        for n in sorted(named)
        if f"def {n}(" not in source and not (root / "tests" / f"{n}.py").exists()
    ]
    assert missing == []


def test_the_module_map_names_every_module() -> None:
    root = Path(__file__).resolve().parents[1]
    section = README.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    for package in ("symconv", "paperdata", "proofs", "numerics", "verifier"):
        for path in sorted((root / package).glob("*.py")):
            if path.name not in ("__init__.py", "__main__.py"):
                assert path.name in section, f"{package}/{path.name} is missing from Layout"
