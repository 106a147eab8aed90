"""The committed full-size results (``docs/results/NAME.json``) as ``verify report`` shows them.

A quick report cannot decide a claim about the paper's sizes; the full runs committed in
``docs/results/`` can. The report opens with what they found ("what we found": each
experiment's verdict over its readings and seeds, or, for the figure experiments, which
state none, the numbers each run measured) and shows each committed result beside the
quick run of the same experiment: its verdicts, its rows and its figures, copied into
``OUT/full/`` so that the page keeps working when moved.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["COMMITTED", "Committed", "fmt", "load_committed", "row_reading"]

#: Where the repository keeps the full-size results (absent from an installed wheel).
COMMITTED = Path(__file__).resolve().parents[1] / "docs" / "results"

_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def fmt(v: Any) -> str:
    """A number to 3 significant digits, powers of ten as ``3.6·10⁻⁷``; other values as text."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if v == 0 or not math.isfinite(v):
            return f"{v:g}"
        if 1e-3 <= abs(v) < 1e5:
            return f"{v:.3g}"
        mant, exp = f"{v:.2e}".split("e")
        mant = mant.rstrip("0").rstrip(".")
        return f"{mant}·10{str(int(exp)).translate(_SUP)}"
    if isinstance(v, list):
        return ", ".join(fmt(x) for x in v[:4]) + (", …" if len(v) > 4 else "")
    return str(v)


@dataclass
class Reading:
    """One reading of a committed Tables 1–2 result: its verdict and each claim's."""

    name: str
    verdict: str
    claims: list[tuple[str, str, str]]  # (claim, verdict, why)
    seeds: list[int]


@dataclass
class Committed:
    """One experiment's committed full-size result."""

    name: str
    rows: list[dict[str, Any]]
    verdict: str | None  # None: the experiment states no verdict (one seed, figures)
    readings: list[Reading] = field(default_factory=list)
    stopped_early: bool = False
    json_path: str = ""  # relative to the report folder
    figures: list[str] = field(default_factory=list)  # relative paths of the copied PNGs

    def claim_verdicts(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """(claim, [(reading, verdict)]) over the readings, claims in first-seen order."""
        out: dict[str, list[tuple[str, str]]] = {}
        for r in self.readings:
            for claim, verdict, _why in r.claims:
                out.setdefault(claim, []).append((r.name, verdict))
        return list(out.items())


def _readings(verdict: dict[str, Any]) -> list[Reading]:
    out = []
    for name, r in (verdict.get("readings") or {}).items():
        claims = [
            (c, str(v.get("verdict", "inconclusive")), str(v.get("why", "")))
            for c, v in (r.get("claims") or {}).items()
        ]
        out.append(Reading(name, str(r.get("verdict", "inconclusive")), claims, r.get("seeds", [])))
    return out


def _figure_stems(name: str, rows: list[dict[str, Any]]) -> set[str]:
    """The PNG stems an experiment writes: ``NAME_spectra``, ``NAME-spectra``, ``NAME-KEY``
    (so that ``table1`` does not pick up ``table1-init``'s figures)."""
    return {f"{name}_spectra", f"{name}-spectra"} | {f"{name}-{r.get('key')}" for r in rows}


def load_committed(names: list[str], source: Path | None, out: Path | None) -> dict[str, Committed]:
    """The committed results of ``names`` found in ``source``; with ``out``, their JSON and
    figures are copied to ``out/full/`` and the paths recorded relative to ``out``."""
    found: dict[str, Committed] = {}
    if source is None or not source.is_dir():
        return found
    for name in names:
        path = source / f"{name}.json"
        if not path.is_file():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        v = data.get("verdict")
        com = Committed(
            name=name,
            rows=list(data.get("rows", [])),
            verdict=v.get("verdict") if isinstance(v, dict) else None,
            readings=_readings(v) if isinstance(v, dict) else [],
            stopped_early=bool(data.get("stopped_early")),
        )
        stems = _figure_stems(name, com.rows)
        pngs = sorted(p for p in source.glob("*.png") if p.stem in stems)
        if out is not None:
            dest = out / "full"
            dest.mkdir(parents=True, exist_ok=True)
            for p in [path, *pngs]:
                shutil.copyfile(p, dest / p.name)
            com.json_path = f"full/{path.name}"
            com.figures = [f"full/{p.name}" for p in pngs]
        found[name] = com
    return found


def row_reading(row: dict[str, Any]) -> str:
    """What one figure-experiment row measured, in one line (its numbers, not a verdict)."""
    parts = []
    n = row.get("n_train", row.get("train_examples"))
    if n is not None:
        parts.append(f"{n} training image{'s' if n != 1 else ''}")
    spec = row.get("spectrum")
    if row.get("nonlinearity") == "linear" and isinstance(spec, list) and spec:
        parts.append("spectrum " + ", ".join(fmt(float(x)) for x in spec[:3]) + ", …")
    if row.get("paper_output_norm") is not None:
        parts.append(
            f"output norm before training {fmt(row.get('init_output_norm'))} "
            f"(paper {fmt(row['paper_output_norm'])})"
        )
    for s, m in (row.get("metrics") or {}).items():
        landed = m.get("landed_fraction", m.get("landed"))
        it = m.get("iterated_landed")
        text = f"{s.replace('_', '-')}: " + (
            f"{landed:.0%}" if isinstance(landed, float) else str(landed)
        )
        if isinstance(it, float):
            text += f" land, {it:.0%} after f²⁰"
        parts.append(text)
    return "; ".join(parts)
