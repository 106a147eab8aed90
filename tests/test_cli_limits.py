"""The README's limits table is the program's: each bound it states is the one the program
applies, one step past it is refused, and the path-and-write layer keeps its promises (no
link followed, a full disk is one line naming the path)."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

import pytest
from _cli import run

from verifier import args as A
from verifier import cli_masks

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
LIMITS = README.split("**Limits**", 1)[1].split("\n\n", 2)[1]


def _row(command: str) -> str:
    return next(line for line in LIMITS.splitlines() if line.startswith(f"| {command} |"))


def test_the_limits_table_states_the_programs_bounds() -> None:
    assert f"at most {A.MAX_DIGITS} of them" in _row("numbers")
    assert f"`--pixels` at most {A.MAX_PIXELS}" in _row("`masks`")
    assert f"at most {cli_masks.MAX_GIF_FRAMES} frames" in _row("`masks --gif`")
    assert cli_masks.MAX_GIF_ENTRIES == 2**24 and "2²⁴ mask entries" in _row("`masks --gif`")
    assert cli_masks.MAX_PICTURE_ENTRIES == 48**4 and "s ≤ 48" in _row("`masks --png/--svg`")
    assert f"1..{A.MAX_JOBS}" in _row("`all --jobs`")
    assert f"at most {A.MAX_SEEDS} distinct seeds" in _row("`--seeds`")
    assert f"at most {A.MAX_PATH_BYTES} bytes, {A.MAX_NAME_BYTES} per name" in _row("paths")


def _frames(path: Path) -> int:
    from PIL import Image

    with Image.open(path) as im:
        return int(getattr(im, "n_frames", 1))


def test_a_depth_and_its_range_give_the_same_number_of_frames(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    one, span = tmp_path / "one.gif", tmp_path / "span.gif"
    assert run("masks", "--size", "2", "--depth", "3", "--gif", str(one))[0] == 0
    assert run("masks", "--size", "2", "--depth", "1..3", "--gif", str(span))[0] == 0
    assert _frames(one) == _frames(span) == 3


@pytest.mark.parametrize("depth", [str(cli_masks.MAX_GIF_FRAMES), f"1..{cli_masks.MAX_GIF_FRAMES}",
                                   f"5..{cli_masks.MAX_GIF_FRAMES + 4}"])  # fmt: skip
def test_the_largest_gif_is_accepted_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, depth: str
) -> None:
    """At the limit, ``--depth L`` and ``--depth A..B`` give exactly MAX_GIF_FRAMES frames
    (the drawing is replaced by a count: what is checked is the number of frames asked)."""
    pytest.importorskip("matplotlib")
    from verifier import pictures

    drawn: list[int] = []
    monkeypatch.setattr(pictures, "mask_gif", lambda path, masks, **kw: drawn.append(len(masks)))
    code, _, err = run("masks", "--size", "2", "--depth", depth, "--gif", str(tmp_path / "x.gif"))
    assert code == 0, err
    assert drawn == [cli_masks.MAX_GIF_FRAMES]


TOO_MANY = cli_masks.MAX_GIF_FRAMES + 1


@pytest.mark.parametrize("depth", [str(TOO_MANY), f"1..{TOO_MANY}", f"0..{TOO_MANY - 1}"])
def test_one_frame_past_the_limit_is_refused_either_way(tmp_path: Path, depth: str) -> None:
    code, _, err = run("masks", "--size", "2", "--depth", depth, "--gif", str(tmp_path / "x.gif"))
    assert code == 2 and f"at most {cli_masks.MAX_GIF_FRAMES} frames" in err, err
    assert list(tmp_path.iterdir()) == []


def test_the_limits_say_what_the_pixels_bound_is() -> None:
    pixels = ";".join(f"{i % 9},{i // 9}" for i in range(A.MAX_PIXELS))
    code, out, err = run("masks", "--size", "9", "--depth", "3", "--pixels", pixels)
    assert code == 0, err
    assert out.count("sees input pixels") == A.MAX_PIXELS


# ---- the path-and-write layer --------------------------------------------------------


def test_a_link_where_a_picture_goes_is_replaced_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"keep me")
    folder = tmp_path / "pictures"
    folder.mkdir()
    (folder / "m.png").symlink_to(outside)
    code, _, err = run("masks", "--size", "4", "--depth", "2", "--png", str(folder / "m.png"))
    assert code == 0, err
    assert outside.read_bytes() == b"keep me"
    assert not (folder / "m.png").is_symlink()
    assert (folder / "m.png").read_bytes()[:4] == b"\x89PNG"


def test_a_link_at_the_page_name_is_replaced_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.html"
    outside.write_text("keep me")
    page = tmp_path / "page.html"
    page.symlink_to(outside)
    assert run("explore", "--out", str(page))[0] == 0
    assert outside.read_text() == "keep me" and not page.is_symlink()


def test_write_atomic_creates_nothing_through_a_link(tmp_path: Path) -> None:
    from verifier.store import write_atomic

    target = tmp_path / "rows.json"
    outside = tmp_path / "elsewhere"
    target.symlink_to(outside)  # dangling: following it would create 'elsewhere'
    write_atomic(target, "{}")
    assert not outside.exists() and target.read_text() == "{}" and not target.is_symlink()


def _enospc(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize(
    "argv",
    [
        ["explore", "--out", "{tmp}/page.html"],
        ["masks", "--size", "4", "--depth", "2", "--png", "{tmp}/m.png"],
        ["masks", "--size", "4", "--depth", "2", "--svg", "{tmp}/m.svg"],
        ["masks", "--size", "4", "--depth", "1..2", "--gif", "{tmp}/m.gif"],
        ["certificates", "--out", "{tmp}/smt", "--only", "thm1.step"],
    ],
    ids=["explore", "png", "svg", "gif", "certificates"],
)
def test_a_full_disk_is_one_line_naming_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    if any(a.endswith((".png", ".svg", ".gif")) for a in argv):
        pytest.importorskip("matplotlib")
    monkeypatch.setattr(os, "fsync", _enospc)
    code, _, err = run(*[a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "No space left on device" in err and str(tmp_path) in err
    option = next(a for a in argv if a.startswith("--") and "{tmp}" in argv[argv.index(a) + 1])
    assert option in err
    leftovers = [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_a_full_disk_while_writing_rows_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numerics._experiment as experiment

    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    monkeypatch.setitem(experiment.EXPERIMENT_MODULES, "tiny-test", "_tiny_experiment")
    monkeypatch.setattr(os, "fsync", _enospc)
    code, out, err = run("experiment", "tiny-test", "--out", str(tmp_path / "runs"))
    assert code == 2 and out == "", err
    assert len(err.splitlines()) == 1 and "No space left on device" in err
    assert "tiny-test.json" in err and "--out" in err
    assert not [p for p in (tmp_path / "runs").iterdir() if p.name.endswith(".tmp")]


def test_resume_never_reads_a_rows_file_through_a_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numerics._experiment as experiment

    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    monkeypatch.setitem(experiment.EXPERIMENT_MODULES, "tiny-test", "_tiny_experiment")
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "tiny-test.json").symlink_to("/etc/passwd")
    code, _, err = run("experiment", "tiny-test", "--out", str(runs), "--resume")
    assert code == 2 and "is a link" in err and "--resume" in err, err


def test_an_error_line_escapes_a_line_break_in_a_value() -> None:
    code, _, err = run("check", "a\nb")
    assert code == 2 and len(err.splitlines()) == 1 and "a\\nb" in err


def test_a_value_is_quoted_to_about_40_characters() -> None:
    code, _, err = run("masks", "--size", "7" * 400, "--depth", "3")
    assert code == 2
    quoted = re.search(r"\(got '(7+)…", err)
    assert quoted is not None and len(quoted[1]) <= 40 and "(400 characters)" in err
