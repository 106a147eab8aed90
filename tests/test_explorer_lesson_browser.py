"""``verify explore`` as a lesson: it opens on forced zeros, says "necessary, not sufficient"
where full support shows, marks ⌈s⁴/9⌉ and Table 1, blanks every invalid state, fits a
1024×768 projector, answers the keyboard, walks the guided steps, and trains a small net in
the page that the toolkit's Python trainer reproduces from the same start.
"""

from __future__ import annotations

import io
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _browser import browser_context, open_page, shot
from _cli import run_json

from verifier.cli import main

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def ctx() -> Iterator[Any]:
    yield from browser_context()


def _write(tmp: Path, *args: str) -> Path:
    path = tmp / ("p" + "_".join(a.strip("-") for a in args) + ".html")
    assert main(["explore", "--out", str(path), *args], io.StringIO(), io.StringIO()) == 0
    return path


@pytest.fixture()
def opened(ctx: Any, tmp_path: Path) -> Iterator[Any]:
    """open(*explore args, viewport=(w, h)) → the page, watched for errors and network."""
    pages = []

    def opener(*args: str, viewport: tuple[int, int] = (1400, 1000)) -> Any:
        pg, watch = open_page(ctx, _write(tmp_path, *args))
        pg.set_viewport_size({"width": viewport[0], "height": viewport[1]})
        pg.wait_for_selector("body[data-ready='1']")
        pg.evaluate("() => window.dispatchEvent(new Event('resize'))")
        pages.append((pg, watch))
        return pg

    yield opener
    for pg, watch in pages:
        assert watch.errors == [], f"console errors: {watch.errors}"
        assert watch.network == [], f"network requests: {watch.network}"
        pg.close()


def _set(page: Any, sel: str, value: str) -> None:
    page.locator(sel).fill(value)
    page.locator(sel).dispatch_event("change")


@pytest.mark.parametrize(
    "args",
    [(), ("--size", "6", "--downsample"), ("--size", "64")],
    ids=["default", "s6-down", "s64"],
)
def test_opens_with_forced_zeros_visible(opened: Any, args: tuple[str, ...]) -> None:
    page = opened(*args)
    zeros = page.locator("#st-zeros").inner_text()
    assert not zeros.startswith("0 of"), zeros
    assert page.locator("#st-full").inner_text().startswith("no")
    depth = int(page.locator("#depth-slider").input_value())
    least = int(page.locator("#st-least").inner_text())
    assert 0 <= depth < least


def test_full_support_says_necessary_not_sufficient(opened: Any) -> None:
    page = opened("--size", "3", "--depth", "1")
    axis = page.locator("#axis").inner_text()
    assert "s − 1 = 2" in axis and "⌈s⁴/9⌉ = 9" in axis  # both marked on the depth axis
    assert "necessary, not sufficient" not in page.locator("#st-full").inner_text()
    page.locator("#depth-slider").fill("2")
    full = page.locator("#st-full").inner_text()
    assert full.startswith("yes") and "necessary for memorization, not sufficient" in full
    callout = " ".join(page.locator("#necessary").inner_text().split())
    assert "necessary, not sufficient" in callout and "Table 1" in callout
    assert "⌈s⁴/9⌉ = 9" in callout
    # at s = 6 the heuristic 144 is off the axis and named at its end
    _set(page, "#size", "6")
    assert "⌈s⁴/9⌉ = 144" in page.locator("#axis-off").inner_text()


def test_table1_rows_are_a_preset(opened: Any) -> None:
    from paperdata import TABLE1

    page = opened()
    options = page.locator("#table1 option")
    assert options.count() == len(TABLE1) + 1
    for i, row in enumerate(TABLE1):
        page.locator("#table1").select_option(str(i))
        assert page.locator("#size").input_value() == str(row.size)
        assert page.locator("#filters").input_value() == str(row.filters)
        assert page.locator("#depth-label").inner_text() == f"L = {row.layers_printed}"
        card = " ".join(page.locator("#step-card").inner_text().split())
        assert f"L = {row.layers_printed}, F = {row.filters}" in card and "Full support" in card
        assert page.locator("#st-full").inner_text().startswith("yes")  # all rows: L ≥ s − 1
    # the committed full run's spectrum is shown, and it is not memorization
    page.locator("#table1").select_option("0")
    card = " ".join(page.locator("#step-card").inner_text().split())
    assert "docs/results/table1.json" in card and "not memorized" in card
    shot(page, "explore-table1-preset.png")


def test_invalid_states_are_blanked(opened: Any) -> None:
    page = opened("--size", "6", "--depth", "2")
    page.locator("#downsample").check()
    page.locator("#downsample").dispatch_event("change")
    _set(page, "#size", "7")
    assert page.locator("body").get_attribute("data-state") == "invalid"
    assert "even" in page.locator("#note").inner_text()
    for sid in ("#st-zeros", "#st-full", "#st-least", "#st-net", "#st-corner"):
        assert page.locator(sid).inner_text() == "—", sid
    assert page.locator("#reach").get_attribute("data-pixel") == ""
    assert page.locator("#symbolic").inner_text() == "—"
    assert page.locator("#depth-slider").is_disabled()
    shot(page, "explore-s7-stride2-blank.png")
    for bad in ("1", "65", "4.5", ""):
        _set(page, "#size", bad)
        assert page.locator("body").get_attribute("data-state") == "invalid", bad
        assert page.locator("#st-zeros").inner_text() == "—"
    _set(page, "#size", "8")
    assert page.locator("body").get_attribute("data-state") == "ok"
    want = run_json("masks", "--size", "8", "--depth", "1", "--downsample", "2", "--json")
    assert page.locator("#depth-slider").input_value() == "1"
    assert page.locator("#st-zeros").inner_text() == f"{want['forced_zeros']:,} of 4,096"


@pytest.mark.parametrize("size", [6, 16, 64])
def test_fits_1024x768_and_pinning_keeps_the_stats_beside_the_grid(opened: Any, size: int) -> None:
    page = opened("--size", str(size), viewport=(1024, 768))
    grid = page.locator("#grid").bounding_box()
    assert grid["y"] + grid["height"] <= 768 and grid["x"] + grid["width"] <= 1024
    stats_before = page.locator("#stats").bounding_box()
    box = grid
    page.mouse.click(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.6)
    assert "pinned" in page.locator("#reach").inner_text()
    stats = page.locator("#stats").bounding_box()
    assert stats == stats_before  # pinning moved nothing
    assert stats["x"] >= grid["x"] + grid["width"] and stats["y"] < grid["y"] + grid["height"]
    assert stats["x"] + stats["width"] <= 1024
    shot(page, f"explore-{size}x{size}-1024x768-pinned.png")


def test_keyboard_chooses_and_pins_pixels(opened: Any) -> None:
    page = opened("--size", "6", "--depth", "3")
    want = run_json("masks", "--size", "6", "--depth", "3", "--json")["mask"]
    page.locator("#grid").focus()
    for key in ("ArrowRight", "ArrowRight", "ArrowDown"):
        page.keyboard.press(key)
    reach = page.locator("#reach")
    assert reach.get_attribute("data-pixel") == "1,2"
    assert int(reach.get_attribute("data-reached")) == want[1 * 6 + 2].count("1")
    assert "pinned" in reach.inner_text()
    page.keyboard.press("Enter")
    assert "pinned" not in reach.inner_text()
    page.keyboard.press("Home")
    assert reach.get_attribute("data-pixel") == "0,0"
    for _ in range(9):
        page.keyboard.press("ArrowUp")  # clamped at the border
    assert reach.get_attribute("data-pixel") == "0,0"


@pytest.mark.parametrize("size", [5, 12, 33, 64])
def test_suggested_matrix_command_is_accepted(opened: Any, tmp_path: Path, size: int) -> None:
    page = opened("--size", str(size))
    assert "--size 64 --symbolic" not in page.locator("#symbolic").inner_text()
    commands = page.locator("#symbolic code").all_inner_texts()
    assert len(commands) == 1 and commands[0].startswith("verify matrix ")
    argv = shlex.split(commands[0])[1:]
    out = io.StringIO()
    assert main(argv, out, io.StringIO()) == 0, argv
    if "--json" not in argv:  # printed, not refused as too wide
        assert "use --json" not in out.getvalue()


def test_words_counts_and_legend(opened: Any) -> None:
    page = opened("--size", "64", "--depth", "0")
    assert page.locator("#st-net").inner_text() == (
        "0 layers of 3×3 filters, 1 filter per hidden layer"
    )
    assert page.locator("#st-matrix").inner_text() == "4,096×4,096 (16,777,216 entries)"
    legend = " ".join(page.locator("#grid-legend").inner_text().split())
    assert "grey number" in legend and "no number" in legend
    page.locator("#depth-slider").fill("1")
    assert page.locator("#st-net").inner_text().startswith("1 layer of 3×3 filters")


@pytest.mark.parametrize(("size", "downsample"), [(6, False), (9, False), (8, True)])
def test_corner_to_corner_entry_is_the_last_to_fill(
    opened: Any, size: int, downsample: bool
) -> None:
    page = opened("--size", str(size), *(["--downsample"] if downsample else []))
    least = int(page.locator("#st-least").inner_text())
    corner = page.locator("#st-corner").inner_text()
    assert f"reached at depth {least}, the last entry to fill" in corner
    # the CLI agrees: one layer less leaves exactly that entry (among others) forced to zero
    extra = ["--downsample", "2"] if downsample else []
    d = size * size
    before = run_json("masks", "--size", str(size), "--depth", str(least - 1), *extra, "--json")
    assert before["mask"][0][d - 1] == "0"


def test_guided_steps_predict_then_reveal(opened: Any) -> None:
    page = opened()
    buttons = page.locator("#steps button")
    assert buttons.count() == 8
    for i in range(8):
        buttons.nth(i).click()
        card = page.locator("#step-card")
        assert card.inner_text().startswith(f"Step {i + 1}:")
        assert "Predict:" in card.inner_text()
        answer = page.locator("#step-answer")
        assert not answer.is_visible()  # the answer waits for the student
        page.locator("#step-card summary").click()
        assert answer.is_visible() and len(answer.inner_text()) > 60
    buttons.nth(2).click()  # the reach grows: s = 6 from one layer
    assert page.locator("#size").input_value() == "6"
    assert page.locator("#depth-label").inner_text() == "L = 1"
    buttons.nth(6).click()  # downsampling: 8×8, stride 2, 3 layers at 4×4 suffice
    assert page.locator("#downsample").is_checked()
    assert page.locator("#st-least").inner_text() == "3"
    shot(page, "explore-step7.png")


def _python_train(start: list[list[float]], image: list[float], size: int, steps: int) -> Any:
    from numerics import train_chain_ensemble
    from symconv import conv_stack, network_matrix

    net = conv_stack(size, len(start))
    x = np.array(image).reshape(1, 1, size, size)
    w0 = np.array([np.ravel(w) for w in start])[None]
    res = train_chain_ensemble(net, w0, x, optimizer="sgd", lr=0.1, target=0.0, cap=steps)
    w = res.weights[0]
    weights = [w[i].reshape(1, 1, 3, 3) for i in range(len(start))]
    return w, float(res.losses[0]), int(res.iterations[0]), network_matrix(net, weights).toarray()


@pytest.mark.parametrize(
    ("size", "depth", "seed", "steps"),
    [(2, 5, 0, 400), (2, 1, 3, 200), (3, 2, 1, 300), (3, 9, 2, 300)],
    ids=["s2-L5", "s2-L1", "s3-L2", "s3-L9"],
)
def test_page_training_equals_the_python_trainer(
    opened: Any, size: int, depth: int, seed: int, steps: int
) -> None:
    page = opened()
    got = page.evaluate(
        "o => symconv.train(o)",
        {"size": size, "depth": depth, "seed": seed, "cap": steps, "target": 0},
    )
    assert got["steps"] == steps
    w, loss, taken, matrix = _python_train(got["start"], got["image"], size, steps)
    assert taken == steps
    assert np.allclose(np.array(got["weights"]), w, rtol=1e-8, atol=1e-12)
    assert got["loss"] == pytest.approx(loss, rel=1e-6, abs=1e-15)
    assert np.allclose(np.array(got["matrix"]), matrix, rtol=1e-8, atol=1e-12)
    want = sorted(np.abs(np.linalg.eigvals(matrix)), reverse=True)
    assert np.allclose(got["spectrum"], want, atol=1e-7)


def test_demo_memorizes_with_depth_and_not_at_s_minus_1(opened: Any) -> None:
    page = opened()
    deep = page.evaluate("() => symconv.train({size: 2, depth: 5, seed: 0})")
    assert deep["memorized"] and deep["spectrum"][0] == pytest.approx(1, abs=0.01)
    assert abs(deep["cosNoise"]) > 0.99  # noise is sent to a multiple of the image
    shallow = page.evaluate("() => symconv.train({size: 3, depth: 2, seed: 0})")
    assert shallow["loss"] < 1e-9  # it fits x ...
    assert not shallow["memorized"] and sum(v > 0.5 for v in shallow["spectrum"]) >= 3
    page.locator("#demo-size").select_option("3")
    page.locator("#demo-depth").fill("2")
    page.locator("#demo-train").click()
    assert page.locator("#demo").get_attribute("data-memorized") == "false"
    assert "necessary, not sufficient" in page.locator("#demo-verdict").inner_text()
    page.locator("#demo-depth").fill("9")
    page.locator("#demo-train").click()
    assert page.locator("#demo").get_attribute("data-memorized") == "true"
    shot(page, "explore-demo-s3-L9.png")


@pytest.mark.parametrize("n", [2, 4, 9])
def test_page_eigenvalues_equal_numpy(opened: Any, n: int) -> None:
    page = opened()
    rng = np.random.default_rng(n)
    for _ in range(5):
        a = rng.standard_normal((n, n))
        got = page.evaluate("m => symconv.eigenvalues(m)", a.tolist())
        left = [complex(r, i) for r, i in got]
        assert len(left) == n
        for w in np.linalg.eigvals(a):  # each eigenvalue matched once, nearest first
            j = int(np.argmin([abs(g - w) for g in left]))
            assert abs(left.pop(j) - w) < 1e-9, (w, got)
