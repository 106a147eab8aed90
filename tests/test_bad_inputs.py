"""Every bad input gets one stderr line naming the argument, exit code 2, no traceback, fast.

Each case runs the real entry point (:func:`verifier.cli.main`) in process with captured
streams. The places a hostile but realistic user points the tool at (a FIFO, ``/dev/zero``,
a 3 GB sparse file, a decompression bomb, a 5000-character name, damaged rows files) are
made in a temporary folder. Property tests then throw generated argument strings at
``masks``, ``depth`` and ``matrix``: the answer is valid JSON with exit 0 or one line with
exit 2, never anything else.
"""

from __future__ import annotations

import io
import json
import os
import struct
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.cli import main

#: Seconds a refusal may take (the first case that imports torch pays a few seconds).
TIME_BOUND = 20.0
LONG = "a" * 5000
TABLE1 = {"experiment": "table1", "row_format": 1, "quick": True, "seed": 0, "images": None}


def run(argv: list[str]) -> tuple[int, str, str, float]:
    out, err = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    code = main(argv, out, err)
    return code, out.getvalue(), err.getvalue(), time.perf_counter() - t0


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width × height`` pixels (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width + 1))  # one row only: the header is what counts
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


class Place:
    """The hostile places, made once per module in a temporary folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.file = root / "a-file"
        self.file.write_text("not a folder\n")
        self.dir = root / "a-folder"
        self.dir.mkdir()
        self.png_dir = root / "folder.png"
        self.png_dir.mkdir()
        self.fifo = root / "fifo"
        os.mkfifo(self.fifo)
        self.sparse = root / "sparse.bin"
        with open(self.sparse, "wb") as fh:
            fh.truncate(3 * 2**30)  # 3 GB, no block on disk
        self.bomb = self._folder("bomb", {"big.png": _png_header(15000, 15000)})
        self.two = self._folder("two", {f"{i}.png": _png_header(8, 8) for i in range(2)})
        self.garbage_img = self._folder("garbage", {f"{i}.png": b"not an image" for i in range(12)})
        self.sparse_img = self.root / "sparse-img"
        self.sparse_img.mkdir()
        with open(self.sparse_img / "huge.png", "wb") as fh:
            fh.truncate(100 * 2**20)
        self.fifo_img = self.root / "fifo-img"
        self.fifo_img.mkdir()
        os.mkfifo(self.fifo_img / "x.png")
        self.subdir_img = self.root / "subdir-img"
        (self.subdir_img / "x.png").mkdir(parents=True)
        self.link_fifo = root / "link-to-fifo"
        self.link_fifo.symlink_to(self.fifo)
        self.short_bin = root / "short.bin"
        self.short_bin.write_bytes(b"\x00" * 3072)

    def _folder(self, name: str, files: dict[str, bytes]) -> Path:
        d = self.root / name
        d.mkdir()
        for k, v in files.items():
            (d / k).write_bytes(v)
        return d

    def rows(self, name: str, content: bytes | str | None, exp: str = "table1") -> str:
        """A fresh --out folder whose ``EXP.json`` holds ``content`` (None: a folder)."""
        d = self.root / f"rows-{name}"
        d.mkdir()
        target = d / f"{exp}.json"
        if content is None:
            target.mkdir()
        else:
            target.write_bytes(content.encode() if isinstance(content, str) else content)
        return str(d)


def _file(config: dict, rows: object, exp: str = "table1", fmt: int = 2) -> str:
    return json.dumps({"experiment": exp, "format": fmt, "config": config, "rows": rows})


def _fixed(name: str, argv: str, argument: str) -> Case:
    """A case whose command line needs no file: ``argv`` split on spaces."""
    return (name, lambda p: argv.split(), argument)


M = ["masks", "--size", "5", "--depth", "3"]
X = ["experiment", "table1", "--quick"]
NL = ["experiment", "nonlinear", "--quick"]

Case = tuple[str, Callable[[Place], list[str]], str]

CASES: list[Case] = [
    # ---- masks: numbers -------------------------------------------------------------
    *[
        (f"masks-size-{i}", lambda p, v=v: ["masks", "--size", v, "--depth", "3"], "--size")
        for i, v in enumerate(
            ["0", "-1", "abc", "", "1.5", "91", "1000000", "1" + "0" * 30, " ", "5x", "5\n6"]
        )
    ],
    *[
        (f"masks-depth-{i}", lambda p, v=v: ["masks", "--size", "5", "--depth", v], "--depth")
        for i, v in enumerate(["-1", "abc", "", "1.5", "-" + "9" * 30, "1e9", "9" * 5000])
    ],
    *[
        (f"masks-kernel-{i}", lambda p, v=v: [*M, "--kernel", v], "--kernel")
        for i, v in enumerate(["0", "2", "4", "-3", "abc", "", "1.5", "1000000"])
    ],
    *[
        (f"masks-filters-{i}", lambda p, v=v: [*M, "--filters", v], "--filters")
        for i, v in enumerate(["0", "-1", "abc", "", "2.0"])
    ],
    *[
        (f"masks-pixels-{i}", lambda p, v=v: [*M, "--pixels", v], "--pixels")
        for i, v in enumerate(["9,9", "a", "", "1,1;", "-1,0", "0,0,0", "5,0"])
    ],
    # ---- masks: --png paths ---------------------------------------------------------
    ("png-folder", lambda p: [*M, "--png", str(p.png_dir)], "--png"),
    ("png-folder-no-ext", lambda p: [*M, "--png", str(p.dir)], "--png"),
    ("png-missing-parent", lambda p: [*M, "--png", str(p.root / "no" / "x.png")], "--png"),
    ("png-under-a-file", lambda p: [*M, "--png", str(p.file / "x.png")], "--png"),
    ("png-read-only-place", lambda p: [*M, "--png", "/proc/x.png"], "--png"),
    ("png-5000-chars", lambda p: [*M, "--png", str(p.root / (LONG + ".png"))], "--png"),
    ("png-300-char-name", lambda p: [*M, "--png", str(p.root / ("b" * 300 + ".png"))], "--png"),
    ("png-empty", lambda p: [*M, "--png", ""], "--png"),
    ("png-jpg", lambda p: [*M, "--png", str(p.root / "x.jpg")], "--png"),
    ("png-no-extension", lambda p: [*M, "--png", str(p.root / "x")], "--png"),
    ("png-dev-null", lambda p: [*M, "--png", "/dev/null"], "--png"),
    ("png-fifo-named-png", lambda p: [*M, "--png", str(p.fifo_img / "x.png")], "--png"),
    ("png-nul-byte", lambda p: [*M, "--png", "a\x00.png"], "--png"),
    # ---- masks / depth / matrix: required and unknown arguments ---------------------
    ("masks-no-size", lambda p: ["masks", "--depth", "3"], "--size"),
    ("masks-no-depth", lambda p: ["masks", "--size", "3"], "--depth"),
    ("masks-unknown-flag", lambda p: [*M, "--frobnicate"], "--frobnicate"),
    ("depth-no-size", lambda p: ["depth"], "--size"),
    ("matrix-no-size", lambda p: ["matrix"], "--size"),
    # ---- depth ----------------------------------------------------------------------
    *[
        (f"depth-size-{i}", lambda p, v=v: ["depth", "--size", v], "--size")
        for i, v in enumerate(
            [
                "0",
                "-1",
                "abc",
                "",
                "5..3",
                "0..5",
                "1..",
                "..5",
                "900000..1000000",
                "10000..20000",
                "1000001",
                "1.." + "1" * 30,
                "1..3000",
            ]
        )
    ],
    *[
        (f"depth-kernel-{i}", lambda p, v=v: ["depth", "--size", "5", "--kernel", v], "--kernel")
        for i, v in enumerate(["0", "2", "abc", "", "-1"])
    ],
    *[
        (
            f"depth-downsample-{i}",
            lambda p, v=v: ["depth", "--size", "8", "--downsample", v],
            "--downsample",
        )
        for i, v in enumerate(["0", "abc", "-1", ""])
    ],
    _fixed("depth-downsample-no-size-fits", "depth --size 5 --downsample 2", "--size"),
    _fixed("depth-downsample-too-big", "depth --size 1024 --downsample 2", "--size"),
    _fixed("depth-huge-kernel-range", "depth --size 1..100000 --kernel 100001", "--size"),
    _fixed("depth-downsample-1..512", "depth --size 1..512 --downsample 2", "--size"),
    _fixed("depth-downsample-unseen-pixels", "depth --size 128 --downsample 128", "--size"),
    # ---- all --jobs ------------------------------------------------------------------
    *[
        (f"all-jobs-{i}", lambda p, v=v: ["all", "--quick", "--jobs", v], "--jobs")
        for i, v in enumerate(["0", "abc", "65", "-1", "1.5", "999999999999"])
    ],
    # ---- matrix ---------------------------------------------------------------------
    *[
        (f"matrix-size-{i}", lambda p, v=v: ["matrix", "--size", v], "--size")
        for i, v in enumerate(["0", "abc", "33", "90", "", "-4"])
    ],
    _fixed("matrix-size-90-symbolic", "matrix --size 90 --symbolic --json", "--size"),
    *[
        (f"matrix-kernel-{i}", lambda p, v=v: ["matrix", "--size", "3", "--kernel", v], "--kernel")
        for i, v in enumerate(["0", "abc", "100000", "7", ""])
    ],
    (
        "matrix-kernel-100000-symbolic",
        lambda p: ["matrix", "--size", "3", "--kernel", "100000", "--symbolic"],
        "--kernel",
    ),
    *[
        (f"matrix-stride-{i}", lambda p, v=v: ["matrix", "--size", "3", "--stride", v], "--stride")
        for i, v in enumerate(["0", "abc", "9", "-1"])
    ],
    *[
        (f"matrix-seed-{i}", lambda p, v=v: ["matrix", "--size", "3", "--seed", v], "--seed")
        for i, v in enumerate(["-1", "abc", "1" + "0" * 23, str(2**32)])
    ],
    # ---- experiment: name, seed, device ---------------------------------------------
    ("experiment-unknown", lambda p: ["experiment", "table9"], "NAME"),
    ("experiment-empty-name", lambda p: ["experiment", ""], "NAME"),
    ("experiment-newline-name", lambda p: ["experiment", "a\nb"], "NAME"),
    *[
        (f"experiment-seed-{i}", lambda p, v=v: [*X, "--seed", v], "--seed")
        for i, v in enumerate(["abc", "-1", "1" + "0" * 23, str(2**32), "1.5", ""])
    ],
    ("experiment-device-tpu", lambda p: [*X, "--device", "tpu"], "--device"),
    ("experiment-device-empty", lambda p: [*X, "--device", ""], "--device"),
    # ---- experiment: --out ----------------------------------------------------------
    ("out-existing-file", lambda p: [*X, "--out", str(p.file)], "--out"),
    ("out-empty", lambda p: [*X, "--out", ""], "--out"),
    ("out-5000-chars", lambda p: [*X, "--out", str(p.root / LONG)], "--out"),
    ("out-300-char-name", lambda p: [*X, "--out", str(p.root / ("c" * 300))], "--out"),
    ("out-read-only-place", lambda p: [*X, "--out", "/proc/verify-out"], "--out"),
    ("out-under-a-file", lambda p: [*X, "--out", str(p.file / "sub")], "--out"),
    ("out-dev-null", lambda p: [*X, "--out", "/dev/null"], "--out"),
    ("out-fifo", lambda p: [*X, "--out", str(p.fifo)], "--out"),
    ("out-nul-byte", lambda p: [*X, "--out", "a\x00b"], "--out"),
    # ---- experiment: --images -------------------------------------------------------
    ("images-fifo", lambda p: [*NL, "--images", str(p.fifo)], "--images"),
    ("images-link-to-fifo", lambda p: [*NL, "--images", str(p.link_fifo)], "--images"),
    ("images-dev-zero", lambda p: [*NL, "--images", "/dev/zero"], "--images"),
    ("images-dev-null", lambda p: [*NL, "--images", "/dev/null"], "--images"),
    ("images-sparse-3GB", lambda p: [*NL, "--images", str(p.sparse)], "--images"),
    ("images-5000-chars", lambda p: [*NL, "--images", str(p.root / LONG)], "--images"),
    ("images-300-char-name", lambda p: [*NL, "--images", str(p.root / ("d" * 300))], "--images"),
    ("images-missing", lambda p: [*NL, "--images", str(p.root / "nothing")], "--images"),
    ("images-empty-string", lambda p: [*NL, "--images", ""], "--images"),
    ("images-empty-folder", lambda p: [*NL, "--images", str(p.dir)], "--images"),
    ("images-bomb-15000x15000", lambda p: [*NL, "--images", str(p.bomb)], "--images"),
    ("images-two-for-nonlinear", lambda p: [*NL, "--images", str(p.two)], "--images"),
    ("images-garbage-pngs", lambda p: [*NL, "--images", str(p.garbage_img)], "--images"),
    ("images-100MB-sparse-png", lambda p: [*NL, "--images", str(p.sparse_img)], "--images"),
    ("images-fifo-in-folder", lambda p: [*NL, "--images", str(p.fifo_img)], "--images"),
    ("images-subfolder-named-png", lambda p: [*NL, "--images", str(p.subdir_img)], "--images"),
    ("images-short-bin", lambda p: [*NL, "--images", str(p.short_bin)], "--images"),
    ("images-a-text-file", lambda p: [*NL, "--images", str(p.file)], "--images"),
    (
        "images-bomb-for-init",
        lambda p: ["experiment", "initialization", "--quick", "--images", str(p.bomb)],
        "--images",
    ),
    (
        "images-fifo-downsampling",
        lambda p: ["experiment", "downsampling", "--quick", "--images", str(p.fifo)],
        "--images",
    ),
    # ---- experiment: --resume with a damaged or foreign rows file -------------------
    (
        "resume-truncated",
        lambda p: [*X, "--resume", "--out", p.rows("trunc", _file(TABLE1, [])[:-7])],
        "--resume",
    ),
    (
        "resume-garbage",
        lambda p: [*X, "--resume", "--out", p.rows("garbage", "}{ nonsense")],
        "--resume",
    ),
    (
        "resume-binary",
        lambda p: [*X, "--resume", "--out", p.rows("binary", bytes(range(256)))],
        "--resume",
    ),
    ("resume-list", lambda p: [*X, "--resume", "--out", p.rows("list", "[1,2,3]")], "--resume"),
    ("resume-null", lambda p: [*X, "--resume", "--out", p.rows("null", "null")], "--resume"),
    ("resume-empty-file", lambda p: [*X, "--resume", "--out", p.rows("empty", "")], "--resume"),
    (
        "resume-rows-without-key",
        lambda p: [*X, "--resume", "--out", p.rows("nokey", _file(TABLE1, [{"a": 1}]))],
        "--resume",
    ),
    (
        "resume-rows-abc",
        lambda p: [*X, "--resume", "--out", p.rows("abc", _file(TABLE1, "abc"))],
        "--resume",
    ),
    (
        "resume-row-not-object",
        lambda p: [*X, "--resume", "--out", p.rows("rowint", _file(TABLE1, [1]))],
        "--resume",
    ),
    (
        "resume-duplicate-key",
        lambda p: [*X, "--resume", "--out", p.rows("dup", _file(TABLE1, [{"key": "a"}] * 2))],
        "--resume",
    ),
    ("resume-a-folder", lambda p: [*X, "--resume", "--out", p.rows("folder", None)], "--resume"),
    (
        "resume-table2-file",
        lambda p: [*X, "--resume", "--out", p.rows("t2", _file(TABLE1, [], exp="table2"))],
        "--resume",
    ),
    (
        "resume-other-seed",
        lambda p: [*X, "--resume", "--out", p.rows("seed", _file({**TABLE1, "seed": 1}, []))],
        "--resume",
    ),
    (
        "resume-full-run-file",
        lambda p: [*X, "--resume", "--out", p.rows("full", _file({**TABLE1, "quick": False}, []))],
        "--resume",
    ),
    (
        "resume-other-images",
        lambda p: [*X, "--resume", "--out", p.rows("img", _file({**TABLE1, "images": "x"}, []))],
        "--resume",
    ),
    (
        "resume-old-format",
        lambda p: [
            *X,
            "--resume",
            "--out",
            p.rows("v1", json.dumps({"experiment": "table1", "rows": []})),
        ],
        "--resume",
    ),
    (
        "resume-no-config",
        lambda p: [*X, "--resume", "--out", p.rows("nocfg", _file(None, []))],
        "--resume",
    ),  # type: ignore[arg-type]
    (
        "resume-deeply-nested",
        lambda p: [*X, "--resume", "--out", p.rows("deep", "[" * 100000 + "]" * 100000)],
        "--resume",
    ),
    (
        "resume-latin1",
        lambda p: [*X, "--resume", "--out", p.rows("latin", "caf\xe9".encode("latin-1"))],
        "--resume",
    ),
    (
        "resume-sparse-huge",
        lambda p: [*X, "--resume", "--out", p.rows("huge", "")],
        "--resume",
    ),  # made huge below
    # ---- report ---------------------------------------------------------------------
    ("report-out-file", lambda p: ["report", "--quick", "--out", str(p.file)], "--out"),
    ("report-out-empty", lambda p: ["report", "--quick", "--out", ""], "--out"),
    ("report-out-5000", lambda p: ["report", "--quick", "--out", str(p.root / LONG)], "--out"),
    ("report-out-read-only", lambda p: ["report", "--quick", "--out", "/proc/rep"], "--out"),
    ("report-out-missing", lambda p: ["report", "--quick"], "--out"),
    (
        "report-device-tpu",
        lambda p: ["report", "--out", str(p.root / "r1"), "--device", "tpu"],
        "--device",
    ),
    *[
        (
            f"report-seed-{i}",
            lambda p, v=v: ["report", "--out", str(p.root / "r2"), "--seed", v],
            "--seed",
        )
        for i, v in enumerate(["abc", "-1", str(2**32)])
    ],
    # ---- the rest of the command line -----------------------------------------------
    ("no-command", lambda p: [], "COMMAND"),
    ("unknown-command", lambda p: ["frobnicate"], "COMMAND"),
    ("empty-command", lambda p: [""], "COMMAND"),
    ("check-unknown-id", lambda p: ["check", "thm99.nothing"], "thm99.nothing"),
    ("explain-unknown-id", lambda p: ["explain", "thm99.nothing"], "thm99.nothing"),
]


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


if not _cuda_available():
    CASES += [
        ("experiment-device-cuda", lambda p: [*X, "--device", "cuda"], "--device"),
        ("experiment-device-cuda1", lambda p: [*X, "--device", "cuda:1"], "--device"),
        (
            "report-device-cuda",
            lambda p: ["report", "--quick", "--out", str(p.root / "r3"), "--device", "cuda"],
            "--device",
        ),
    ]


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Place:
    p = Place(tmp_path_factory.mktemp("hostile"))
    return p


def test_the_corpus_is_large_and_named_uniquely() -> None:
    ids = [c[0] for c in CASES]
    assert len(ids) >= 150, len(ids)
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(("argv_of", "argument"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(
    place: Place,
    argv_of: Callable[[Place], list[str]],
    argument: str,
    request: pytest.FixtureRequest,
) -> None:
    argv = argv_of(place)
    if request.node.callspec.id == "resume-sparse-huge":
        rows = Path(argv[argv.index("--out") + 1]) / "table1.json"
        with open(rows, "wb") as fh:
            fh.truncate(2**30)  # 1 GB of zeros, sparse: must be refused by its size
    code, out, err, seconds = run(argv)
    lines = err.splitlines()
    assert code == 2, (code, err[-2000:])
    assert len(lines) == 1, err[-2000:]
    assert "Traceback" not in err
    assert argument in lines[0], lines[0]
    assert lines[0].startswith("verify: error: ")
    assert len(lines[0]) < 600, lines[0]
    assert out == ""
    assert seconds < TIME_BOUND


def test_nothing_was_written_by_refused_png(place: Place) -> None:
    assert not (place.root / "x.jpg").exists()
    assert not (place.root / "x").exists()


# ---- accepted extremes: answered fast, from the smallest equivalent computation ----------


@pytest.mark.parametrize(
    "argv",
    [
        ["masks", "--size", "5", "--depth", "3", "--filters", "1000000000", "--json"],
        ["masks", "--size", "5", "--depth", "1000000000", "--json"],
        ["masks", "--size", "5", "--depth", "3", "--kernel", "1000001", "--json"],
        ["masks", "--size", "5", "--depth", "0", "--kernel", "1", "--json"],
    ],
    ids=["filters-1e9", "depth-1e9", "kernel-1000001", "identity"],
)
def test_extremes_reduce_to_an_equivalent_small_stack(argv: list[str]) -> None:
    code, out, err, seconds = run(argv)
    assert code == 0, err
    obj = json.loads(out)
    small = dict(zip(argv[1::2], argv[2::2], strict=False))
    ref_depth = min(int(small["--depth"]), 4)
    ref_kernel = min(int(small.get("--kernel", "3")), 9)
    code, ref_out, _, _ = run(
        ["masks", "--size", "5", "--depth", str(ref_depth), "--kernel", str(ref_kernel), "--json"]
    )
    assert obj["mask"] == json.loads(ref_out)["mask"]
    assert obj["certified"] is True
    assert seconds < 10


def test_masks_png_is_written_atomically(tmp_path: Path) -> None:
    target = tmp_path / "m.PNG"
    code, _, err, _ = run(["masks", "--size", "4", "--depth", "2", "--png", str(target)])
    assert code == 0, err
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["m.PNG"]  # no temporary left behind


def test_experiment_list_json() -> None:
    code, out, err, _ = run(["experiment", "list", "--json"])
    assert code == 0, err
    names = [e["name"] for e in json.loads(out)["experiments"]]
    assert {"table1", "table2", "nonlinear"} <= set(names)


# ---- property tests: generated argument strings ----------------------------------------

_numbers = st.one_of(
    st.integers(-3, 12).map(str),
    st.sampled_from(["0", "91", "1000", "10000", "1000000000", "1" + "0" * 30, "-1" + "0" * 30]),
    st.text(alphabet="0123456789.-e ,;x", max_size=6),
    st.text(max_size=4),
)
_ranges = st.one_of(_numbers, st.tuples(_numbers, _numbers).map(lambda t: f"{t[0]}..{t[1]}"))


def _json_or_one_line(argv: list[str]) -> tuple[int, object]:
    code, out, err, seconds = run(argv)
    assert seconds < 15, argv
    assert "Traceback" not in err
    if code == 0:
        return code, json.loads(out)
    assert code == 2, (argv, err)
    assert len(err.splitlines()) == 1 and out == "", (argv, err)
    return code, None


@settings(max_examples=60)
@given(size=_numbers, depth=_numbers, kernel=_numbers, filters=_numbers)
def test_masks_answers_json_or_one_line(size: str, depth: str, kernel: str, filters: str) -> None:
    argv = ["masks", "--size", size, "--depth", depth, "--kernel", kernel, "--filters", filters]
    code, obj = _json_or_one_line([*argv, "--json"])
    if code == 0:
        assert isinstance(obj, dict)
        assert len(obj["mask"]) == obj["size"] ** 2


@settings(max_examples=60)
@given(size=_ranges, kernel=_numbers, downsample=st.one_of(st.just("1"), _numbers))
def test_depth_answers_json_or_one_line(size: str, kernel: str, downsample: str) -> None:
    argv = ["depth", "--size", size, "--kernel", kernel, "--downsample", downsample, "--json"]
    code, obj = _json_or_one_line(argv)
    if code == 0:
        assert isinstance(obj, list) and obj


@settings(max_examples=60)
@given(size=_numbers, kernel=_numbers, stride=_numbers, seed=_numbers, symbolic=st.booleans())
def test_matrix_answers_json_or_one_line(
    size: str, kernel: str, stride: str, seed: str, symbolic: bool
) -> None:
    argv = ["matrix", "--size", size, "--kernel", kernel, "--stride", stride, "--seed", seed]
    code, obj = _json_or_one_line([*argv, "--json"] + (["--symbolic"] if symbolic else []))
    if code == 0:
        assert isinstance(obj, dict) and obj["rows"]
