"""``verify report``: one page (``DIR/index.html``, and ``DIR/report.md``) about every claim.

The page opens with a summary: what we found — drawn from the full-size results committed
in ``docs/results/`` — and one line per claim of the paper (the check or experiment that
tests it, marked *extension* where the statement goes beyond the paper; the verdict:
agrees / differs / inconclusive; the evidence level; a link to the details). Then the
``verify all`` table, the audit of Tables 1–2, what each check found, Theorem 4 in pictures
(forced-zero masks, and the explorer page written beside the report), and one section per
experiment: the committed full-size result, then this run's setup (stated once;
experiments that share it say so), a compact table (at most 8 columns; every field of every
row is in ``NAME.json``, linked) and the captioned figures. Runs that did not reach their
loss target are flagged. A glossary defines every code name and term.

Verdicts. A check that passes agrees with the paper (for an extension: its statement
holds), one that fails differs, anything else (unknown, error, skipped) is inconclusive.
An experiment's verdict is the one it reports (``verdict`` on the result or on its rows,
over seeds and readings); without one it is inconclusive, and every experiment in quick
mode is inconclusive: small images and capped iterations cannot decide a claim about the
paper's sizes.

One source: the page is one Markdown document (``templates/report.md.j2``); ``report.md``
is that document and ``index.html`` its rendering (:mod:`verifier.report_render`). Everything
is static: figures are PNG files beside the page, maths is MathML, no script, no network;
the page opens from ``file://``. Both files are written atomically.
"""

from __future__ import annotations

import os
import platform
import re
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from numerics import EXPERIMENT_MODULES, get_experiment

from .report_findings import COMMITTED, Committed, findings, load_committed
from .report_render import render_report, source_to_html, source_to_markdown, strip_roles
from .report_tables import (
    METRICS_NOTE,
    caption,
    claim_row,
    compact,
    metrics_table,
    not_reached,
)
from .runner import run_experiment
from .store import write_atomic

__all__ = ["CLAIMS", "SECTION_OF", "strip_roles", "where", "write_report"]

TITLE = "Memorization in Overparameterized Autoencoders: the claims, checked"

#: The claim each experiment tests, and where the paper makes it (its section and figures).
CLAIMS: dict[str, tuple[str, str]] = {
    "table1": (
        "Shallow 3×3 linear conv autoencoders (2–8 layers, 1–128 filters) do not memorize "
        "two images",
        "Section 3.2, Table 1",
    ),
    "table2": (
        "Single-filter linear conv nets with ⌈s⁴/9⌉ layers memorize (spectrum: n eigenvalues "
        "near 1, the rest near 0)",
        "Section 3.2, Table 2",
    ),
    "table1-init": (
        "Table 1's 'no memorization' does not depend on the (unstated) initial scale",
        "Section 3.2, Table 1 (initialized 'close to zero')",
    ),
    "downsampling": (
        "Downsampling nets D1 and D2 memorize: rank = number of training images, top "
        "eigenvectors are the images",
        "Section 4, Figures 2–3",
    ),
    "nonlinear": (
        "Nonlinear (leaky-ReLU) nets send inputs to individual training images",
        "Section 5, Figures 4–6",
    ),
    "early-stopping": (
        "Memorization shows early in training",
        "Section 6, Figure 7",
    ),
    "initialization": (
        "With Xavier / Kaiming initializations the nets still memorize, less cleanly",
        "Section 6, Figure 8",
    ),
}

#: The section of the paper that states each result (a check's reference names the result).
SECTION_OF: dict[str, str] = {
    "Theorem 1": "Section 2.1",
    "Assumption 1": "Section 2.2",
    "Theorem 2": "Section 2.2",
    "Definitions 1-2": "Section 2.2",
    "Theorem 3": "Section 3.1",
    "Lemma 1": "Section 3.1",
    "Theorem 4": "Section 3.1",
}


def where(reference: str) -> str:
    """A check's reference with the section of each result it names, unless it says one:
    ``"Theorem 1; Appendix A"`` → ``"Theorem 1 (Section 2.1); Appendix A"``."""
    if "Section" in reference:
        return reference
    hits = [(m.start(), m.end(), sec) for result, sec in SECTION_OF.items()
            for m in [re.search(rf"\b{re.escape(result)}\b", reference)] if m]  # fmt: skip
    if not hits:
        return reference
    _, end, section = min(hits)
    return f"{reference[:end]} ({section}){reference[end:]}"


# ---------------------------------------------------------------------------- collected data


@dataclass
class _Claim:
    claim: str
    reference: str
    source: str  # check id or experiment name
    kind: str  # "paper claim", "extension" or "experiment"
    verdict: str
    evidence: str
    anchor: str
    note: str = ""


@dataclass
class _ExpSection:
    name: str
    summary: str = ""
    notes: str = ""
    notes_as: str = ""  # name of the earlier experiment with the same notes
    seconds: float = 0.0
    result: dict[str, Any] | None = None
    failure: str = ""
    figures: list[dict[str, str]] = field(default_factory=list)  # src, label, caption
    flagged: list[str] = field(default_factory=list)
    verdict: str = "inconclusive"
    verdict_note: str = ""
    full: Committed | None = None

    @property
    def claim(self) -> str:
        return CLAIMS.get(self.name, (self.summary or self.name, ""))[0]

    @property
    def where(self) -> str:
        return CLAIMS.get(self.name, ("", "the paper"))[1] or "the paper"


def _check_verdict(status: str) -> str:
    return {"pass": "agrees", "fail": "differs"}.get(status, "inconclusive")


def _experiment_verdict(result: dict[str, Any], quick: bool) -> tuple[str, str]:
    """(verdict, why) from the experiment's own verdict fields; quick mode → inconclusive."""
    if quick:
        return "inconclusive", "quick mode: small forms cannot decide the paper's claim"
    v = result.get("verdict")
    if isinstance(v, dict):
        v = v.get("verdict")
    if isinstance(v, str) and v in ("agrees", "differs", "inconclusive"):
        why = result.get("summary") or result.get("reading") or ""
        return v, why if isinstance(why, str) else ""
    rows = [r.get("verdict") for r in result.get("rows", [])]
    rows = [r.get("verdict") if isinstance(r, dict) else r for r in rows]
    if rows and all(isinstance(r, str) for r in rows):
        if all(r == "agrees" for r in rows):
            return "agrees", "every row agrees"
        if any(r == "differs" for r in rows):
            n = sum(r == "differs" for r in rows)
            return "differs", f"{n} of {len(rows)} rows differ"
        return "inconclusive", "some rows are inconclusive"
    return "inconclusive", "the experiment reports no verdict; read its rows"


def _setup_lines(quick: bool, device: str, seed: int, seconds: float | None) -> list[str]:
    import numpy

    try:
        import torch

        torch_v = str(torch.__version__)
    except ImportError:
        torch_v = "not installed"
    mode = "quick (small images, capped iterations)" if quick else "full (the paper's sizes)"
    return [
        f"mode: {mode}",
        f"device: {device}; seed: {seed}",
        f"python {platform.python_version()}, numpy {numpy.__version__}, torch {torch_v}, "
        f"{os.cpu_count()} CPU core(s), {platform.machine()}",
        "built: "
        + time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        + (f" in {seconds:.0f} s" if seconds is not None else ""),
    ]


def _run_section(
    name: str, seen_notes: dict[str, str], out: Path, log: TextIO, **run: Any
) -> _ExpSection:
    """Run one experiment into ``out``; a failure is recorded, never raised."""
    sec = _ExpSection(name)
    try:
        exp = get_experiment(name)
    except ImportError as exc:
        sec.failure = f"not available: {exc}"
        print(f"report: {name} skipped ({exc})", file=log)
        return sec
    sec.summary = exp.summary
    notes = strip_roles(exp.notes or "").strip()
    if notes and notes in seen_notes:
        sec.notes_as = seen_notes[notes]
    else:
        sec.notes = notes
        if notes:
            seen_notes[notes] = name
    t0 = time.perf_counter()
    try:
        res = run_experiment(name, out=out, progress=True, log=log, **run)
    except Exception as exc:  # an experiment that breaks must not take the page down
        sec.failure = f"failed: {type(exc).__name__}: {exc}"
        print(f"report: {name} failed\n{traceback.format_exc()}", file=log)
        return sec
    sec.seconds = time.perf_counter() - t0
    sec.result = res
    sec.verdict, sec.verdict_note = _experiment_verdict(res, run["quick"])
    sec.flagged = [
        f"{r.get('key')}: loss {r.get('loss'):.3g} after {r.get('iterations')} iterations — "
        "did not reach the loss target"
        for r in res["rows"]
        if not_reached(r) and isinstance(r.get("loss"), (int, float))
    ]
    for i, fig in enumerate(res.get("figures", []), 1):
        p = Path(fig)
        rel = p.relative_to(out) if p.is_relative_to(out) else p
        label = f"{name}, figure {i}" + (" (quick run)" if run["quick"] else "")
        sec.figures.append(
            {"src": rel.as_posix(), "label": label, "caption": caption(name, p.stem)}
        )
    print(f"report: {name} done in {sec.seconds:.0f} s", file=log)
    return sec


def _thm4_pictures(out: Path, log: TextIO) -> dict[str, Any] | None:
    """Forced-zero masks at depth s − 2 and s − 1 (s = 5), and the explorer page beside."""
    try:
        from symconv import conv_stack, factored_pattern

        from .explore import explore_page
        from .pictures import mask_figure
    except ImportError as exc:  # matplotlib missing: the section is left out
        print(f"report: Theorem 4 pictures skipped ({exc})", file=log)
        return None
    s, figures = 5, []
    for depth, what in ((s - 2, "forced zeros remain"), (s - 1, "full support")):
        pat = factored_pattern(conv_stack(s, depth, kernel=3, filters=1))
        assert pat is not None
        name = f"thm4-mask-s{s}-L{depth}.png"
        mask_figure(out / name, pat.dense(), size=s, depth=depth, kernel=3, filters=1)
        figures.append({
            "src": name,
            "label": f"Theorem 4, s = {s}, L = {depth}",
            "caption": f"{depth} layers of 3×3 filters on {s}×{s} images: {what} "
            f"({pat.forced_zeros} forced zeros). Left: the {s * s}×{s * s} matrix, black = "
            "an entry some weights make nonzero, white = a forced zero; the row of output "
            "pixel (0, 0) is outlined. Right: the input pixels that output pixel (0, 0) "
            f"reaches. One layer more reaches one pixel further each way; the ringed entry pairs "
            f"opposite corners and is the last to fill: at L = s − 1 = {s - 1} it does, and no "
            "entry is forced to zero.",
        })  # fmt: skip
    write_atomic(out / "explore.html", explore_page(size=s))
    text = (
        "To change the size, depth, kernel and filters and watch the pattern fill in, open "
        "the [forced-zero explorer](explore.html) (`verify explore` writes it; one HTML "
        "file, no network). The paper's arc step by step, each step a question before its "
        "answer, is the walkthrough notebook `docs/walkthrough.py` (its steps are the "
        "explorer's lesson buttons)."
    )
    from .report_walkthrough import walkthrough_markdown

    return {"figures": figures, "explorer_text": text, "walkthrough": walkthrough_markdown()}


# ---------------------------------------------------------------------------- the report


def write_report(
    out: str | Path,
    *,
    quick: bool = True,
    device: str = "cpu",
    seed: int = 0,
    log: TextIO | None = None,
    checks: list[dict[str, Any]] | None = None,
    audit: tuple[list[str], list[list[str]]] | None = None,
    committed: Path | None = COMMITTED,
) -> Path:
    """Run every experiment into ``OUT`` and write ``OUT/index.html`` (returned) and
    ``OUT/report.md``, both from one Markdown source.

    ``checks`` are the rows of ``verify all --json`` (with ``reference`` and ``statement``)
    and ``audit`` the audit table (header, rows); the command line collects both from
    ``proofs`` (which this package does not import). Left out, those parts are left out.
    ``committed``: the folder of committed full-size results (``docs/results/``; ``None``:
    none), summarized first and copied to ``OUT/full/``.
    """
    t_start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    log = log if log is not None else sys.stderr
    seen: dict[str, str] = {}
    run = {"quick": quick, "device": device, "seed": seed}
    sections = [_run_section(name, seen, out, log, **run) for name in EXPERIMENT_MODULES]
    full = load_committed([s.name for s in sections], committed, out)
    for sec in sections:
        sec.full = full.get(sec.name)
    thm4 = _thm4_pictures(out, log)
    setup = _setup_lines(quick, device, seed, time.perf_counter() - t_start)
    data = _model(list(checks or []), audit, sections, setup, quick, thm4)
    source = render_report(data)
    index = out / "index.html"
    write_atomic(out / "report.md", source_to_markdown(source))
    write_atomic(index, source_to_html(source, TITLE))
    return index


def _claims(check_rows: list[dict[str, Any]], sections: list[_ExpSection]) -> list[_Claim]:
    claims = [
        _Claim(
            claim=r["title"],
            reference=where(r.get("reference", "")),
            source=r["id"],
            kind="extension" if r.get("extension") else "paper claim",
            verdict=_check_verdict(r["status"]),
            evidence=r["evidence"],
            anchor=f"check-{r['id']}",
            note="(the extension holds)" if r.get("extension") and r["status"] == "pass" else "",
        )
        for r in check_rows
    ]
    for sec in sections:
        note = sec.failure or sec.verdict_note
        if sec.full is not None and sec.full.verdict and sec.result is not None and sec.verdict \
                == "inconclusive":  # fmt: skip
            note = f"(quick run; full size, committed: {sec.full.verdict})"
        claims.append(
            _Claim(
                claim=sec.claim,
                reference=sec.where,
                source=sec.name,
                kind="experiment",
                verdict="inconclusive" if sec.result is None else sec.verdict,
                evidence="numeric (experiment)",
                anchor=f"exp-{sec.name}",
                note=note,
            )
        )
    return claims


def _counts(claims: list[_Claim]) -> str:
    parts = []
    for v in ("agrees", "differs", "inconclusive"):
        n = sum(c.verdict == v for c in claims)
        if n:
            parts.append(f"{n} {v}")
    n = len(claims)
    return f"{n} claim{'s' if n != 1 else ''}: " + ", ".join(parts)


def _section_view(sec: _ExpSection) -> dict[str, Any]:
    view: dict[str, Any] = {
        k: getattr(sec, k)
        for k in ("name", "summary", "notes", "notes_as", "seconds", "failure", "figures",
                  "flagged", "verdict", "verdict_note", "full", "claim", "where")
    }  # fmt: skip
    rows = sec.result["rows"] if sec.result is not None else []
    summary = sec.result.get("summary") if sec.result is not None else None
    view["result_summary"] = summary if isinstance(summary, str) else ""
    view["table"], view["metrics"] = compact(rows), metrics_table(rows)
    if sec.full is not None:
        from .report_findings import row_reading

        view["full_table"] = compact(sec.full.rows)
        view["full_lines"] = [f"`{r.get('key')}`: {row_reading(r)}" for r in sec.full.rows]
        view["full_figures"] = [
            {"src": src, "label": f"{sec.name}, full size, figure {i}",
             "caption": caption(sec.name, Path(src).stem)}
            for i, src in enumerate(sec.full.figures, 1)
        ]  # fmt: skip
    return view


def _model(
    check_rows: list[dict[str, Any]],
    audit: tuple[list[str], list[list[str]]] | None,
    sections: list[_ExpSection],
    setup: list[str],
    quick: bool,
    thm4: dict[str, Any] | None,
) -> dict[str, Any]:
    """Everything the template shows, as plain data."""
    from .report_glossary import GLOSSARY
    from .report_render import md_escape

    claims = _claims(check_rows, sections)
    checks = [
        {**r, "where": where(r.get("reference", "")),
         "kind": "extension" if r.get("extension") else "paper claim",
         "verdict": _check_verdict(r["status"])}
        for r in check_rows
    ]  # fmt: skip
    check_table = [
        [f"[`{r['id']}`](#check-{r['id']})", r["status"], r["evidence"],
         "*(extension)*" if r.get("extension") else "claim", f"{r['seconds']:.3f}",
         md_escape(r["title"])]
        for r in check_rows
    ]  # fmt: skip
    audit_md = None
    if audit is not None:
        audit_md = (
            [md_escape(h) for h in audit[0]],
            [[md_escape(c) for c in row] for row in audit[1]],
        )
    return {
        "title": TITLE,
        "quick": quick,
        "committed": any(s.full is not None for s in sections),
        "findings": findings(sections),
        "check_rows": checks,
        "check_counts": ", ".join(
            f"{sum(r['status'] == s for r in check_rows)} {s}"
            for s in ("pass", "fail", "unknown", "error", "skipped")
            if any(r["status"] == s for r in check_rows)
        ),
        "n_paper": sum(not r.get("extension") for r in check_rows),
        "extensions": [r for r in checks if r["kind"] == "extension"],
        "audit": audit_md,
        "audit_notes": sum(1 for row in (audit or ([], []))[1] if row[-1] != "consistent"),
        "counts": _counts(claims),
        "claim_rows": [claim_row(c) for c in claims],
        "check_table": check_table,
        "setup": setup,
        "thm4": thm4,
        "sections": [_section_view(s) for s in sections],
        "metrics_note": METRICS_NOTE,
        "glossary": [{"id": i, "term": t, "text": d} for i, t, d in GLOSSARY],
    }
