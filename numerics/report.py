"""``verify report``: every experiment run into one folder, and one Markdown page about them.

For each experiment in :data:`numerics.EXPERIMENT_MODULES` the page gives the paper's setup
and our choices where the paper is silent (the experiment's ``notes``), the measured numbers
(one table per experiment) and the figures (relative links). An experiment whose module is
missing or fails is reported in one line and the others still run.
"""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path
from typing import Any, TextIO

from ._experiment import EXPERIMENT_MODULES, get_experiment, run_experiment

__all__ = ["write_report"]

_SKIP = {"key", "spectrum", "metrics", "arrays", "top_eigenvalues", "eigvec_span_residual"}


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v[:4]) + (", …" if len(v) > 4 else "") + "]"
    return str(v).replace("|", "\\|")


def _table(header: list[str], body: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in body]
    return lines


def _rows_table(rows: list[dict[str, Any]]) -> list[str]:
    cols: list[str] = []
    for row in rows:
        for k, v in row.items():
            if k not in _SKIP and k not in cols and not isinstance(v, dict):
                cols.append(k)
    cols = ["key", *cols]
    if any(r.get("spectrum") for r in rows):
        cols.append("spectrum")
    for extra in ("top_eigenvalues", "eigvec_span_residual"):
        if any(extra in r for r in rows):
            cols.append(extra)
    return _table(cols, [[r.get(c, "") for c in cols] for r in rows])


def _metrics_table(rows: list[dict[str, Any]]) -> list[str]:
    body = []
    for r in rows:
        for s, m in (r.get("metrics") or {}).items():
            body.append(
                [
                    r["key"],
                    s,
                    m.get("n"),
                    m.get("nearest_median"),
                    m.get("ray_median"),
                    m.get("span_median"),
                    m.get("landed"),
                    m.get("landed_exact"),
                    m.get("iterated_landed"),
                    m.get("which"),
                ]
            )
    if not body:
        return []
    header = [
        "row",
        "inputs",
        "n",
        "nearest (median)",
        "ray (median)",
        "span (median)",
        "landed",
        "landed exactly",
        "iterated landed",
        "closest training image (counts)",
    ]
    return [
        "",
        "Outputs on test inputs (see `numerics/_metrics.py`): *nearest* = distance to the "
        "nearest training image / its norm; *ray* = distance to the nearest positive "
        "multiple of a training image / output norm; *span* = distance to the span / output "
        "norm; *landed* = fraction with ray ≤ 0.1; *iterated landed* = the same after "
        "applying the map 20 times.",
        "",
        *_table(header, body),
    ]


def write_report(
    out: str | Path,
    *,
    quick: bool = True,
    device: str = "cpu",
    seed: int = 0,
    log: TextIO | None = None,
) -> Path:
    """Run every experiment with ``--out OUT`` and write ``OUT/report.md``; returns its path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    log = log if log is not None else sys.stderr
    mode = "quick (small images, few iterations)" if quick else "full (the paper's sizes)"
    lines = [
        "# Memorization in Overparameterized Autoencoders: the experiments, rerun",
        "",
        f"Mode: {mode}; device `{device}`; seed {seed}. Each section gives the paper's setup "
        "and our choices where it is silent, the measured rows (also in `NAME.json`) and "
        "the figures.",
        "",
    ]
    for name in EXPERIMENT_MODULES:
        lines.append(f"## {name}")
        lines.append("")
        try:
            exp = get_experiment(name)
        except ImportError as exc:
            lines += [f"*Not available: {exc}.*", ""]
            print(f"report: {name} skipped ({exc})", file=log)
            continue
        t0 = time.perf_counter()
        try:
            res = run_experiment(
                name, quick=quick, device=device, seed=seed, out=out, progress=True, log=log
            )
        except Exception as exc:  # an experiment that breaks must not take the page down
            lines += [f"*{exp.summary}*", "", f"**Failed:** `{type(exc).__name__}: {exc}`", ""]
            print(f"report: {name} failed\n{traceback.format_exc()}", file=log)
            continue
        secs = time.perf_counter() - t0
        lines += [f"*{exp.summary}* ({secs:.0f} s)", ""]
        if exp.notes:
            lines += ["**Setup and choices.**", "", exp.notes, ""]
        lines += _rows_table(res["rows"])
        lines += _metrics_table(res["rows"])
        lines.append("")
        for fig in res.get("figures", []):
            rel = Path(fig).relative_to(out) if Path(fig).is_relative_to(out) else Path(fig)
            lines += [f"![{rel.stem}]({rel.as_posix()})", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
