"""The README lists every registered check and keeps its two quick-start commands."""

from __future__ import annotations

from pathlib import Path

from proofs import load_all

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_readme_lists_every_check_with_its_evidence() -> None:
    for check in load_all():
        assert f"| `{check.id}` | {check.evidence} |" in README, check.id


def test_readme_quick_start_commands() -> None:
    assert 'pip install torch==2.13.0 -e ".[numerics,test]" && verify all' in README
    assert "python -m pytest" in README
