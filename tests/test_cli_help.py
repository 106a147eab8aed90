"""The README's "Commands" block, every ``--help`` and the program agree, and the help says
what a newcomer needs (a description per command, a help line per option)."""

from __future__ import annotations

import argparse
import importlib.util
import re
from pathlib import Path

import pytest
from _cli import run

from verifier.cli import build_parser

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def _commands_block() -> dict[str, set[str]]:
    """``{command: flags}`` from the README's "Commands" block (continuation lines, indented,
    belong to the line above)."""
    section = README.split("\n## Commands\n", 1)[1]
    block = section.split("```text\n", 1)[1].split("\n```", 1)[0]
    found: dict[str, set[str]] = {}
    command = ""
    for line in block.splitlines():
        if line.startswith("verify "):
            command = line.split()[1]
            found.setdefault(command, set())
        assert command, line
        found[command] |= set(FLAG.findall(line))
    return found


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _help_of(*command: str) -> str:
    code, out, err = run(*command, "--help")
    assert code == 0 and err == "", err
    return out


def _help_flags(text: str) -> set[str]:
    """The flags a ``--help`` names in its usage and options (not in its examples)."""
    head = text.split("\nexamples:", 1)[0]
    return set(FLAG.findall(head)) - {"--help"}


def test_readme_lists_every_command_and_nothing_else() -> None:
    assert set(_commands_block()) == set(_subparsers())


def test_bare_verify_help_lists_every_command() -> None:
    text = _help_of()
    for name in _subparsers():
        assert re.search(rf"^\s+{re.escape(name)}\b", text, re.M), name


@pytest.mark.parametrize("command", sorted(_subparsers()))
def test_readme_and_help_name_the_same_flags(command: str) -> None:
    block = _commands_block()[command]
    helped = _help_flags(_help_of(command))
    options = {
        s for a in _subparsers()[command]._actions for s in a.option_strings if s.startswith("--")
    } - {"--help"}
    assert helped == options
    assert block == options, (sorted(options - block), sorted(block - options))


@pytest.mark.parametrize("command", sorted(_subparsers()))
def test_every_command_has_a_description_and_every_option_a_help_line(command: str) -> None:
    parser = _subparsers()[command]
    assert parser.description
    missing = [
        a.option_strings or a.dest
        for a in parser._actions
        if a.dest not in ("help", "_parser") and not a.help
    ]
    assert missing == []


def test_depth_help_has_a_description_line() -> None:
    text = _help_of("depth")
    assert "Theorem 4" in text.split("options:", 1)[0]


@pytest.mark.parametrize("command", ["check", "report"])
def test_json_and_quick_have_help_text_in_check_and_report(command: str) -> None:
    text = _help_of(command)
    for flag in ("--json", "--quick"):
        if flag in {s for a in _subparsers()[command]._actions for s in a.option_strings}:
            line = next(x for x in text.splitlines() if x.strip().startswith(flag))
            assert len(line.split()) > 1, line


def test_experiment_quick_help_says_seconds_as_the_readme_does() -> None:
    text = _help_of("experiment")
    options = text.split("\noptions:\n", 1)[1]
    line = " ".join(options.split("  --quick", 1)[1].split("\n  -", 1)[0].split())
    assert "seconds" in line and "minutes on a CPU" not in line
    assert "verify experiment table1 --quick                # seconds on a CPU" in text


def test_bare_verify_points_to_help() -> None:
    code, out, err = run()
    assert code == 2 and out == ""
    assert "COMMAND" in err and "verify --help" in err
    assert len(err.splitlines()) == 1


def test_unknown_command_points_to_help() -> None:
    code, _, err = run("frobnicate")
    assert code == 2 and "verify --help" in err


needs_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None, reason="the experiment command needs torch"
)


@needs_torch
def test_reading_list_of_one_experiment_lists_only_its_readings() -> None:
    code, out, err = run("experiment", "table1", "--reading", "list")
    assert code == 0, err
    rows = [line for line in out.splitlines() if not line.startswith("*")]
    assert rows and all(line.split()[0] == "table1" for line in rows), out


@needs_torch
def test_readings_explain_the_paper_words_tag() -> None:
    code, out, err = run("experiment", "readings")
    assert code == 0, err
    assert "[the paper's words]" in out
    legend = out.strip().splitlines()[-1]
    assert "[the paper's words] =" in legend and "* = runs by default" in legend


def test_readme_explains_the_paper_words_tag() -> None:
    text = " ".join(README.split())
    assert "`[the paper's words]`, on each axis, the reading that follows the paper's" in text


def test_every_timing_row_names_the_command_that_measures_it() -> None:
    """The README keeps its measured times in one table, each with its command."""
    root = Path(__file__).resolve().parents[1]
    section = README.split("\n## Performance\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) > 5
    for row in rows[1:]:
        command = row.rstrip(" |").rsplit("|", 1)[1]
        scripts = re.findall(r"python (benchmarks/\w+\.py)", command)
        assert scripts or re.search(
            r"`(time |/usr/bin/time )?(verify|python -m pytest)", command
        ), row
        assert all((root / s).exists() for s in scripts), row
