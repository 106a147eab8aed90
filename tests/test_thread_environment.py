"""Invalid thread settings in the environment (``OMP_NUM_THREADS=abc`` & co.) are dropped
before torch loads: no ``libgomp: Invalid value`` line beside the program's output, and
no endless loop (``GOMP_CPU_AFFINITY=abc`` hangs libgomp's start)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from verifier.environment import THREAD_VARIABLES, drop_invalid_thread_settings

ROOT = Path(__file__).resolve().parents[1]

VALID = {
    "OMP_NUM_THREADS": "2,1",
    "OMP_THREAD_LIMIT": " 4 ",
    "OMP_DYNAMIC": "TRUE",
    "OMP_PROC_BIND": "spread,close",
    "OMP_WAIT_POLICY": "passive",
    "OMP_STACKSIZE": "4M",
    "OMP_SCHEDULE": "guided,4",
    "GOMP_SPINCOUNT": "10k",
    "OMP_PLACES": "cores(2)",
    "GOMP_CPU_AFFINITY": "0 3 1-2 4-15:2",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "8",
}
INVALID = {
    "OMP_NUM_THREADS": ["abc", "", "0", "-1", "2,abc", "1.5", "٣", "1٣"],
    "OMP_THREAD_LIMIT": ["0", "x"],
    "OMP_DYNAMIC": ["yes"],
    "OMP_PROC_BIND": ["sideways"],
    "OMP_STACKSIZE": ["big"],
    "OMP_SCHEDULE": ["sometimes"],
    "GOMP_CPU_AFFINITY": ["abc", "0-"],
    "MKL_NUM_THREADS": ["abc", "0"],
    "OPENBLAS_NUM_THREADS": ["-4"],
}


def test_valid_settings_are_kept() -> None:
    env = dict(VALID, PATH="/bin")
    assert drop_invalid_thread_settings(env) == []
    assert env == dict(VALID, PATH="/bin")


@pytest.mark.parametrize(
    ("name", "value"),
    [(n, v) for n, vs in INVALID.items() for v in vs],
    ids=[f"{n}={v!r}" for n, vs in INVALID.items() for v in vs],
)
def test_an_invalid_setting_is_dropped_and_the_others_kept(name: str, value: str) -> None:
    env = {**VALID, name: value, "HOME": "/root"}
    assert drop_invalid_thread_settings(env) == [name]
    assert env == {**{k: v for k, v in VALID.items() if k != name}, "HOME": "/root"}


def test_every_variable_has_a_pattern_that_accepts_a_plain_count() -> None:
    counted = [n for n in THREAD_VARIABLES if n.endswith(("_THREADS", "_LIMIT"))]
    assert len(counted) >= 8
    assert drop_invalid_thread_settings(dict.fromkeys(counted, "3")) == []


def test_torch_after_the_program_prints_nothing_and_does_not_hang() -> None:
    """The program's package is imported first (as ``verify`` and ``python -m verifier``
    do); torch then starts its OpenMP runtime under the cleaned environment."""
    pytest.importorskip("torch")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "abc",
           "OMP_DYNAMIC": "maybe", "GOMP_CPU_AFFINITY": "abc", "MKL_NUM_THREADS": "x"}  # fmt: skip
    code = "import verifier, torch; print(float((torch.ones(64, 64) @ torch.ones(64)).sum()))"
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "4096.0\n", "")
