"""The tables and captions of ``verify report``, as Markdown cells.

Every cell is Markdown: plain values are escaped (:func:`verifier.report_render.md_escape`),
links and code spans are built here. The compact experiment table has at most 8 columns,
those the rows have, in a fixed order; every field of every row is in ``NAME.json``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .report_findings import fmt
from .report_render import md_escape

__all__ = ["METRICS_NOTE", "caption", "claim_row", "compact", "metrics_table", "not_reached"]


def not_reached(row: dict[str, Any]) -> bool:
    """A run that stopped before its loss target (early stopping is meant to)."""
    return row.get("reached") is False and "stopped_at" not in row


def _spectrum_head(row: dict[str, Any]) -> list[float] | None:
    s = row.get("spectrum")
    return [float(x) for x in s[:4]] if isinstance(s, list) and s else None


def _loss_cell(row: dict[str, Any]) -> str:
    loss = row.get("loss")
    text = fmt(loss) if isinstance(loss, (int, float)) else "—"
    return text + (" ⚠ target not reached" if not_reached(row) else "")


def _filters(row: dict[str, Any]) -> Any:
    """What ran, and the paper's count where the quick form ran fewer."""
    f, printed = row.get("filters"), row.get("filters_printed")
    if f is not None and printed is not None and printed != f:
        return f"{f} (paper: {printed})"
    return f


def _memorized_cell(row: dict[str, Any]) -> Any:
    """The operator verdict; a linear Section 4-6 net that did not train says so."""
    if "memorized" in row and row["memorized"] is None and row.get("trained") is False:
        return "did not train"
    return row.get("memorized")


_Col = tuple[str, Callable[[dict[str, Any]], Any]]

_COLUMNS: list[_Col] = [
    ("[row](#g-row-code)", lambda r: r.get("key")),
    ("layers", lambda r: r.get("layers", r.get("depth"))),
    ("filters", _filters),
    ("n", lambda r: r.get("train_examples", r.get("n_train"))),
    ("[seeds](#g-seed)",
     lambda r: len(r["seeds"]) if isinstance(r.get("seeds"), list) else r.get("seeds")),
    ("loss", lambda r: _loss_cell(r) if "loss" in r else None),
    ("[spectrum](#g-spectrum) (largest 4)", _spectrum_head),
    ("[verdict](#g-verdict)",
     lambda r: r["verdict"] if isinstance(r.get("verdict"), str) else None),
    ("[memorized](#g-memorized)", _memorized_cell),
    ("[span angle](#g-memorized)", lambda r: r.get("span_angle")),
    ("eigenvalues > 0.1", lambda r: r.get("n_eig_above_0.1")),
    ("reading", lambda r: r.get("reading") if isinstance(r.get("reading"), str) else None),
]  # fmt: skip


def compact(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """At most 8 columns, those the rows have, in a fixed readable order (Markdown cells)."""
    cols = [(h, f) for h, f in _COLUMNS if any(f(r) is not None for r in rows)]
    # too many: leave out the first columns that are the same in every row, then cut
    same = [c for c in cols[1:] if len({fmt(c[1](r)) for r in rows}) == 1]
    drop = same[: max(0, len(cols) - 8)]
    cols = [c for c in cols if c not in drop][:8]
    body = []
    for r in rows:
        cells = [md_escape(fmt(f(r))) for _, f in cols]
        cells = [f"**{c}**" if c in ("agrees", "differs", "inconclusive") else c for c in cells]
        body.append(cells)
    return [h for h, _ in cols], body


def metrics_table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Where the outputs on test inputs land, one line per row and input set."""
    body = []
    for r in rows:
        for s, m in (r.get("metrics") or {}).items():
            cells = [r.get("key"), s, m.get("landed"), m.get("iterated_landed"),
                     m.get("nearest_median"), m.get("ray_median"),
                     m.get("span_median")]  # fmt: skip
            body.append([md_escape(fmt(c)) for c in cells])
    header = ["row", "inputs", "[landed](#g-land)", "[landed after f²⁰](#g-iterated)",
              "[nearest](#g-distances)", "ray", "span"]  # fmt: skip
    return header, body


METRICS_NOTE = (
    "Where the outputs on test inputs go: [landed](#g-land) = the fraction of outputs within "
    "10 % (of their norm) of a positive multiple of one training image; landed after "
    "[f²⁰](#g-iterated) = the same after applying the map 20 times; nearest / ray / span = "
    "median distance to the nearest training image, to its ray, to the span of the training "
    "images, each relative to the output's norm."
)


def caption(exp: str, stem: str) -> str:
    """The caption of an experiment's figure, from its file name (Markdown)."""
    table = {
        "table1_spectra": "Table 1: eigenvalue magnitudes of each trained end-to-end matrix, "
        "one panel per row (title: the row code, layers × filters, seeds; the fraction of "
        "seeds that memorized and the row's verdict); a memorizing spectrum has n = 2 values "
        "near 1, then drops.",
        "table2_spectra": "Table 2: eigenvalue magnitudes of each trained end-to-end matrix, "
        "one panel per row; a memorizing spectrum has n values near 1, then drops.",
        "table1-init_spectra": "Table 1 at every initial scale: eigenvalue magnitudes, one "
        "panel per row.",
        "downsampling-spectra": "D1 and D2 (Figures 2–3): eigenvalue magnitudes of the exact "
        "end-to-end matrices (the first 32); the dashed line of each run is at i = n, the "
        "number of its training images; open circles are values below 10⁻¹² of the largest. "
        "A run that did not reach its loss target says so in the legend.",
    }
    if stem in table:
        return table[stem]
    key = stem[len(exp) + 1 :] if stem.startswith(exp + "-") else stem
    what = {
        "downsampling": "Training images, their reconstructions, then input → output for each "
        "kind of test input, and the top eigenvectors",
        "nonlinear": "Training images, reconstructions, then input → output for "
        "Gaussian inputs, random squares and held-out images",
        "early-stopping": "Input → output after stopping early",
        "initialization": "Input → output after training from this initialization",
    }.get(exp, "Figure")
    iterated = (
        ", and the output of the map applied 20 times ([f^20](#g-iterated))"
        if exp in ("nonlinear", "early-stopping")
        else ""
    )
    return (
        f"`{key}`: {what}{iterated}. Each column has one colour scale (its range under "
        "the label; [0, 1] for images), so weak outputs look dark and sign-flipped ones "
        "inverted; the norm of each image is printed under it. Click for full size."
    )


def claim_row(c: Any) -> list[str]:
    """One line of the summary table (a ``report._Claim``)."""
    badge = f"*({c.kind})* " if c.kind == "extension" else ""
    verdict = f"**{c.verdict}**" + (f" {md_escape(c.note)}" if c.note else "")
    return [
        badge + md_escape(c.claim),
        md_escape(c.reference),
        f"[`{c.source}`](#{c.anchor})",
        verdict,
        md_escape(c.evidence),
    ]
