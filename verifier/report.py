"""``verify report``: one page (``DIR/index.html``, and ``DIR/report.md``) about every claim.

The page opens with a summary — one line per claim of the paper: the check or experiment
that tests it, the verdict (agrees / differs / inconclusive), the evidence level and a link
to the details — then the ``verify all`` table, the audit of Tables 1–2, what each check
found, and one section per experiment: the setup (stated once; experiments that share it
say so), a compact table (at most 8 columns; every field of every row is in ``NAME.json``,
linked) and the captioned figures. Runs that did not reach their loss target are flagged.

Verdicts. A check that passes agrees with the paper, one that fails differs, anything else
(unknown, error, skipped) is inconclusive. An experiment's verdict is the one it reports
(``verdict`` on the result or on its rows, over seeds and readings); without one it is
inconclusive, and every experiment in quick mode is inconclusive: small images and capped
iterations cannot decide a claim about the paper's sizes.

Everything is static: figures are PNG files beside the page, no script, no network; the page
opens from ``file://``. Both files are written atomically.
"""

from __future__ import annotations

import html
import os
import platform
import re
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from numerics import EXPERIMENT_MODULES, get_experiment

from .runner import run_experiment
from .store import write_atomic

__all__ = ["strip_roles", "write_report"]

#: The claim each experiment tests, and where the paper makes it.
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
        "Table 1 (initialization 'close to zero')",
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
        "Section 5, Figure 7",
    ),
    "initialization": (
        "With Xavier / Kaiming initializations the nets still memorize, less cleanly",
        "Section 6, Figure 8",
    ),
}

_ROLE = re.compile(r":(?:py:)?(?:mod|func|class|meth|attr|data|obj|exc|ref|doc):`~?([^`]+)`")


def strip_roles(text: str) -> str:
    """Sphinx roles (``:mod:`x```, ``:func:`~a.b```) → plain code spans (```x```)."""
    return _ROLE.sub(lambda m: f"`{m.group(1)}`", text)


# ---------------------------------------------------------------------------- collected data


@dataclass
class _Claim:
    claim: str
    reference: str
    source: str  # check id or experiment name
    kind: str  # "check" or "experiment"
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
    figures: list[tuple[str, str]] = field(default_factory=list)  # (relative path, caption)
    flagged: list[str] = field(default_factory=list)
    verdict: str = "inconclusive"
    verdict_note: str = ""


@dataclass(frozen=True)
class _Report:
    """What both renderings of the report (HTML and Markdown) show."""

    claims: list[_Claim]
    check_rows: list[dict[str, Any]]
    audit: tuple[list[str], list[list[str]]] | None
    sections: list[_ExpSection]
    setup: list[str]
    quick: bool


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


def _not_reached(row: dict[str, Any]) -> bool:
    """A run that stopped before its loss target (early stopping is meant to)."""
    return row.get("reached") is False and "stopped_at" not in row


def _caption(exp: str, stem: str) -> str:
    table = {
        "table1_spectra": "Table 1: eigenvalue magnitudes of each trained end-to-end matrix, "
        "one panel per row; a memorizing spectrum has n = 2 values near 1, then drops.",
        "table2_spectra": "Table 2: eigenvalue magnitudes of each trained end-to-end matrix, "
        "one panel per row; a memorizing spectrum has n values near 1, then drops.",
        "table1-init_spectra": "Table 1 at initial scales 1, ½ and 0.3: eigenvalue magnitudes.",
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
        "nonlinear": "Training images, reconstructions, then input → output for Gaussian "
        "inputs, random squares and held-out images",
        "early-stopping": "Input → output after stopping early",
        "initialization": "Input → output after training from this initialization",
    }.get(exp, "Figure")
    iterated = (
        ", and the output of the map applied 20 times (the iterated map)"
        if exp in ("nonlinear", "early-stopping")
        else ""
    )
    return (
        f"{exp} {key}: {what}{iterated}. Each column has one colour scale (its range under "
        "the label; [0, 1] for images), so weak outputs look dark and sign-flipped ones "
        "inverted; the norm of each image is printed under it."
    )


# ---------------------------------------------------------------------------- tables


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, list):
        return ", ".join(_fmt(x) for x in v[:4]) + (", …" if len(v) > 4 else "")
    return str(v)


def _spectrum_head(row: dict[str, Any]) -> list[float] | None:
    s = row.get("spectrum")
    return [float(x) for x in s[:4]] if isinstance(s, list) and s else None


def _loss_cell(row: dict[str, Any]) -> str:
    loss = row.get("loss")
    text = _fmt(loss) if isinstance(loss, (int, float)) else "—"
    return text + (" ⚠ target not reached" if _not_reached(row) else "")


_Col = tuple[str, Callable[[dict[str, Any]], Any]]

_COLUMNS: list[_Col] = [
    ("row", lambda r: r.get("key")),
    ("layers", lambda r: r.get("layers", r.get("depth"))),
    ("filters", lambda r: r.get("filters")),
    ("n", lambda r: r.get("train_examples", r.get("n_train"))),
    ("seeds", lambda r: len(r["seeds"]) if isinstance(r.get("seeds"), list) else r.get("seeds")),
    ("loss", lambda r: _loss_cell(r) if "loss" in r else None),
    ("spectrum (largest 4)", _spectrum_head),
    ("memorized", lambda r: r.get("memorized")),
    ("eigenvalues > 0.1", lambda r: r.get("n_eig_above_0.1")),
    ("verdict", lambda r: r["verdict"] if isinstance(r.get("verdict"), str) else None),
    ("reading", lambda r: r.get("reading") if isinstance(r.get("reading"), str) else None),
]


def _compact(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """At most 8 columns, those the rows have, in a fixed readable order."""
    cols = [(h, f) for h, f in _COLUMNS if any(f(r) is not None for r in rows)][:8]
    return [h for h, _ in cols], [[_fmt(f(r)) for _, f in cols] for r in rows]


def _metrics(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    body = []
    for r in rows:
        for s, m in (r.get("metrics") or {}).items():
            body.append(
                [
                    str(r.get("key")),
                    s,
                    _fmt(m.get("landed")),
                    _fmt(m.get("iterated_landed")),
                    _fmt(m.get("nearest_median")),
                    _fmt(m.get("ray_median")),
                    _fmt(m.get("span_median")),
                ]
            )
    header = ["row", "inputs", "landed", "landed after iterating", "nearest", "ray", "span"]
    return header, body


METRICS_NOTE = (
    "Outputs on test inputs: landed = fraction of outputs within 10 % (of their norm) of a "
    "positive multiple of one training image; landed after iterating = the same after "
    "applying the map 20 times (the iterated map); nearest / ray / span = median distance "
    "to the nearest training image, to its ray, to the span of the training images, each "
    "relative to the output's norm."
)


# ---------------------------------------------------------------------------- rendering


def _h(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _inline(text: str) -> str:
    """Escape, then `code` spans and **bold** as HTML (notes are written in Markdown)."""
    out = _h(strip_roles(text))
    out = re.sub(r"``([^`]+)``", r"<code>\1</code>", out)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", out)


def _paragraphs(text: str) -> str:
    paras = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "\n".join(f"<p>{_inline(p)}</p>" for p in paras)


def _html_table(header: list[str], body: list[list[str]], cls: str = "") -> str:
    head = "".join(f"<th>{_h(c)}</th>" for c in header)
    rows = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>\n" for row in body)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>\n{rows}</tbody></table>'


def _esc_rows(body: list[list[str]]) -> list[list[str]]:
    return [[_h(c) for c in row] for row in body]


def _md_table(header: list[str], body: list[list[str]]) -> list[str]:
    cell = lambda c: str(c).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    return [
        "| " + " | ".join(header) + " |",
        "|" + " --- |" * len(header),
        *["| " + " | ".join(cell(c) for c in row) + " |" for row in body],
    ]


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 72em;
       margin: 1em auto 3em; padding: 0 1em; color: #1d2330; line-height: 1.45; }
h1 { font-size: 1.5em; } h2 { margin-top: 2em; border-bottom: 1px solid #d8dce6; }
table { border-collapse: collapse; margin: 0.6em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #d8dce6; padding: 0.2em 0.55em; text-align: left;
         vertical-align: top; }
th { background: #eef1f7; }
td.num { text-align: right; }
.agrees { color: #0a6b2d; font-weight: 600; } .differs { color: #a3121f; font-weight: 600; }
.inconclusive { color: #8a5a00; font-weight: 600; }
.flag { color: #a3121f; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #e2e5ec; }
figcaption { font-size: 0.9em; color: #444; max-width: 60em; }
code { background: #eef1f7; padding: 0 0.2em; border-radius: 3px; white-space: nowrap; }
.small { font-size: 0.88em; color: #555; }
"""


def _verdict_html(v: str) -> str:
    return f'<span class="{_h(v)}">{_h(v)}</span>'


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
) -> Path:
    """Run every experiment into ``OUT`` and write ``OUT/index.html`` (returned) and
    ``OUT/report.md``.

    ``checks`` are the rows of ``verify all --json`` (with ``reference`` and ``statement``)
    and ``audit`` the audit table (header, rows); the command line collects both from
    ``proofs`` (which this package does not import). Left out, those parts are left out.
    """
    t_start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    log = log if log is not None else sys.stderr

    check_rows = list(checks or [])
    sections: list[_ExpSection] = []
    seen_notes: dict[str, str] = {}
    for name in EXPERIMENT_MODULES:
        sec = _ExpSection(name)
        sections.append(sec)
        try:
            exp = get_experiment(name)
        except ImportError as exc:
            sec.failure = f"not available: {exc}"
            print(f"report: {name} skipped ({exc})", file=log)
            continue
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
            res = run_experiment(
                name, quick=quick, device=device, seed=seed, out=out, progress=True, log=log
            )
        except Exception as exc:  # an experiment that breaks must not take the page down
            sec.failure = f"failed: {type(exc).__name__}: {exc}"
            print(f"report: {name} failed\n{traceback.format_exc()}", file=log)
            continue
        sec.seconds = time.perf_counter() - t0
        sec.result = res
        sec.verdict, sec.verdict_note = _experiment_verdict(res, quick)
        sec.flagged = [
            f"{r.get('key')}: loss {_fmt(r.get('loss'))} after {r.get('iterations')} "
            "iterations — did not reach the loss target"
            for r in res["rows"]
            if _not_reached(r)
        ]
        for fig in res.get("figures", []):
            p = Path(fig)
            rel = p.relative_to(out) if p.is_relative_to(out) else p
            sec.figures.append((rel.as_posix(), _caption(name, p.stem)))
        print(f"report: {name} done in {sec.seconds:.0f} s", file=log)

    claims: list[_Claim] = [
        _Claim(
            claim=r["title"],
            reference=r.get("reference", ""),
            source=r["id"],
            kind="check",
            verdict=_check_verdict(r["status"]),
            evidence=r["evidence"],
            anchor=f"check-{r['id']}",
        )
        for r in check_rows
    ]
    for sec in sections:
        claim, ref = CLAIMS.get(sec.name, (sec.summary or sec.name, ""))
        claims.append(
            _Claim(
                claim=claim,
                reference=ref,
                source=sec.name,
                kind="experiment",
                verdict="inconclusive" if sec.result is None else sec.verdict,
                evidence="numeric (experiment)",
                anchor=f"exp-{sec.name}",
                note=sec.failure or sec.verdict_note,
            )
        )
    total = time.perf_counter() - t_start
    setup = _setup_lines(quick, device, seed, total)
    index = out / "index.html"
    # no Sphinx role (:mod:`x`) reaches a reader, whichever docstring or detail it came from
    report = _Report(claims, check_rows, audit, sections, setup, quick)
    write_atomic(index, strip_roles(_render_html(report)))
    write_atomic(out / "report.md", strip_roles(_render_md(report)))
    return index


def _counts(claims: list[_Claim]) -> str:
    parts = []
    for v in ("agrees", "differs", "inconclusive"):
        n = sum(c.verdict == v for c in claims)
        if n:
            parts.append(f"{n} {v}")
    return ", ".join(parts)


def _render_html(rep: _Report) -> str:
    p: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src 'self' file: data:\">",
        "<title>Memorization in Overparameterized Autoencoders: the claims, checked</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Memorization in Overparameterized Autoencoders: the claims, checked</h1>",
        '<p class="small">A. Radhakrishnan, M. Belkin, C. Uhler (arXiv:1810.10333). '
        "Written by <code>verify report</code>.</p>",
        '<h2 id="summary">Summary</h2>',
        f"<p>{_h(len(rep.claims))} claims: {_h(_counts(rep.claims))}. A check that passes agrees; "
        "an experiment agrees or differs only when it says so over its seeds and readings"
        + ("; in quick mode every experiment is inconclusive" if rep.quick else "")
        + ".</p>",
    ]
    body = [
        [
            _h(c.claim),
            _h(c.reference),
            f'<a href="#{_h(c.anchor)}"><code>{_h(c.source)}</code></a>',
            _verdict_html(c.verdict)
            + (f'<br><span class="small">{_h(c.note)}</span>' if c.note else ""),
            _h(c.evidence),
        ]
        for c in rep.claims
    ]
    p.append(
        _html_table(
            ["paper claim", "where", "check or experiment", "verdict", "evidence"], body, "summary"
        )
    )
    p += ['<h2 id="setup">Setup</h2>', "<ul>"]
    p += [f"<li>{_h(s)}</li>" for s in rep.setup]
    p += [
        "</ul>",
        "<p>Evidence levels: <b>proof</b> holds for every size and value the statement "
        "covers (a symbolic identity, or z3 finding the negation unsatisfiable); <b>exact</b> "
        "exact arithmetic on the stated instances; <b>numeric</b> floating point within a "
        "stated tolerance. Experiments are numeric evidence about the paper's setups.</p>",
    ]
    if rep.check_rows:
        p.append('<h2 id="checks">Every check (<code>verify all</code>)</h2>')
        rows = [
            [
                f'<a href="#check-{_h(r["id"])}"><code>{_h(r["id"])}</code></a>',
                _h(r["status"]),
                _h(r["evidence"]),
                f'<span class="num">{r["seconds"]:.3f}</span>',
                _h(r["title"]),
            ]
            for r in rep.check_rows
        ]
        p.append(_html_table(["id", "status", "evidence", "seconds", "claim"], rows, "checks"))
    if rep.audit is not None:
        p += [
            '<h2 id="audit">Audit of Tables 1–2 (<code>verify audit</code>)</h2>',
            "<p>Every printed row, against the parameter count of its stated architecture "
            "(9·(2F + (L − 2)F²) weights) and against the heuristic bound ⌈s⁴/9⌉.</p>",
            _html_table(rep.audit[0], _esc_rows(rep.audit[1]), "audit"),
        ]
    if rep.check_rows:
        p.append('<h2 id="found">What the checks found</h2>')
        for r in rep.check_rows:
            p += [
                f'<h3 id="check-{_h(r["id"])}"><code>{_h(r["id"])}</code>: {_h(r["title"])}</h3>',
                f'<p class="small">{_h(r.get("reference", ""))} · evidence {_h(r["evidence"])} '
                f"· {_h(r['status'])} in {r['seconds']:.3f} s</p>",
                f"<p><b>Claim.</b> {_inline(r.get('statement', ''))}</p>",
                f"<p><b>Found.</b> {_inline(r['detail'])}</p>",
            ]
    p.append('<h2 id="experiments">Experiments</h2>')
    for sec in rep.sections:
        p += _section_html(sec)
    p.append("</body></html>")
    return "\n".join(p) + "\n"


def _section_html(sec: _ExpSection) -> list[str]:
    claim, ref = CLAIMS.get(sec.name, (sec.summary, ""))
    p = [
        f'<h3 id="exp-{_h(sec.name)}"><code>{_h(sec.name)}</code>: {_h(sec.summary)}</h3>',
        f'<p class="small">{_h(ref)} · claim: {_h(claim)}</p>',
    ]
    if sec.failure:
        return [*p, f'<p class="flag">{_h(sec.failure)}</p>']
    assert sec.result is not None
    p.append(
        f"<p>Verdict: {_verdict_html(sec.verdict)} — {_h(sec.verdict_note)} "
        f'({sec.seconds:.0f} s; every field of every row: <a href="{_h(sec.name)}.json">'
        f"{_h(sec.name)}.json</a>)</p>"
    )
    summary = sec.result.get("summary")
    if isinstance(summary, str) and summary:
        p.append(f"<p>{_inline(summary)}</p>")
    if sec.notes:
        p += [
            "<details><summary>Setup and choices where the paper is silent</summary>",
            _paragraphs(sec.notes),
            "</details>",
        ]
    elif sec.notes_as:
        p.append(
            f'<p class="small">Setup: as for <a href="#exp-{_h(sec.notes_as)}">'
            f"{_h(sec.notes_as)}</a>.</p>"
        )
    if sec.flagged:
        p.append('<p class="flag">⚠ ' + "<br>⚠ ".join(_h(f) for f in sec.flagged) + "</p>")
    header, body = _compact(sec.result["rows"])
    p.append(_html_table(header, _esc_rows(body), "rows"))
    mh, mb = _metrics(sec.result["rows"])
    if mb:
        p += [f'<p class="small">{_h(METRICS_NOTE)}</p>', _html_table(mh, _esc_rows(mb))]
    for i, (src, cap) in enumerate(sec.figures, 1):
        p.append(
            f'<figure><img src="{_h(src)}" alt="{_h(cap)}">'
            f"<figcaption><b>{_h(sec.name)}, figure {i}.</b> {_h(cap)}</figcaption></figure>"
        )
    return p


def _render_md(rep: _Report) -> str:
    lines = [
        "# Memorization in Overparameterized Autoencoders: the claims, checked",
        "",
        "## Summary",
        "",
        f"{len(rep.claims)} claims: {_counts(rep.claims)}.",
        "",
        *_md_table(
            ["paper claim", "where", "check or experiment", "verdict", "evidence"],
            [[c.claim, c.reference, f"`{c.source}`", c.verdict, c.evidence] for c in rep.claims],
        ),
        "",
        "## Setup",
        "",
        *[f"- {s}" for s in rep.setup],
        "",
    ]
    if rep.check_rows:
        lines += [
            "## Every check (verify all)",
            "",
            *_md_table(
                ["id", "status", "evidence", "seconds", "claim"],
                [
                    [f"`{r['id']}`", r["status"], r["evidence"], f"{r['seconds']:.3f}", r["title"]]
                    for r in rep.check_rows
                ],
            ),
            "",
        ]
    if rep.audit is not None:
        lines += ["## Audit of Tables 1–2 (verify audit)", "", *_md_table(*rep.audit), ""]
    if rep.check_rows:
        lines += ["## What the checks found", ""]
        for r in rep.check_rows:
            lines += [f"- `{r['id']}` ({r['status']}, {r['evidence']}): {r['detail']}"]
        lines.append("")
    lines += ["## Experiments", ""]
    for sec in rep.sections:
        lines += [f"### {sec.name}", ""]
        if sec.failure:
            lines += [f"*{sec.summary}*" if sec.summary else "", "", f"**{sec.failure}**", ""]
            continue
        assert sec.result is not None
        lines += [
            f"*{sec.summary}* ({sec.seconds:.0f} s). Verdict: **{sec.verdict}** — "
            f"{sec.verdict_note}. Every field of every row: [{sec.name}.json]({sec.name}.json).",
            "",
        ]
        if sec.notes:
            lines += ["**Setup and choices.**", "", strip_roles(sec.notes), ""]
        elif sec.notes_as:
            lines += [f"Setup: as for {sec.notes_as}.", ""]
        lines += [f"⚠ {f}" for f in sec.flagged] + ([""] if sec.flagged else [])
        header, body = _compact(sec.result["rows"])
        lines += [*_md_table(header, body), ""]
        mh, mb = _metrics(sec.result["rows"])
        if mb:
            lines += [METRICS_NOTE, "", *_md_table(mh, mb), ""]
        for i, (src, cap) in enumerate(sec.figures, 1):
            lines += [
                f"![{sec.name}, figure {i}]({src})",
                "",
                f"*{sec.name}, figure {i}.* {cap}",
                "",
            ]
    return "\n".join(lines) + "\n"
