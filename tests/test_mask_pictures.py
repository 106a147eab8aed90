"""``verify masks --png/--svg/--gif`` and the command line a student meets first."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from _cli import run

from verifier.cli import build_parser

pytest.importorskip("matplotlib")


def test_png_has_the_chosen_pixel_and_both_colours(tmp_path: Path) -> None:
    from PIL import Image

    png = tmp_path / "mask.png"
    code, out, _ = run("masks", "--size", "6", "--depth", "2", "--png", str(png), "--pixels", "2,3")
    assert code == 0 and f"picture written to {png}" in out
    img = np.asarray(Image.open(png).convert("RGB")).astype(int)
    assert img.shape[0] > 400 and img.shape[1] > 700  # a figure, not a bare 36×36 bitmap
    red = (img[..., 0] > 180) & (img[..., 1] < 80) & (img[..., 2] < 80)
    black = (img.sum(axis=2) < 40).sum()
    assert red.sum() > 50 and black > 1000


def test_svg_says_what_it_shows(tmp_path: Path) -> None:
    svg = tmp_path / "mask.svg"
    code, _, _ = run("masks", "--size", "5", "--depth", "3", "--filters", "4", "--svg", str(svg))
    text = svg.read_text()
    assert code == 0 and text.lstrip().startswith(("<?xml", "<svg"))
    want = json.loads(run("masks", "--size", "5", "--depth", "3", "--json")[1])
    title = f"{want['forced_zeros']} of 625 entries forced to zero"
    assert "s = 5" in text and "L = 3" in text and "F = 4" in text and title in text
    assert "black: reachable" in text and "white: forced zero" in text
    assert "output pixel (0,0) reaches" in text


def test_gif_has_one_frame_per_depth(tmp_path: Path) -> None:
    from PIL import Image

    gif = tmp_path / "reach.gif"
    code, out, _ = run("masks", "--size", "5", "--depth", "1..4", "--gif", str(gif))
    assert code == 0
    with Image.open(gif) as im:
        assert im.is_animated and im.n_frames == 4
    # the text part describes the last depth, 4 = s − 1: full support
    assert "full support: yes" in out


@pytest.mark.parametrize(
    ("option", "name"),
    [("--png", "m.svg"), ("--svg", "m.png"), ("--gif", "m.png"), ("--png", "m")],
    ids=["png-as-svg", "svg-as-png", "gif-as-png", "png-no-ext"],
)
def test_extension_must_match_the_format(tmp_path: Path, option: str, name: str) -> None:
    path = tmp_path / name
    code, out, err = run("masks", "--size", "4", "--depth", "2", option, str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and option in err and str(path) in err
    assert not path.exists()


def test_depth_range_needs_gif() -> None:
    code, _, err = run("masks", "--size", "4", "--depth", "1..3")
    assert code == 2 and "--depth" in err and err.count("\n") == 1


def test_certificate_line_only_when_verbose() -> None:
    _, plain, _ = run("masks", "--size", "5", "--depth", "3")
    _, verbose, _ = run("masks", "--size", "5", "--depth", "3", "--verbose")
    assert "certificate" not in plain and "forced zeros: 96 of 625" in plain
    assert "certificate: certified: 529/529" in verbose


def test_every_help_has_examples() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert "examples:" in parser.format_help()
    for name, p in sub.choices.items():
        text = p.format_help()
        assert "examples:" in text, name
        assert f"verify {name}" in text.split("examples:")[1], name


def test_png_without_matplotlib_is_the_bare_bitmap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name)
    )
    png = tmp_path / "bare.png"
    code, out, _ = run("masks", "--size", "4", "--depth", "1", "--png", str(png))
    assert code == 0 and "bare bitmap" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, _, err = run("masks", "--size", "4", "--depth", "1", "--svg", str(tmp_path / "m.svg"))
    assert code == 2 and "matplotlib" in err and err.count("\n") == 1


def _colour_pixels(img: np.ndarray, hex_colour: str) -> int:
    want = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(img - want).sum(axis=2) < 30).sum())


def test_every_outlined_row_has_its_reach_drawn(tmp_path: Path) -> None:
    """Two chosen pixels: two coloured rows in the mask and two reach panels, one each."""
    from PIL import Image

    from verifier.pictures import _COLOURS

    svg, png = tmp_path / "two.svg", tmp_path / "two.png"
    args = ("masks", "--size", "6", "--depth", "2", "--pixels", "0,0;5,5")
    assert run(*args, "--svg", str(svg))[0] == 0
    text = svg.read_text()
    want = json.loads(run("masks", "--size", "6", "--depth", "2", "--json")[1])["mask"]
    for r, c in [(0, 0), (5, 5)]:
        assert f"output pixel ({r},{c}) reaches" in text
        assert f"{want[r * 6 + c].count('1')} of 36 input pixels" in text
    assert run(*args, "--png", str(png))[0] == 0
    img = np.asarray(Image.open(png).convert("RGB")).astype(int)
    # each colour outlines a mask row, a reach panel's frame and its pixel: hundreds of pixels
    assert _colour_pixels(img, _COLOURS[0]) > 300
    assert _colour_pixels(img, _COLOURS[1]) > 300
    assert _colour_pixels(img, _COLOURS[2]) == 0  # no third pixel was chosen


def test_too_many_pixels_for_a_picture_are_refused(tmp_path: Path) -> None:
    many = ";".join(f"{i},0" for i in range(7))
    code, out, err = run(
        "masks", "--size", "8", "--depth", "2", "--png", str(tmp_path / "m.png"), "--pixels", many
    )
    assert code == 2 and out == "" and "--pixels" in err and err.count("\n") == 1


def test_gif_pauses_on_the_first_depth_with_full_support(tmp_path: Path) -> None:
    from PIL import Image

    gif = tmp_path / "reach.gif"
    assert run("masks", "--size", "5", "--depth", "1..6", "--gif", str(gif))[0] == 0
    with Image.open(gif) as im:
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
    # frames are depths 1..6; the first full one is depth 4 = s − 1 (index 3)
    assert durations[3] >= 3 * durations[0] and durations[4] == durations[0]
    assert durations[-1] > durations[0]  # the last frame lingers before the loop


def test_gif_durations_without_full_support() -> None:
    from verifier.pictures import gif_durations

    assert gif_durations([False, False, False], 1.0) == [1000, 1000, 3000]
    assert gif_durations([False, True, True], 0.5) == [500, 2000, 1500]


def test_png_does_not_dump_the_text_mask(tmp_path: Path) -> None:
    png = tmp_path / "m.png"
    code, out, _ = run("masks", "--size", "4", "--depth", "1", "--png", str(png))
    assert code == 0 and f"picture written to {png}" in out
    assert "forced zeros:" in out and "mask (row =" not in out and "sees input" not in out
    code, out, _ = run("masks", "--size", "4", "--depth", "1", "--png", str(png), "--show-mask")
    assert code == 0 and "16×16 mask (row =" in out


@pytest.mark.parametrize(("size", "depth"), [(4, 0), (6, 1), (8, 2), (8, 3), (10, 4)])
def test_masks_downsample_is_section_4s_network(size: int, depth: int) -> None:
    from paperdata import downsampling_net
    from symconv import factored_pattern
    from verifier.cli_masks import _mask_rows

    got = json.loads(
        run("masks", "--size", str(size), "--depth", str(depth), "--downsample", "2", "--json")[1]
    )
    pat = factored_pattern(downsampling_net(size, depth))
    assert pat is not None
    assert got["mask"] == _mask_rows(pat.dense())
    assert got["forced_zeros"] == pat.forced_zeros and got["downsample"] == 2
    least = json.loads(run("depth", "--size", str(size), "--downsample", "2", "--json")[1])
    assert got["min_depth"] == least[0]["min_depth"]


def test_masks_downsample_text_and_refusals() -> None:
    code, out, _ = run("masks", "--size", "8", "--depth", "3", "--downsample", "2")
    assert code == 0
    assert out.startswith("a stride-2 3×3 layer, 3 layers at 4×4, ×2 nearest upsampling")
    assert "full support: yes (least depth without forced zeros: 3)" in out
    code, _, err = run("masks", "--size", "7", "--depth", "3", "--downsample", "2")
    assert code == 2 and "--size" in err and err.count("\n") == 1


def test_depth_help_example_agrees_on_every_size() -> None:
    """`verify depth --size 2..32 --downsample 2`, its --help example: s = 2 needs 0 layers
    at size 1 (the stride-2 layer alone reaches all 4 pixels), and the bound says 0 too."""
    code, out, _ = run("depth", "--size", "2..32", "--downsample", "2")
    assert code == 0 and out.rstrip().endswith("They agree on every size: yes")
    rows = json.loads(run("depth", "--size", "2..6", "--downsample", "2", "--json")[1])
    assert rows[0] == {"size": 2, "kernel": 3, "downsample": 2, "min_depth": 0, "bound": 0}


def test_singular_and_plural_words() -> None:
    _, out, _ = run("masks", "--size", "4", "--depth", "1")
    assert out.startswith("1 layer of 3×3 filters, 1 filter per hidden layer, on 4×4 images")
    _, out, _ = run("masks", "--size", "4", "--depth", "0", "--filters", "2")
    assert out.startswith("0 layers of 3×3 filters, 2 filters per hidden layer")
