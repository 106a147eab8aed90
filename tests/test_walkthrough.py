"""docs/walkthrough.py: the guided walkthrough, a Jupyter notebook kept as text (jupytext
percent format), executed here with nbclient in a python3 kernel; each step asks first and
answers after, and the explorer offers the same steps as presets."""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "walkthrough.py"

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")


def _steps(nb: Any) -> list[tuple[str, str]]:
    """(heading title, the markdown from that heading to the next step) per step."""
    text = "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    parts = re.split(r"^## Step (\d) · (.+)$", text, flags=re.M)
    return [(parts[i + 1], parts[i + 2]) for i in range(1, len(parts) - 1, 3)]


def test_eight_steps_each_predict_then_answer() -> None:
    nb = jupytext.read(NOTEBOOK)
    steps = _steps(nb)
    assert len(steps) == 8
    for title, body in steps:
        assert body.index("**Predict:**") < body.index("**Answer.**"), title

    # per step: the question (P), then code that computes the answer (c), then the answer (A)
    def kind(cell: Any) -> str:
        if cell.cell_type == "code":
            return "c"
        if "**Predict:**" in cell.source:
            return "P"
        return "A" if "**Answer.**" in cell.source else "m"

    flow = "".join(kind(c) for c in nb.cells)
    assert re.fullmatch(r"[mc]*(P[m]*c[mc]*A[mc]*){8}", flow), flow


def test_the_explorer_has_the_same_steps() -> None:
    page = (ROOT / "verifier" / "explore_page.html").read_text(encoding="utf-8")
    for title, _ in _steps(jupytext.read(NOTEBOOK)):
        assert f'"{title}"' in page, title


@pytest.mark.slow
def test_walkthrough_executes_in_a_python3_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    # the kernel is this interpreter's ipykernel: its folder first on PATH ("python" in the
    # kernelspec), the checkout on PYTHONPATH (its packages, not an installed copy)
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    nb = jupytext.read(NOTEBOOK)
    t0 = time.perf_counter()
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    )
    client.execute()
    seconds = time.perf_counter() - t0
    print(f"walkthrough executed in {seconds:.1f} s")
    assert seconds < 120
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    for line in (
        "eigenvalues of A: [1. 1. 0. 0. 0. 0. 0. 0. 0.]",
        "reachable entries: 169 of 625; forced zeros: 456",
        "L = 5: reaches 36 pixels, (5,5) reached: True",
        "s = 12: least full depth 11",
        "F = 16: forced zeros 96",
        "s = 16: plain stack s − 1 = 15, with downsampling 7",
        "fig6-nonlinear : of 64 noise inputs, 36% end on a single training image",
    ):
        assert line in text, line
