"""``verify report``: the page opens from ``file://`` in a real browser, summary first.

A tiny form of one experiment (the others left out) keeps this test to seconds; every
registered check runs in its quick form, so the summary must list every check id.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _browser import browser_context, open_page, shot

torch = pytest.importorskip("torch")
pytest.importorskip("matplotlib")

from numerics import _autoencoder, _experiment, downsampling  # noqa: E402
from proofs import _registry  # noqa: E402
from verifier.report import write_report  # noqa: E402
from verifier.report_inputs import audit_table, check_outcomes  # noqa: E402

pytestmark = pytest.mark.browser

TINY = _autoencoder.Scale(
    size=8, d1_filters=4, d2_filters=2, iterations=4, lr=1e-3, test_count=3, small_iterations=4
)


@pytest.fixture(scope="module")
def ctx() -> Iterator[Any]:
    yield from browser_context()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(downsampling, "scale", lambda cfg: TINY)
        for name in list(_experiment.EXPERIMENT_MODULES):
            if name != "downsampling":
                mp.delitem(_experiment.EXPERIMENT_MODULES, name)
        out = tmp_path_factory.mktemp("report")
        return write_report(out, quick=True, checks=check_outcomes(quick=True), audit=audit_table())
    finally:
        mp.undo()


def test_report_opens_with_a_summary_of_every_claim(ctx: Any, report: Path) -> None:
    page, watch = open_page(ctx, report)
    page.wait_for_load_state("load")
    # the summary table comes first and names every check and the experiment
    assert page.locator("h2").first.inner_text() == "Summary"
    summary = page.locator("table.summary")
    ids = summary.locator("tbody tr td:nth-child(3)").all_inner_texts()
    want = [c.id for c in _registry.load_all()]
    assert ids[: len(want)] == want and ids[len(want) :] == ["downsampling"]
    verdicts = summary.locator("tbody tr td:nth-child(4)").all_inner_texts()
    assert verdicts[-1].startswith("inconclusive")  # quick mode
    assert all(v.split()[0] in ("agrees", "differs", "inconclusive") for v in verdicts)
    # every summary link leads to a section on the page
    for href in summary.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href'))"):
        assert page.locator(f"[id='{href[1:]}']").count() == 1, href
    # the verify all table, the audit, the findings, the experiment with its figures
    for anchor in ("checks", "audit", "found", "exp-downsampling"):
        assert page.locator(f"[id='{anchor}']").count() == 1
    assert page.locator("table.audit tbody tr").count() == 18
    imgs = page.locator("figure img")
    assert imgs.count() >= 2 and page.locator("figcaption").count() == imgs.count()
    widths = imgs.evaluate_all("els => els.map(e => e.naturalWidth)")
    assert all(w > 0 for w in widths), "a figure did not load from file://"
    for table in page.locator("table.rows").all():
        assert table.locator("thead th").count() <= 8
    page.locator("figure").first.scroll_into_view_if_needed()
    shot(page, "report-tiny.png")
    assert watch.errors == [] and watch.network == []
    page.close()


def test_report_fits_1024_and_marks_what_it_shows(ctx: Any, report: Path) -> None:
    page, watch = open_page(ctx, report)
    page.set_viewport_size({"width": 1024, "height": 768})
    page.wait_for_load_state("load")
    # nothing wider than the window: figures shrink to it and open at full size on a click
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    for fig in page.locator("figure").all():
        img = fig.locator("img")
        assert fig.locator("a").get_attribute("href") == img.get_attribute("src")
        assert img.evaluate("e => e.getBoundingClientRect().right") <= 1024
    # what we found opens the summary, before the table of claims, from committed results
    heads = page.locator("h2, h3").all_inner_texts()
    assert heads.index("What we found") < heads.index("Every claim and its verdict")
    assert "This page shows quick runs" in page.locator("blockquote").first.inner_text()
    # extensions are labelled, exactly the registry's
    summary = page.locator("table.summary tbody tr")
    marked = [
        r.locator("td:nth-child(3)").inner_text()
        for r in summary.all()
        if r.locator("em.badge.extension").count()
    ]
    assert marked == [c.id for c in _registry.load_all() if c.extension]
    # maths is MathML the browser lays out (no TeX source left on the page)
    maths = page.locator("math")
    assert maths.count() >= 5
    assert all(
        w > 0 for w in maths.evaluate_all("els => els.map(e => e.getBoundingClientRect().width)")
    )
    assert "\\lceil" not in page.locator("body").inner_text()
    page.locator("#thm4-picture").scroll_into_view_if_needed()
    shot(page, "report-tiny-1024.png")
    assert watch.errors == [] and watch.network == []
    page.close()
