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

__all__ = ["COMMITTED", "Committed", "findings", "fmt", "load_committed", "row_reading"]

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


def findings(sections: list[Any]) -> list[dict[str, Any]]:
    """The "what we found" items: one per experiment section (``report._ExpSection``) with a
    committed full-size result: the verdict of each claim over the readings, or what each
    run measured."""

    out = []
    for sec in sections:
        com = sec.full
        if com is None:
            continue
        lines: list[str] = []
        if com.verdict:
            first = {c: why for c, _v, why in com.readings[0].claims} if com.readings else {}
            for claim, per in com.claim_verdicts():
                why = first.get(claim, "")
                lines.append(
                    f"{claim}: {_over_readings(per)}"
                    + (f" — rows of `{com.readings[0].name}`: {why}" if why else "")
                )
            seeds = sorted({s for r in com.readings for s in r.seeds})
            text = f"{len(com.rows)} rows" + (f", seeds {seeds[0]}–{seeds[-1]}" if seeds else "")
            if com.stopped_early:
                text += "; rows not finished when the runs were stopped are left out"
            text += ":"
        else:
            text = (
                "One seed per run, no verdict stated; each run measured (the share of test "
                "outputs that [land](#g-land) on a training image, in one pass and after "
                "[f²⁰](#g-iterated)):"
            )
            lines = [f"`{r.get('key')}`: {row_reading(r)}" for r in com.rows]
        out.append({
            "name": sec.name, "claim": sec.claim, "where": sec.where, "text": text,
            "lines": lines, "verdict": com.verdict or "measured",
        })  # fmt: skip
    return out


def _over_readings(per: list[tuple[str, str]]) -> str:
    """``agrees under every reading (6)`` or ``agrees under a, b; differs under c``."""
    verdicts = sorted({v for _, v in per})
    if len(verdicts) == 1:
        names = ", ".join(_reading_link(r) for r, _ in per)
        return f"**{verdicts[0]}** under every reading ({names})"
    return "; ".join(
        f"**{v}** under " + ", ".join(_reading_link(r) for r, w in per if w == v) for v in verdicts
    )


def _reading_link(name: str) -> str:
    """A reading's name, linked to the glossary entry that explains it."""
    parts = name.split("+")[-1]
    for prefix, entry in (("cstar", "cstar"), ("gain", "gain"), ("torch", "gain"),
                          ("identity", "skip"), ("plain", "skip")):  # fmt: skip
        if parts.startswith(prefix):
            return f"[`{name}`](#g-{entry})"
    return f"[`{name}`](#g-reading)"
