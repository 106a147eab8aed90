"""``verify masks --png/--svg/--gif`` and the command line a student meets first."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from verifier.cli import build_parser, main

pytest.importorskip("matplotlib")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


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
