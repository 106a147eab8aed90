"""``verify report`` has one source: report.md is it, index.html renders it.

A stand-in experiment (``tiny-test``, seconds) and a few made-up check rows stand for the
real ones; the committed full-size results are the repository's own ``docs/results/``.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest.importorskip("jinja2")
pytest.importorskip("markdown_it")
pytest.importorskip("mdit_py_plugins")

from numerics import _experiment
from verifier.report import CLAIMS, where, write_report
from verifier.report_findings import COMMITTED, fmt
from verifier.report_math import tex_to_mathml, unicode_maths
from verifier.report_render import md_escape, source_to_html

CHECKS = [
    {"id": "thm2.corollary", "title": "Corollary: rank A = dim span(X)", "status": "pass",
     "evidence": "exact", "extension": False, "seconds": 0.1, "detail": "held on `3` cases",
     "reference": "Corollary; Theorem 2", "statement": "rank A(inf) = dim span(X)"},
    {"id": "thm2.corollary-rank", "title": "Precisely, rank A(inf) = rank phi^-1(X), which "
     "can be < dim span(X)", "status": "pass", "evidence": "exact", "extension": True,
     "seconds": 0.2, "detail": "rank A(inf) = 1 < dim span(X) = 2",
     "reference": "Corollary; Theorem 2", "statement": "rank phi^-1(X) X^+"},
    {"id": "thm4.depth-bound", "title": "Fewer than s-1 layers leave forced zeros",
     "status": "fail", "evidence": "exact", "extension": False, "seconds": 0.3,
     "detail": "a counterexample", "reference": "Theorem 4 (Section 3.1)",
     "statement": "At least s − 1 layers"},
]  # fmt: skip


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    mp = pytest.MonkeyPatch()
    try:
        mods = _experiment.EXPERIMENT_MODULES
        for name in list(mods):
            mp.delitem(mods, name)
        mp.setitem(mods, "tiny-test", "_tiny_experiment")
        mp.setitem(mods, "table2", "numerics._no_such_module")  # keeps its committed result
        out = tmp_path_factory.mktemp("report")
        return write_report(out, quick=True, checks=CHECKS, audit=(["a", "b"], [["1", "x|y"]]))
    finally:
        mp.undo()


class _Headings(HTMLParser):
    """The text of every h1–h4 and the number of table rows, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.rows = 0
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("h1", "h2", "h3", "h4"):
            self._in, self.headings = tag, [*self.headings, ""]
        if tag == "tr":
            self.rows += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.headings[-1] += data


def _md_headings(md: str) -> list[str]:
    from markdown_it import MarkdownIt

    inline = MarkdownIt("commonmark")
    out = []
    for line in md.splitlines():
        m = re.match(r"#{1,4} (.*)", line)
        if m:
            text = re.sub(r"<[^>]+>", "", inline.renderInline(m.group(1)))
            out.append(html.unescape(text))
    return out


def test_html_and_markdown_are_one_document(report: Path) -> None:
    page = report.read_text()
    md = (report.parent / "report.md").read_text()
    parsed = _Headings()
    parsed.feed(page)
    # the same sections, in the same order, with the same titles
    assert parsed.headings == _md_headings(md)
    assert parsed.headings[1] == "Summary" and "What we found" in parsed.headings
    # the same tables: one HTML row per Markdown row (less each table's --- line)
    md_rows = sum(1 for ln in md.splitlines() if ln.startswith("| ") and not ln.startswith("| ---"))
    assert parsed.rows == md_rows
    # the same numbers: the claim count, every verdict
    count = re.search(r"\d+ claims: [a-z0-9 ,]+", md)
    assert count and count.group(0) in page
    # report.md is the source without its HTML-only attribute lines; rendering it again
    # gives the same body (less those attributes)
    assert not re.search(r"^\{(id=|\.)", md, re.M)
    again = source_to_html(md, "t")
    strip = lambda s: re.sub(r' (id|class)="[^"]*"', "", s)  # noqa: E731
    assert strip(again.split("<body>")[1]) == strip(page.split("<body>")[1])


def test_every_check_id_and_experiment_is_in_the_page(report: Path) -> None:
    page = report.read_text()
    for c in CHECKS:
        assert f'id="check-{c["id"]}"' in page and f'href="#check-{c["id"]}"' in page
    assert 'id="exp-tiny-test"' in page and 'id="exp-table2"' in page
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/1998/Math/MathML"', ""
    )


def test_what_we_found_quotes_the_committed_results(report: Path) -> None:
    if not (COMMITTED / "table2.json").is_file():
        pytest.skip("no committed results in this copy (docs/results/)")
    page = report.read_text()
    found = page.split('id="what-we-found"')[1].split('id="claims"')[0]
    committed = json.loads((COMMITTED / "table2.json").read_text())
    verdict = committed["verdict"]
    assert f'<strong class="{verdict["verdict"]}">{verdict["verdict"]}</strong>' in found
    for reading, r in verdict["readings"].items():
        assert f"<code>{reading}</code>" in found
        for claim in r["claims"]:
            assert html.escape(claim, quote=False) in found
    # shown beside the (failed) quick run, with its figures copied beside the page
    assert (report.parent / "full" / "table2.json").is_file()
    section = page.split('id="exp-table2"')[1]
    assert 'href="full/table2.json"' in section and 'src="full/table2_spectra.png"' in section
    assert "quick runs" in page.split('id="summary"')[0]  # the page says what it shows


def test_extensions_are_labelled(report: Path) -> None:
    page = report.read_text()
    summary = page.split('class="summary"')[1].split("</table>")[0]
    rows = summary.split("<tr>")[2:]
    labelled = {re.search(r"#check-([\w.-]+)", r).group(1) for r in rows if "badge extension" in r}
    assert labelled == {c["id"] for c in CHECKS if c["extension"]}
    md = (report.parent / "report.md").read_text()
    assert md.count("*(extension)*") >= 2  # the summary row and the checks table
    assert "extension holds" in summary


def test_sections_are_the_papers() -> None:
    # the paper: "## 4. Role of Downsampling", "## 5. Strong Memorization in Nonlinear ...",
    # "## 6. Robustness of Memorization and Role of Initialization" (Figures 7, 8)
    assert CLAIMS["early-stopping"][1] == "Section 6, Figure 7"
    assert CLAIMS["initialization"][1] == "Section 6, Figure 8"
    assert CLAIMS["nonlinear"][1] == "Section 5, Figures 4–6"
    assert CLAIMS["downsampling"][1] == "Section 4, Figures 2–3"
    assert all(CLAIMS[t][1].startswith("Section 3.2") for t in ("table1", "table2", "table1-init"))
    # Theorem 1 is in Section 2.1, Theorem 2 in 2.2, Theorems 3-4 and Lemma 1 in 3.1
    assert where("Theorem 1; Appendix A") == "Theorem 1 (Section 2.1); Appendix A"
    assert where("Theorem 2; Appendix B") == "Theorem 2 (Section 2.2); Appendix B"
    assert where("Lemma 1; Theorem 1 (n = 1)") == "Lemma 1 (Section 3.1); Theorem 1 (n = 1)"
    assert where("Theorem 4 (Section 3.1)") == "Theorem 4 (Section 3.1)"


def test_maths_is_mathml_and_the_notation_is_unicode(report: Path) -> None:
    md = (report.parent / "report.md").read_text()
    formulas = re.findall(r"(?<![\\$])\$([^$\n]+)\$", md)
    assert len(formulas) >= 5
    for tex in formulas:  # every formula is well-formed MathML
        ET.fromstring(tex_to_mathml(tex))
    page = report.read_text()
    assert page.count("<math ") == len(formulas)
    text = re.sub(r"<code>.*?</code>|<math .*?</math>", "", page)
    for ascii_ in ("phi^-1", "X^+", "A(inf)", "ceil(", "lambda_"):
        assert ascii_ not in text, ascii_
    assert "φ⁻¹(X)" in page and "A(∞)" in page


@pytest.mark.parametrize(
    ("ascii_", "uni"),
    [
        ("phi^-1(X) X^+", "φ⁻¹(X) X⁺"),
        ("ceil((s-1)/((k-1)/2))", "⌈(s−1)/((k−1)/2)⌉"),
        ("0 < gamma < 1/lambda_1", "0 < γ < 1/λ₁"),
        ("x(i)^T, s^4 >= 3, A(inf)", "x(i)ᵀ, s⁴ ≥ 3, A(∞)"),
        ("kernel-3 and stride-2, 3x3", "kernel-3 and stride-2, 3×3"),
        ("`phi^-1` in code stays", "`phi^-1` in code stays"),
    ],
)
def test_unicode_maths(ascii_: str, uni: str) -> None:
    assert unicode_maths(ascii_) == uni


def test_mathml_of_the_report_formulas() -> None:
    m = tex_to_mathml(r"\lceil s^{4}/9 \rceil")
    assert "<msup><mi>s</mi><mrow><mn>4</mn></mrow></msup>" in m and "⌈" in m
    ET.fromstring(tex_to_mathml(r"\frac{a}{b} \le \gamma_{1}^{2}", display=True))
    with pytest.raises(ValueError):
        tex_to_mathml(r"\undefinedcommand x")
    with pytest.raises(ValueError):
        tex_to_mathml("{x")


def test_figures_link_to_full_size_and_have_captions(report: Path) -> None:
    page = report.read_text()
    figures = re.findall(r"<figure>(.*?)</figure>", page, re.S)
    assert figures, "the Theorem 4 pictures and the committed figures"
    for f in figures:
        src = re.search(r'<img src="([^"]+)"', f).group(1)
        assert f'<a href="{src}">' in f and "<figcaption>" in f
        assert (report.parent / src).is_file()
    assert 'href="explore.html"' in page and (report.parent / "explore.html").is_file()


def test_plain_text_cannot_inject_markup() -> None:
    assert md_escape("a|b *c* <script> [x](y) $z$") == r"a\|b \*c\* \<script> \[x\](y) \$z\$"


def test_numbers_are_written_once_one_way() -> None:
    assert fmt(3.554e-07) == "3.55·10⁻⁷" and fmt(0.0087) == "0.0087" and fmt(1.0) == "1"
    assert fmt(None) == "—" and fmt(True) == "yes"


def test_the_walkthrough_is_rendered_into_the_report(report: Path) -> None:
    """Issue 20: the guided walkthrough's prose and code are a section of the report."""
    from verifier.report_walkthrough import WALKTHROUGH, walkthrough_markdown

    pytest.importorskip("jupytext")
    text = walkthrough_markdown()
    assert text is not None and "```python" in text
    steps = re.findall(r"^# ## (.+)$", WALKTHROUGH.read_text(encoding="utf-8"), re.MULTILINE)
    assert len(steps) >= 8
    page = html.unescape(report.read_text(encoding="utf-8"))
    md = (report.parent / "report.md").read_text(encoding="utf-8")
    assert "A guided walkthrough" in page and "A guided walkthrough" in md
    for step in steps:  # every step heading, two levels under the report's
        assert f"#### {step.strip()}" in md, step
    assert "Predict" in page
