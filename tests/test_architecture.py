"""The shared pieces the three packages stand on: one error class, one home for the paper."""

from __future__ import annotations

import subprocess
import sys

import pytest

import symconv
from numerics import ExperimentError
from numerics._store import StoreError
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
