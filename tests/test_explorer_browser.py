"""``verify explore``: the page, in a real (headless) browser, computes what the CLI computes.

The page's ``symconv.mask`` is compared with ``verify masks --json`` (called in process) on
many configurations, ``symconv.depth`` with ``verify depth --json``, ``symconv.symbolic``
with ``verify matrix --symbolic --json``; clicking, the slider and the play button are
driven like a student would; no console error and no network request is allowed.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _browser import browser_context, open_page, shot
from _cli import run_json

from symconv import conv_stack, factored_pattern
from verifier.cli import main

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def ctx() -> Iterator[Any]:
    yield from browser_context()


@pytest.fixture(scope="module")
def page_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("explore") / "explore.html"
    out, err = io.StringIO(), io.StringIO()
    assert main(["explore", "--out", str(path), "--size", "6", "--depth", "3"], out, err) == 0
    return path


@pytest.fixture()
def page(ctx: Any, page_file: Path) -> Iterator[Any]:
    pg, watch = open_page(ctx, page_file)
    pg.wait_for_selector("body[data-ready='1']")
    yield pg
    assert watch.errors == [], f"console errors: {watch.errors}"
    assert watch.network == [], f"network requests: {watch.network}"
    pg.close()


MASK_CASES = [
    (2, 0, 3, 1),
    (2, 1, 3, 1),
    (3, 1, 3, 1),
    (3, 2, 3, 4),
    (4, 2, 3, 1),
    (4, 3, 3, 2),
    (5, 3, 3, 8),
    (5, 4, 3, 1),
    (6, 2, 5, 1),
    (7, 1, 7, 3),
    (7, 3, 1, 1),
    (8, 6, 3, 16),
    (8, 7, 3, 1),
    (9, 2, 5, 2),
    (12, 5, 3, 1),
    (16, 4, 9, 4),
]


@pytest.mark.parametrize(
    ("size", "depth", "kernel", "filters"),
    MASK_CASES,
    ids=[f"s{s}-L{d}-k{k}-F{f}" for s, d, k, f in MASK_CASES],
)
def test_page_mask_equals_verify_masks(
    page: Any, size: int, depth: int, kernel: int, filters: int
) -> None:
    want = run_json(
        "masks",
        "--size",
        str(size),
        "--depth",
        str(depth),
        "--kernel",
        str(kernel),
        "--filters",
        str(filters),
        "--json",
    )
    cfg = {"size": size, "depth": depth, "kernel": kernel, "filters": filters}
    got = page.evaluate("o => symconv.mask(o)", cfg)
    assert got == want["mask"]
    summary = page.evaluate("o => symconv.summary(o)", cfg)
    assert summary["forced_zeros"] == want["forced_zeros"]
    assert summary["full_support"] == want["full_support"]
    assert summary["min_depth"] == want["min_depth"]


@pytest.mark.parametrize("kernel", [3, 5])
def test_page_depth_equals_verify_depth(page: Any, kernel: int) -> None:
    plain = run_json("depth", "--size", "1..40", "--kernel", str(kernel), "--json")
    down = run_json(
        "depth", "--size", "2..40", "--kernel", str(kernel), "--downsample", "2", "--json"
    )
    got_plain = page.evaluate(
        "k => Array.from({length: 40}, (_, i) => symconv.depth({size: i + 1, kernel: k}))", kernel
    )
    got_down = page.evaluate(
        "k => Array.from({length: 20}, (_, i) => "
        "symconv.depth({size: 2 * i + 2, kernel: k, downsample: 2}))",
        kernel,
    )
    assert got_plain == plain
    assert got_down == down


@pytest.mark.parametrize(("size", "depth"), [(4, 0), (4, 1), (6, 2), (8, 2), (10, 4)])
def test_page_downsampling_mask_equals_symconv(page: Any, size: int, depth: int) -> None:
    from verifier.cli_masks import _downsampling_family, _mask_rows

    pat = factored_pattern(_downsampling_family(size, 3, 2)(depth))
    assert pat is not None
    got = page.evaluate(
        "o => symconv.mask(o)", {"size": size, "depth": depth, "kernel": 3, "downsample": 2}
    )
    assert got == _mask_rows(pat.dense())


@pytest.mark.parametrize(
    ("size", "kernel", "stride"), [(2, 3, 1), (3, 3, 1), (4, 3, 1), (4, 3, 2), (4, 5, 1), (3, 1, 1)]
)
def test_page_symbolic_equals_verify_matrix(page: Any, size: int, kernel: int, stride: int) -> None:
    want = run_json(
        "matrix",
        "--size",
        str(size),
        "--kernel",
        str(kernel),
        "--stride",
        str(stride),
        "--symbolic",
        "--json",
    )
    got = page.evaluate(
        "o => symconv.symbolic(o)", {"size": size, "kernel": kernel, "stride": stride}
    )
    assert got == want["rows"]


def _click_pixel(page: Any, r: int, c: int, size: int) -> None:
    box = page.locator("#grid").bounding_box()
    cell = box["width"] / size
    page.mouse.click(box["x"] + (c + 0.5) * cell, box["y"] + (r + 0.5) * cell)


def test_click_shows_reach(page: Any) -> None:
    # the page opened at 6×6, depth 3: pixel (1, 4) reaches what row 1·6+4 of the mask says
    want = run_json("masks", "--size", "6", "--depth", "3", "--json")["mask"]
    for r, c in [(1, 4), (0, 0), (5, 2)]:
        _click_pixel(page, r, c, 6)
        reach = page.locator("#reach")
        assert reach.get_attribute("data-pixel") == f"{r},{c}"
        assert int(reach.get_attribute("data-reached")) == want[r * 6 + c].count("1")
        assert "pinned" in reach.inner_text()
    # the grid paints unreached pixels light: (0, 0) at depth 3 cannot reach (5, 5)
    _click_pixel(page, 0, 0, 6)
    shot(page, "explore-6x6-depth3-pixel00.png")
    assert want[0][35] == "0"
    assert "reaches 16 of 36" in page.locator("#reach").inner_text()


def test_hover_previews_the_reach_until_a_click_pins_it(page: Any) -> None:
    want = run_json("masks", "--size", "6", "--depth", "3", "--json")["mask"]
    box = page.locator("#grid").bounding_box()
    cell = box["width"] / 6
    reach = page.locator("#reach")
    for r, c in [(2, 2), (4, 1)]:
        page.mouse.move(box["x"] + (c + 0.5) * cell, box["y"] + (r + 0.5) * cell)
        assert reach.get_attribute("data-pixel") == f"{r},{c}"
        assert int(reach.get_attribute("data-reached")) == want[r * 6 + c].count("1")
    _click_pixel(page, 3, 3, 6)  # pinned: moving away no longer changes the pixel
    page.mouse.move(box["x"] + 0.5 * cell, box["y"] + 0.5 * cell)
    assert reach.get_attribute("data-pixel") == "3,3"


def test_slider_and_play_change_the_depth(page: Any) -> None:
    slider = page.locator("#depth-slider")
    assert slider.input_value() == "3"
    zeros_at = {
        d: run_json("masks", "--size", "6", "--depth", str(d), "--json")["forced_zeros"]
        for d in range(4)
    }
    slider.focus()
    page.keyboard.press("ArrowLeft")
    assert slider.input_value() == "2"
    assert page.locator("#depth-label").inner_text() == "L = 2"
    assert page.locator("#st-zeros").inner_text() == f"{zeros_at[2]:,} of 1,296"
    page.keyboard.press("ArrowLeft")
    assert page.locator("#st-zeros").inner_text() == f"{zeros_at[1]:,} of 1,296"
    # one depth control: play runs 0 … the end of the depth axis, past s − 1 = 5
    end = int(slider.get_attribute("max"))
    assert end > 5
    page.locator("#play").click()
    label = page.locator("#depth-label")
    seen = set()
    for _ in range(300):  # sample the animation as it runs (0.7 s per step)
        text = label.inner_text()
        seen.add(text)
        if text == f"L = {end}":
            break
        page.wait_for_timeout(100)
    assert {"L = 2", "L = 5", f"L = {end}"} <= seen, seen
    assert page.locator("#st-full").inner_text().startswith("yes")
    assert page.locator("#st-zeros").inner_text() == "0 of 1,296"
    shot(page, "explore-6x6-after-play.png")


def test_controls_rebuild_the_page(page: Any) -> None:
    page.locator("#size").fill("8")
    page.locator("#size").dispatch_event("change")
    # a new size opens where forced zeros show (half of s − 1 = 7); the axis marks 7
    assert page.locator("#depth-slider").input_value() == "3"
    assert page.locator("#st-least").inner_text() == "7"
    assert "s − 1 = 7" in page.locator("#axis").inner_text()
    page.locator("#depth-slider").fill("4")
    want = run_json("masks", "--size", "8", "--depth", "4", "--json")
    assert page.locator("#st-zeros").inner_text() == f"{want['forced_zeros']:,} of 4,096"
    assert page.locator("#st-full").inner_text().startswith("no")
    page.locator("#downsample").check()
    page.locator("#downsample").dispatch_event("change")
    least = run_json("depth", "--size", "8", "--downsample", "2", "--json")[0]["min_depth"]
    assert page.locator("#st-least").inner_text() == str(least)
    shot(page, "explore-8x8-downsample.png")
    page.locator("#size").fill("4")
    page.locator("#size").dispatch_event("change")
    # s ≤ 4: the symbolic matrix of the stride-2 layer is on the page
    assert page.locator("#symbolic td", has_text="A5").count() > 0
    shot(page, "explore-4x4-downsample-symbolic.png")


def test_large_page_loads_fast(ctx: Any, tmp_path: Path) -> None:
    path = tmp_path / "s64.html"
    out, err = io.StringIO(), io.StringIO()
    assert main(["explore", "--out", str(path), "--size", "64"], out, err) == 0
    t0 = time.perf_counter()
    pg, watch = open_page(ctx, path)
    pg.wait_for_selector("body[data-ready='1']")
    seconds = time.perf_counter() - t0
    print(f"s = 64 page: loaded and drawn in {seconds:.2f} s")
    assert seconds < 10
    # the s = 64 mask itself (4096 rows) still equals the CLI's, row by row at two rows
    want = run_json("masks", "--size", "64", "--depth", "10", "--json")["mask"]
    got = pg.evaluate(
        "() => { const m = symconv.mask({size: 64, depth: 10}); return [m[0], m[2080]]; }"
    )
    assert got == [want[0], want[2080]]
    shot(pg, "explore-64x64.png")
    assert watch.errors == [] and watch.network == []
    pg.close()


def test_explore_refuses_a_wrong_extension(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["explore", "--out", str(tmp_path / "page.png")], out, err) == 2
    assert err.getvalue().count("\n") == 1 and "--out" in err.getvalue()
    assert not (tmp_path / "page.png").exists()


@pytest.mark.parametrize(
    ("size", "depth", "kernel", "downsample"),
    [(7, 6, 3, 1), (9, 4, 5, 1), (8, 5, 3, 2), (6, 3, 5, 2)],
    ids=["s7-k3", "s9-k5", "s8-k3-down2", "s6-k5-down2"],
)
def test_first_reach_depths_agree_with_the_masks(
    page: Any, size: int, depth: int, kernel: int, downsample: int
) -> None:
    """The grid's numbers: pixel (r', c') is first reached at depth max(f_r[r'], f_c[c'])."""
    from verifier.cli_masks import _downsampling_family

    def mask(d: int) -> np.ndarray:
        if downsample == 1:
            net = conv_stack(size, d, kernel=kernel)
        else:
            net = _downsampling_family(size, kernel, downsample)(d)
        pat = factored_pattern(net)
        assert pat is not None
        return pat.dense()

    masks = [mask(d) for d in range(depth + 1)]
    cfg = {"size": size, "depth": depth, "kernel": kernel, "downsample": downsample}
    first = page.evaluate(
        "o => Array.from({length: o.size}, (_, r) => symconv.firstReach(o, r))", cfg
    )
    for r in range(size):
        for c in range(size):
            for r2 in range(size):
                for c2 in range(size):
                    a, b = first[r][r2], first[c][c2]
                    least = None if a is None or b is None else max(a, b)
                    col = [m[r * size + c, r2 * size + c2] for m in masks]
                    want = next((d for d, v in enumerate(col) if v), None)
                    assert least == want, (r, c, r2, c2)


@pytest.mark.parametrize(
    ("args", "argument"),
    [
        (["--size", "65"], "--size"),
        (["--size", "1"], "--size"),
        (["--kernel", "4"], "--kernel"),
        (["--depth", "-1"], "--depth"),
        (["--size", "7", "--downsample"], "--size"),
        (["--filters", "0"], "--filters"),
    ],
    ids=["size-65", "size-1", "even-kernel", "negative-depth", "odd-size-downsample", "F0"],
)
def test_explore_refuses_bad_values(tmp_path: Path, args: list[str], argument: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["explore", "--out", str(tmp_path / "p.html"), *args], out, err) == 2
    assert err.getvalue().count("\n") == 1 and argument in err.getvalue()
    assert not (tmp_path / "p.html").exists()


def test_page_is_self_contained(tmp_path: Path) -> None:
    """One file: inline script and style, nothing fetched (the browser tests watch too)."""
    path = tmp_path / "p.html"
    assert main(["explore", "--out", str(path), "--size", "9", "--depth", "2"], io.StringIO()) == 0
    text = path.read_text()
    for needle in ("http://", "https://", "<script src", "<link", "@import", "url("):
        assert needle not in text, needle
    assert '"size": 9, "depth": 2' in text  # the initial state the command asked for
