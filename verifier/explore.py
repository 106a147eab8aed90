"""``verify explore``: one self-contained HTML page to explore forced zeros interactively.

The page (``explore_page.html`` beside this module) recomputes in the browser what
``verify masks`` and ``verify depth`` compute: a conv layer's pattern is
``channels ⊗ rows ⊗ cols``; along one axis a 'same'-padded k-tap conv is a band, so the
network's d×d pattern (d = s²) is ``R ⊗ C`` with R = C the boolean product of the per-axis
patterns, and entry (r·s + c, r'·s + c') is reachable iff ``R[r, r']`` and ``C[c, c']``.
It exposes ``window.symconv.mask({size, depth, kernel, filters})``, which returns the rows of
``verify masks --json``'s ``mask``. No network, no CDN: inline script and style, opens from
``file://``.
"""

from __future__ import annotations

import json
from argparse import Namespace, _SubParsersAction
from pathlib import Path
from typing import Any, TextIO

from . import args as A
from .errors import UsageError
from .options import Option, command

__all__ = ["explore_page", "opening_depth"]

_TEMPLATE = Path(__file__).with_name("explore_page.html")
_PLACEHOLDER = '/*__INITIAL__*/{"size": 5, "depth": 4, "kernel": 3, "filters": 1, "downsample": 1}'


def _python_summary(size: int, depth: int, kernel: int, filters: int, downsample: int) -> dict:
    """forced zeros and full support from symconv, shown beside the page's own numbers."""
    from symconv import conv_stack, factored_pattern

    if downsample == 1:
        net = conv_stack(size, depth, kernel=kernel, filters=filters)
    else:
        from .cli_masks import _downsampling_family

        net = _downsampling_family(size, kernel, downsample)(depth)
    pat = factored_pattern(net)
    assert pat is not None
    return {"forced_zeros": pat.forced_zeros, "full_support": pat.full}


#: the committed full-size Table 1 run, whose spectra the Table 1 preset shows
_TABLE1_RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results" / "table1.json"


def _table1_rows() -> list[dict[str, Any]]:
    """Table 1's printed rows, each with the spectrum measured in the committed run (the
    first reading of that row in ``docs/results/table1.json``) when the file is there."""
    from paperdata import TABLE1

    measured: dict[tuple[int, int], dict[str, Any]] = {}
    try:
        rows = json.loads(_TABLE1_RESULTS.read_text(encoding="utf-8"))["rows"]
    except (OSError, ValueError, KeyError, TypeError):
        rows = []
    for r in rows:
        if isinstance(r, dict) and "layers" in r and "filters_printed" in r:
            measured.setdefault((r["layers"], r["filters_printed"]), r)
    out = []
    for row in TABLE1:
        got = measured.get((row.layers_printed, row.filters), {})
        spectrum = got.get("spectrum")
        out.append(
            {
                "size": row.size,
                "train_examples": row.train_examples,
                "layers": row.layers_printed,
                "filters": row.filters,
                "params": row.params_printed,
                "spectrum": [round(float(v), 4) for v in spectrum] if spectrum else None,
                "memorized": got.get("memorized"),
            }
        )
    return out


def opening_depth(size: int, kernel: int = 3, downsample: bool = False) -> int:
    """Where the page opens when no depth is asked: half the least depth without forced
    zeros, so that forced zeros are on screen (at the least depth the mask is all black)."""
    from symconv import min_full_depth, min_full_depth_of

    if downsample:
        from .cli_masks import _downsampling_family

        least = min_full_depth_of(_downsampling_family(size, kernel, 2), 2 * size)
    else:
        least = min_full_depth(size, kernel)
    if least is None:
        return min(2, size)
    return 0 if least <= 1 else max(1, least // 2)


def explore_page(
    size: int = 5,
    depth: int | None = None,
    kernel: int = 3,
    filters: int = 1,
    downsample: bool = False,
) -> str:
    """The explorer's HTML, opening at this configuration (depth: :func:`opening_depth`)."""
    stride = 2 if downsample else 1
    if depth is None:
        depth = opening_depth(size, kernel, downsample)
    initial = {
        "size": size,
        "depth": depth,
        "kernel": kernel,
        "filters": filters,
        "downsample": stride,
        "python": _python_summary(size, depth, kernel, filters, stride),
        "table1": _table1_rows(),
    }
    text = _TEMPLATE.read_text(encoding="utf-8")
    assert _PLACEHOLDER in text
    blob = json.dumps(initial).replace("</", "<\\/")
    return text.replace(_PLACEHOLDER, blob)


def add_parsers(sub: _SubParsersAction[Any]) -> None:
    command(
        sub,
        "explore",
        _explore,
        Option(
            "--out",
            "the HTML file to write (FILE.html)",
            A.path_text(".html", ".htm"),
            required=True,
        ),
        Option("--size", "initial image size s, 2..64 (default 5)", A.integer(2, 64), 5),
        Option(
            "--depth",
            "initial depth L, 0..512 (default: half the least full depth)",
            A.integer(0, 512),
        ),
        Option("--kernel", "initial odd kernel size k, 1..15 (default 3)", A.odd_kernel(15), 3),
        Option(
            "--filters", "initial number of filters F, 1..4096 (default 1)", A.integer(1, 4096), 1
        ),
        Option("--downsample", "start with the stride-2 network (Section 4)"),
        help="write an interactive forced-zero explorer (one HTML file)",
        description="Write one self-contained HTML page (no network) to explore which entries "
        "of a linear conv net's matrix are forced to zero, layer by layer (Theorem 4).",
    )


def _explore(args: Namespace, out: TextIO, err: TextIO) -> int:
    size, depth, kernel, filters = args.size, args.depth, args.kernel, args.filters
    if args.downsample and size % 2:
        raise UsageError("--size", size, "must be even with --downsample")
    from .store import check_new_file, write_atomic

    path = check_new_file("--out", args.out)

    write_atomic(path, explore_page(size, depth, kernel, filters, args.downsample))
    print(f"explorer written to {path} (open it in a browser; it needs no network)", file=out)
    return 0
