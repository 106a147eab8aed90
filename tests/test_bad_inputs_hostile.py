"""The hostile corpus, second part: the contract holds by construction, for every option.

Every case runs the real entry point (:func:`verifier.cli.main`) in process and must end in
exit code 2 with one stderr line under 300 characters that names the argument, quotes at
most about 40 characters of a value, prints nothing on stdout, and leaves no file or folder
behind (every case runs in a fresh folder that must stay empty but for what the case made).
The kinds: numbers that ``int()`` takes but a command line does not (``５``, ``٣``,
``1_0``, ``' 5'``, 400 digits), for every numeric option of every command; options a
command does not use; refusals that must come before any side effect; paths that cannot be
written (``/proc``, ``/sys``, a line break, links, names too long, a file in the way);
malformed lists and names; requests whose work would not be bounded.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from verifier.cli import main

Case = tuple[str, Callable[[Path], list[str]], str]

#: Values ``int()`` accepts or that break naive parsing, refused by every numeric option.
HOSTILE_NUMBERS = {
    "fullwidth": "５",
    "arabic-indic": "٣",
    "underscore": "1_0",
    "leading-space": " 5",
    "trailing-space": "5 ",
    "plus": "+5",
    "hex": "0x10",
    "exponent": "1e3",
    "400-digits": "4" * 400,
    "unicode-minus": "−1",
    "newline": "5\n",
    "tab": "\t5",
    "float": "5.0",
    "empty": "",
    "superscript": "²",
}

#: Every numeric option: (command line before the option, option). The rest of the line is
#: valid, so the option itself is what is refused.
NUMERIC_OPTIONS: list[tuple[list[str], str]] = [
    (["masks", "--depth", "3"], "--size"),
    (["masks", "--size", "5"], "--depth"),
    (["masks", "--size", "5", "--depth", "3"], "--kernel"),
    (["masks", "--size", "5", "--depth", "3"], "--filters"),
    (["depth"], "--size"),
    (["depth", "--size", "5"], "--kernel"),
    (["depth", "--size", "8"], "--downsample"),
    (["matrix"], "--size"),
    (["matrix", "--size", "3"], "--kernel"),
    (["matrix", "--size", "3"], "--stride"),
    (["matrix", "--size", "3"], "--seed"),
    (["explore", "--out", "{tmp}/x.html"], "--size"),
    (["explore", "--out", "{tmp}/x.html"], "--depth"),
    (["explore", "--out", "{tmp}/x.html"], "--kernel"),
    (["explore", "--out", "{tmp}/x.html"], "--filters"),
    (["all", "--quick"], "--jobs"),
    (["experiment", "table1", "--quick"], "--seed"),
    (["experiment", "table1", "--quick"], "--seeds"),
    (["report", "--out", "{tmp}/r", "--quick"], "--seed"),
]


def _filled(argv: list[str], tmp: Path) -> list[str]:
    return [a.replace("{tmp}", str(tmp)) for a in argv]


def _masks(size: str, depth: str, *more: str) -> list[str]:
    """``masks --size SIZE --depth DEPTH MORE...``."""
    return ["masks", "--size", size, "--depth", depth, *more]


def _masks_picture(size: str, depth: str, ext: str) -> Callable[[Path], list[str]]:
    """``masks --size SIZE --depth DEPTH --EXT TMP/x.EXT``: a picture request."""
    return lambda t: _masks(size, depth, f"--{ext}", str(t / f"x.{ext}"))


def _number_cases() -> list[Case]:
    cases: list[Case] = []
    for before, option in NUMERIC_OPTIONS:
        for kind, value in HOSTILE_NUMBERS.items():
            cases.append(
                (
                    f"{before[0]}{option}-{kind}",
                    lambda t, b=before, o=option, v=value: [*_filled(b, t), o, v],
                    option,
                )
            )
    return cases


X = ["experiment", "table1", "--quick"]

#: Options a command does not use: refused, never ignored.
UNUSED: list[Case] = [
    ("list-seed", lambda t: ["experiment", "list", "--seed", "1"], "--seed"),
    ("list-seed-abc", lambda t: ["experiment", "list", "--seed", "abc"], "--seed"),
    ("list-seeds", lambda t: ["experiment", "list", "--seeds", "2"], "--seeds"),
    ("list-device", lambda t: ["experiment", "list", "--device", "cuda"], "--device"),
    ("list-device-tpu", lambda t: ["experiment", "list", "--device", "tpu"], "--device"),
    ("list-out", lambda t: ["experiment", "list", "--out", str(t / "o")], "--out"),
    ("list-resume", lambda t: ["experiment", "list", "--resume"], "--resume"),
    ("list-quick", lambda t: ["experiment", "list", "--quick"], "--quick"),
    ("list-images", lambda t: ["experiment", "list", "--images", str(t)], "--images"),
    ("list-reading", lambda t: ["experiment", "list", "--reading", "depth2"], "--reading"),
    ("readings-seed", lambda t: ["experiment", "readings", "--seed", "1"], "--seed"),
    ("readings-seed-neg", lambda t: ["experiment", "readings", "--seed", "-1"], "--seed"),
    ("readings-out-proc", lambda t: ["experiment", "readings", "--out", "/proc/x"], "--out"),
    ("readings-json", lambda t: ["experiment", "readings", "--json"], "--json"),
    ("readings-quick", lambda t: ["experiment", "readings", "--quick"], "--quick"),
    (
        "reading-list-seed",
        lambda t: ["experiment", "table1", "--reading", "list", "--seed", "1"],
        "--seed",
    ),
    (
        "reading-list-out",
        lambda t: ["experiment", "table2", "--reading", "list", "--out", str(t / "o")],
        "--out",
    ),
    ("resume-no-out-table1", lambda t: [*X, "--resume"], "--resume"),
    ("resume-no-out-table2", lambda t: ["experiment", "table2", "--resume"], "--resume"),
    ("resume-no-out-nonlinear", lambda t: ["experiment", "nonlinear", "--resume"], "--resume"),
    ("images-for-table1", lambda t: [*X, "--images", str(t)], "--images"),
    ("images-for-table2", lambda t: ["experiment", "table2", "--images", str(t)], "--images"),
    (
        "matrix-symbolic-seed",
        lambda t: ["matrix", "--size", "3", "--symbolic", "--seed", "1"],
        "--seed",
    ),
    (
        "masks-json-verbose",
        lambda t: ["masks", "--size", "4", "--depth", "2", "--json", "--verbose"],
        "--verbose",
    ),
    (
        "masks-json-show-mask",
        lambda t: ["masks", "--size", "4", "--depth", "2", "--json", "--show-mask"],
        "--show-mask",
    ),
    ("masks-range-without-gif", lambda t: ["masks", "--size", "4", "--depth", "1..3"], "--depth"),
    (
        "masks-range-with-png",
        lambda t: ["masks", "--size", "4", "--depth", "1..3", "--png", str(t / "m.png")],
        "--depth",
    ),
]

#: Refusals whose --out (or picture) must not exist afterwards: refuse first, create later.
BEFORE: list[Case] = [
    (
        "cert-only-nomatch",
        lambda t: ["certificates", "--out", str(t / "new"), "--only", "nomatch"],
        "--only",
    ),
    (
        "cert-solvers-bogus",
        lambda t: ["certificates", "--out", str(t / "new"), "--solvers", "bogus"],
        "--solvers",
    ),
    (
        "exp-reading-bogus",
        lambda t: [*X, "--out", str(t / "new"), "--reading", "bogus"],
        "--reading",
    ),
    (
        "exp-reading-twice",
        lambda t: [*X, "--out", str(t / "new"), "--reading", "depth2,depth2"],
        "--reading",
    ),
    ("exp-device-tpu", lambda t: [*X, "--out", str(t / "new"), "--device", "tpu"], "--device"),
    ("exp-seeds-twice", lambda t: [*X, "--out", str(t / "new"), "--seeds", "0,0"], "--seeds"),
    (
        "exp-seed-and-seeds",
        lambda t: [*X, "--out", str(t / "new"), "--seed", "1", "--seeds", "2"],
        "--seed",
    ),
    (
        "exp-seeds-one-seed-exp",
        lambda t: [
            "experiment",
            "downsampling",
            "--quick",
            "--out",
            str(t / "new"),
            "--seeds",
            "2",
        ],
        "--seeds",
    ),
    (
        "exp-images-missing",
        lambda t: [
            "experiment",
            "nonlinear",
            "--quick",
            "--out",
            str(t / "new"),
            "--images",
            str(t / "none"),
        ],
        "--images",
    ),
    ("exp-unknown-name", lambda t: ["experiment", "table9", "--out", str(t / "new")], "NAME"),
    (
        "exp-nested-new",
        lambda t: [*X, "--out", str(t / "new" / "a" / "b"), "--reading", "x"],
        "--reading",
    ),
    (
        "report-device-tpu",
        lambda t: ["report", "--out", str(t / "new"), "--device", "tpu"],
        "--device",
    ),
    ("report-seed-abc", lambda t: ["report", "--out", str(t / "new"), "--seed", "abc"], "--seed"),
    (
        "explore-size-0",
        lambda t: ["explore", "--out", str(t / "new.html"), "--size", "0"],
        "--size",
    ),
    (
        "explore-odd-downsample",
        lambda t: ["explore", "--out", str(t / "new.html"), "--size", "5", "--downsample"],
        "--size",
    ),
    (
        "png-bad-kernel",
        lambda t: _masks("4", "2", "--kernel", "2", "--png", str(t / "new.png")),
        "--kernel",
    ),
    (
        "gif-too-many-frames",
        lambda t: ["masks", "--size", "4", "--depth", "0..200", "--gif", str(t / "new.gif")],
        "--depth",
    ),
    (
        "svg-bad-pixels",
        lambda t: _masks("4", "2", "--pixels", "9,9", "--svg", str(t / "new.svg")),
        "--pixels",
    ),
]


def _path_cases() -> list[Case]:
    """Paths that cannot be written, for every option that writes one."""
    options: list[tuple[str, list[str], str, str]] = [
        # (name, command before, option, extension)
        ("png", ["masks", "--size", "4", "--depth", "2"], "--png", ".png"),
        ("svg", ["masks", "--size", "4", "--depth", "2"], "--svg", ".svg"),
        ("gif", ["masks", "--size", "4", "--depth", "2"], "--gif", ".gif"),
        ("explore", ["explore"], "--out", ".html"),
        ("cert", ["certificates", "--only", "thm1.step"], "--out", ""),
        ("exp", [*X], "--out", ""),
        ("report", ["report", "--quick"], "--out", ""),
    ]
    places: dict[str, Callable[[Path, str], str]] = {
        "proc": lambda t, e: f"/proc/verify-x{e}",
        "sys": lambda t, e: f"/sys/verify-x{e}",
        "newline": lambda t, e: str(t / f"a\nb{e}"),
        "carriage-return": lambda t, e: str(t / f"a\rb{e}"),
        "nul": lambda t, e: str(t / f"a\x00b{e}"),
        "name-256": lambda t, e: str(t / ("n" * 256 + e)),
        "path-5000": lambda t, e: str(t / "/".join(["p" * 200] * 25)) + e,
        "under-a-file": lambda t, e: str(t / "a-file" / f"x{e}"),
        "dangling-parent-link": lambda t, e: str(t / "gone-link" / f"x{e}"),
        "empty": lambda t, e: "",
    }
    cases: list[Case] = []
    for name, before, option, ext in options:
        for place, make in places.items():
            cases.append(
                (
                    f"{name}-{place}",
                    lambda t, b=before, o=option, e=ext, m=make: [*b, o, m(t, e)],
                    option,
                )
            )
    return cases


NAMES: list[Case] = [
    ("explain-solvers-bogus", lambda t: ["explain", "thm4", "--solvers", "bogus"], "--solvers"),
    ("all-solvers-empty", lambda t: ["all", "--solvers", ""], "--solvers"),
    ("all-solvers-cvc5-alone", lambda t: ["all", "--solvers", "cvc5"], "--solvers"),
    ("all-solvers-twice", lambda t: ["all", "--solvers", "z3,z3"], "--solvers"),
    ("all-solvers-trailing-comma", lambda t: ["all", "--solvers", "z3,"], "--solvers"),
    ("all-only-comma", lambda t: ["all", "--only", ","], "--only"),
    ("all-only-empty-item", lambda t: ["all", "--only", "thm1,,thm4"], "--only"),
    ("all-only-newline", lambda t: ["all", "--only", "thm1\nthm4"], "--only"),
    ("all-only-nomatch", lambda t: ["all", "--only", "zzz"], "--only"),
    ("check-id-newline", lambda t: ["check", "thm1\nx"], "ID"),
    ("check-id-5000", lambda t: ["check", "t" * 5000], "ID"),
    ("check-id-empty", lambda t: ["check", ""], "ID"),
    ("explain-id-5000", lambda t: ["explain", "e" * 5000], "ID"),
    ("exp-name-5000", lambda t: ["experiment", "x" * 5000], "NAME"),
    ("exp-name-newline", lambda t: ["experiment", "table1\n"], "NAME"),
    ("exp-reading-empty", lambda t: [*X, "--reading", ""], "--reading"),
    ("exp-reading-comma", lambda t: [*X, "--reading", ","], "--reading"),
    ("exp-reading-newline", lambda t: [*X, "--reading", "depth2\ndepth3"], "--reading"),
    ("exp-reading-other-exp", lambda t: [*X, "--reading", "cstar"], "--reading"),
    ("exp-reading-5000", lambda t: [*X, "--reading", "r" * 5000], "--reading"),
    ("exp-device-cuda-x", lambda t: [*X, "--device", "cuda:x"], "--device"),
    ("exp-device-upper", lambda t: [*X, "--device", "CPU"], "--device"),
    ("exp-device-space", lambda t: [*X, "--device", " cpu"], "--device"),
    ("exp-seeds-0", lambda t: [*X, "--seeds", "0"], "--seeds"),
    ("exp-seeds-65", lambda t: [*X, "--seeds", "65"], "--seeds"),
    ("exp-seeds-range-65", lambda t: [*X, "--seeds", "0..64"], "--seeds"),
    ("exp-seeds-huge-range", lambda t: [*X, "--seeds", "0..99999999999999999"], "--seeds"),
    ("exp-seeds-backwards", lambda t: [*X, "--seeds", "4..2"], "--seeds"),
    ("exp-seeds-over-2-32", lambda t: [*X, "--seeds", f"{2**32}..{2**32 + 1}"], "--seeds"),
    ("exp-seeds-list-dup", lambda t: [*X, "--seeds", "1,2,1"], "--seeds"),
    ("exp-seeds-list-empty", lambda t: [*X, "--seeds", "1,,2"], "--seeds"),
    ("exp-seeds-fullwidth-range", lambda t: [*X, "--seeds", "１..３"], "--seeds"),
    (
        "masks-pixels-30000",
        lambda t: ["masks", "--size", "90", "--depth", "3", "--pixels", ";".join(["1,1"] * 30000)],
        "--pixels",
    ),
    (
        "masks-pixels-65",
        lambda t: [
            "masks",
            "--size",
            "9",
            "--depth",
            "3",
            "--pixels",
            ";".join(f"{i % 9},{i // 9}" for i in range(65)),
        ],
        "--pixels",
    ),
    (
        "masks-pixels-fullwidth",
        lambda t: ["masks", "--size", "5", "--depth", "3", "--pixels", "１,１"],
        "--pixels",
    ),
    (
        "masks-pixels-400-digits",
        lambda t: ["masks", "--size", "5", "--depth", "3", "--pixels", "1," + "9" * 400],
        "--pixels",
    ),
    ("masks-depth-range-fullwidth", _masks_picture("5", "１..３", "gif"), "--depth"),
    ("depth-range-underscore", lambda t: ["depth", "--size", "1_0..20"], "--size"),
    ("depth-range-spaces", lambda t: ["depth", "--size", "1 .. 20"], "--size"),
    ("depth-range-three-dots", lambda t: ["depth", "--size", "1...20"], "--size"),
    ("depth-range-400-digits", lambda t: ["depth", "--size", "1.." + "9" * 400], "--size"),
    (
        "depth-kernel-400-digits-range",
        lambda t: ["depth", "--size", "1..5", "--kernel", "9" * 400],
        "--kernel",
    ),
]


#: Requests whose work would not be bounded: refused at once.
BOUNDED: list[Case] = [
    ("gif-size4-0..200", _masks_picture("4", "0..200", "gif"), "--depth"),
    ("gif-size4-depth-200", _masks_picture("4", "200", "gif"), "--depth"),
    ("gif-size90-0..29", _masks_picture("90", "0..29", "gif"), "--depth"),
    ("gif-size32-1..17", _masks_picture("32", "1..17", "gif"), "--depth"),
    ("gif-depth-31", _masks_picture("3", "31", "gif"), "--depth"),
    ("gif-1..31", _masks_picture("3", "1..31", "gif"), "--depth"),
    ("png-size90-depth89", _masks_picture("90", "89", "png"), "--size"),
    ("svg-size49", _masks_picture("49", "3", "svg"), "--size"),
    ("depth-million-sizes", lambda t: ["depth", "--size", "1..1000000"], "--size"),
    ("depth-kernel-1-range", lambda t: ["depth", "--size", "1..3000", "--kernel", "1"], "--size"),
]

CASES: list[Case] = [*_number_cases(), *UNUSED, *BEFORE, *_path_cases(), *NAMES, *BOUNDED]


@pytest.fixture()
def place(tmp_path: Path) -> Path:
    """A fresh folder with a file and a dangling link in it (what the path cases use)."""
    (tmp_path / "a-file").write_text("not a folder\n")
    (tmp_path / "gone-link").symlink_to(tmp_path / "nothing-here")
    return tmp_path


def test_the_two_corpora_hold_at_least_400_cases() -> None:
    from test_bad_inputs import CASES as FIRST

    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) + len(FIRST) >= 400, len(ids) + len(FIRST)


@pytest.mark.parametrize(("argv_of", "argument"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_input_is_one_short_line_exit_2_and_no_side_effect(
    place: Path, argv_of: Callable[[Path], list[str]], argument: str
) -> None:
    before = sorted(os.listdir(place))
    argv = argv_of(place)
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, out, err)
    text = err.getvalue()
    lines = text.splitlines()
    assert code == 2, (code, text[-600:])
    assert len(lines) == 1, text[-600:]
    line = lines[0]
    assert line.startswith("verify: error: ") and "Traceback" not in text
    assert argument in line, line
    assert len(line) < 300, line
    assert "4" * 60 not in line and "9" * 60 not in line  # a long value is cut
    assert out.getvalue() == ""
    assert sorted(os.listdir(place)) == before  # nothing created, not even the --out folder
