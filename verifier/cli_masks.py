"""``verify masks | depth | matrix | audit``: forced zeros, least depths, layer matrices.

These commands import only numpy and symconv (no sympy, z3 or torch), so they answer fast.
"""

from __future__ import annotations

import json
import os
import re
from argparse import Namespace, _SubParsersAction
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from .errors import UsageError
from .mask_nets import inner_bound, masks_family, net_words

if TYPE_CHECKING:
    import numpy as np

    from symconv import Network


#: Largest dense d×d mask (entries) ``masks`` prints: s ≤ 90 (8100×8100, about 1 s and
#: 250 MB at the limit). Depth, kernel and filters cost nothing beyond it: the pattern is
#: computed at depth min(L, saturation depth), kernel min(k, 2s−1) and one filter.
MAX_DENSE_ENTRIES = 2**26
#: Largest layer matrix ``matrix`` prints (entries, rows × columns): s ≤ 32 at stride 1,
#: one string per entry (about 2 s and 100 MB of output at the limit).
MAX_MATRIX_ENTRIES = 2**20
#: ``depth``: the least depth is found by walking the layers' reach one layer at a time,
#: ⌈(s−1)/((k−1)/2)⌉ steps per size (plus s/256 for the arrays); a request may take at
#: most this many steps in all (about 2 s), e.g. --size 1..2400 at k = 3.
MAX_DEPTH_STEPS = 3_000_000
MAX_DEPTH_SIZE = 1_000_000
#: ``depth --downsample T`` builds the network at each depth L = 0, 1, … until no zero is
#: forced: (L+1)(L+4)/2 layer applications per size, up to L = 2s when a stride-T layer
#: with k < T never sees some pixel, else up to Theorem 4's bound at s/T (plus one). A
#: request may take at most this many applications in all (about 3 s), e.g. --size 256.
MAX_DOWNSAMPLE_LAYERS = 10_000


def add_parsers(sub: _SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "masks",
        help="forced-zero pattern of L conv layers on s×s images",
        description="Which entries of the end-to-end matrix of L conv layers are forced to "
        "zero whatever the weights (Theorem 4: fewer than s−1 layers of 3×3 filters leave "
        "some, whatever the number of filters).",
    )
    p.add_argument("--size", required=True, help="image size s (s×s images)")
    p.add_argument(
        "--depth", required=True, help="number of conv layers L (with --gif also a range A..B)"
    )
    p.add_argument("--kernel", default="3", help="odd kernel size k (default 3)")
    p.add_argument("--filters", default="1", help="filters F in the hidden layers (default 1)")
    p.add_argument("--pixels", default=None, help="output pixels to show, e.g. '0,0;2,3'")
    p.add_argument("--show-mask", action="store_true", help="print the d×d mask even if large")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--png", default=None, help="write an annotated picture (title, axes, legend) as PNG"
    )
    p.add_argument("--svg", default=None, help="the same picture as SVG, for print")
    p.add_argument(
        "--gif", default=None, help="an animated GIF over depths 1..L (or the range A..B)"
    )
    p.add_argument(
        "--downsample",
        default="1",
        help="T > 1: Section 4's network, a stride-T layer first, the L layers at size s/T, "
        "then ×T nearest upsampling (s divisible by T)",
    )
    p.add_argument(
        "--verbose", action="store_true", help="also print how the entries were certified"
    )
    p.set_defaults(handler=_masks)

    p = sub.add_parser("depth", help="least depth with no forced zero (Theorem 4)")
    p.add_argument("--size", required=True, help="image size S or a range A..B")
    p.add_argument("--kernel", default="3", help="odd kernel size k (default 3)")
    p.add_argument(
        "--downsample",
        default="1",
        help="T > 1: one stride-T layer first, the L layers at size s/T, then ×T nearest "
        "upsampling (Section 4); sizes not divisible by T are left out of a range",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_depth)

    p = sub.add_parser("matrix", help="one conv layer's matrix (Appendix D)")
    p.add_argument("--size", required=True, help="image size s")
    p.add_argument("--kernel", default="3", help="kernel size k (default 3)")
    p.add_argument("--stride", default="1", help="stride (default 1)")
    p.add_argument("--symbolic", action="store_true", help="entries named A1..A{k²}")
    p.add_argument("--seed", default="0", help="seed of the random numeric weights")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_matrix)

    p = sub.add_parser("audit", help="Tables 1–2: printed vs recomputed bounds and params")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_audit)


def _depths(text: str, gif: bool) -> tuple[int, list[int]]:
    """``L`` or (with --gif) ``A..B``: the depth shown in text, and the GIF's frames."""
    m = re.fullmatch(r"\s*(\d+)\s*\.\.\s*(\d+)\s*", text)
    if m is None:
        depth = _int("--depth", text, minimum=0)
        if not gif:
            return depth, []
        if depth > 200:
            raise UsageError("--depth", text, "a GIF has at most 200 frames: give A..B")
        return depth, list(range(min(1, depth), depth + 1))
    if not gif:
        raise UsageError("--depth", text, "a range A..B is for --gif; give one depth L")
    a, b = int(m[1]), int(m[2])
    if b < a or b - a > 200:
        raise UsageError("--depth", text, "expected A..B with A ≤ B and at most 200 frames")
    return b, list(range(a, b + 1))


def _int(name: str, text: str, *, minimum: int = 1) -> int:
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise UsageError(name, text, "must be an integer") from None
    if value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer ≥ {minimum}"
        raise UsageError(name, text, f"must be {kind}")
    return value


def _odd_kernel(text: str) -> int:
    k = _int("--kernel", text)
    if k % 2 == 0:
        raise UsageError("--kernel", text, "must be odd: 'same' padding (k-1)/2 needs it")
    return k


def _check_dense(size: int, argument: str = "--size") -> None:
    if size**4 > MAX_DENSE_ENTRIES:
        raise UsageError(
            argument,
            size,
            f"the dense {size * size}×{size * size} mask would not fit "
            f"(limit {MAX_DENSE_ENTRIES} entries, s ≤ 90)",
        )


def _picture_path(option: str, text: str | None, ext: str) -> str | None:
    """Validate a picture path before any work: a file name ending in ``ext`` (its format)
    in an existing, writable folder."""
    import os
    import stat
    from pathlib import Path

    if text is None:
        return None
    if text == "" or "\x00" in text:
        raise UsageError(option, text, f"expected a file name ending in {ext}")
    shown = text if len(text) <= 200 else text[:40] + "…"
    if len(os.fsencode(text)) > 4096 or any(len(os.fsencode(p)) > 255 for p in Path(text).parts):
        raise UsageError(option, shown, "path too long (at most 4096 bytes, 255 per name)")
    path = Path(text)
    if path.suffix.lower() != ext:
        raise UsageError(
            option, shown, f"{option} writes {ext[1:].upper()}: the name must end in {ext}"
        )
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise UsageError(option, shown, f"cannot use the path ({exc.strerror})") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise UsageError(option, shown, "exists and is not a regular file")
    parent = path.parent
    if not parent.is_dir():
        raise UsageError(option, shown, f"folder {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(option, shown, f"folder {str(parent)!r} is not writable")
    return text


def _pixels(text: str | None, size: int) -> list[tuple[int, int]]:
    if text is None:
        return sorted({(0, 0), (size // 2, size // 2)})
    out = []
    for part in text.split(";"):
        m = re.fullmatch(r"\s*(\d+)\s*,\s*(\d+)\s*", part)
        if not m or int(m[1]) >= size or int(m[2]) >= size:
            raise UsageError("--pixels", text, f"expected 'row,col;...' with 0 ≤ row, col < {size}")
        out.append((int(m[1]), int(m[2])))
    return out


def _mask_rows(mask: np.ndarray) -> list[str]:
    import numpy as np

    raw = (mask.astype(np.uint8) + ord("0")).tobytes()
    n = mask.shape[1]
    return [raw[i : i + n].decode("ascii") for i in range(0, len(raw), n)]


def _masks(args: Namespace, out: TextIO, err: TextIO) -> int:
    from symconv import certify, factored_pattern

    from .pictures import MAX_PICTURE_PIXELS

    size = _int("--size", args.size)
    _picture_path("--png", args.png, ".png")
    _picture_path("--svg", args.svg, ".svg")
    _picture_path("--gif", args.gif, ".gif")
    depth, frames = _depths(args.depth, args.gif is not None)
    kernel = _odd_kernel(args.kernel)
    filters = _int("--filters", args.filters)
    stride = _masks_stride(args, size, kernel)
    _check_dense(size)
    pixels = _pixels(args.pixels, size)
    if len(pixels) > MAX_PICTURE_PIXELS and (args.png or args.svg or args.gif):
        raise UsageError("--pixels", args.pixels, f"a picture shows at most {MAX_PICTURE_PIXELS}")
    # The pattern is the same at every depth past saturation, for every kernel past 2s−1
    # (the extra taps fall in the padding) and for every number of filters (the channel
    # factor is all-ones): compute it, and certify it, on the smallest equivalent stack.
    # A weight witness for one filter is one for F filters (the other filters set to 0).
    eff_kernel = min(kernel, 2 * size - 1) if stride == 1 else kernel
    need, make = masks_family(size, eff_kernel, stride)
    eff_depth = min(depth, need if need is not None else 2 * size)
    net = make(eff_depth)
    pat = factored_pattern(net)
    assert pat is not None
    cert = certify(net)
    mask = pat.dense()
    d = size * size
    written = _pictures(args, mask, size, depth, kernel, filters, pixels, frames, stride)
    if args.json:
        obj = {
            "size": size,
            "depth": depth,
            "kernel": kernel,
            "filters": filters,
            **({"downsample": stride} if stride > 1 else {}),
            "forced_zeros": pat.forced_zeros,
            "full_support": pat.full,
            "min_depth": need,
            "certified": cert.certified,
            "certificate": cert.describe(),
            "computed_as": {"depth": eff_depth, "kernel": eff_kernel, "filters": 1},
            "mask": _mask_rows(mask),
        }
        json.dump(obj, out)
        out.write("\n")
        return 0
    print(f"{net_words(depth, kernel, filters, size, stride)}: a {d}×{d} matrix", file=out)
    print(
        f"forced zeros: {pat.forced_zeros} of {d * d} entries; full support: "
        f"{'yes' if pat.full else 'no'} (least depth without forced zeros: {need})",
        file=out,
    )
    if args.verbose:
        print(f"certificate: {cert.describe()}", file=out)
    if written and not args.show_mask:
        # a picture was asked for: it shows the mask; --show-mask prints the text too
        for path in written:
            print(f"picture written to {path}", file=out)
        return 0
    for i, j in pixels:
        row = mask[i * size + j].reshape(size, size)
        print(
            f"\noutput pixel ({i},{j}) sees input pixels (# = reached, . = forced zero):", file=out
        )
        for r in range(size):
            print("  " + " ".join("#" if v else "." for v in row[r]), file=out)
    if d <= 64 or args.show_mask:
        print(f"\n{d}×{d} mask (row = output pixel, column = input pixel, row-major):", file=out)
        for line in _mask_rows(mask):
            print("  " + line.replace("1", "#").replace("0", "."), file=out)
    else:
        print(f"\n(the {d}×{d} mask: --show-mask prints it, --json or --png write it)", file=out)
    for path in written:
        print(f"picture written to {path}", file=out)
    return 0


def _masks_stride(args: Namespace, size: int, kernel: int) -> int:
    stride = _int("--downsample", args.downsample)
    if stride > 1 and size % stride:
        raise UsageError("--size", args.size, f"must be divisible by --downsample {stride}")
    if stride > 1 and kernel < stride:
        raise UsageError(
            "--kernel", args.kernel, f"narrower than the stride {stride}: pixels are skipped"
        )
    return stride


def _pictures(args: Namespace, *drawing: Any) -> list[str]:
    """The pictures, or one usage line naming the option whose file could not be written
    (a folder that passed the checks can still refuse: /proc, a full disk)."""
    try:
        return _draw_pictures(args, *drawing)
    except OSError as exc:
        asked = [(o, p) for o, p in (("--png", args.png), ("--svg", args.svg), ("--gif", args.gif))]
        asked = [(o, p) for o, p in asked if p]
        where = str(exc.filename or "")
        option, path = next(((o, p) for o, p in asked if os.path.basename(p) in where), asked[0])
        raise UsageError(option, path, f"cannot write ({exc.strerror or exc})") from None


def _draw_pictures(
    args: Namespace,
    mask: np.ndarray,
    size: int,
    depth: int,
    kernel: int,
    filters: int,
    pixels: list[tuple[int, int]],
    frames: list[int],
    stride: int = 1,
) -> list[str]:
    """The --png / --svg / --gif pictures (matplotlib; Pillow for the GIF)."""
    wanted = [p for p in (args.png, args.svg, args.gif) if p]
    if not wanted:
        return []
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        if args.svg or args.gif:
            option, path = ("--svg", args.svg) if args.svg else ("--gif", args.gif)
            raise UsageError(option, path, "needs matplotlib (pip install matplotlib)")
        from .pictures import write_png

        # without matplotlib: the bare d×d bitmap (black = reachable), no title or legend
        write_png(args.png, mask, scale=max(1, 512 // (size * size)))
        return [f"{args.png} (bare bitmap, black = reachable: install matplotlib for titles)"]
    from symconv import factored_pattern

    from .pictures import mask_figure, mask_gif

    net = {"size": size, "kernel": kernel, "filters": filters, "downsample": stride}
    for path in (args.png, args.svg):
        if path:
            mask_figure(path, mask, depth=depth, pixels=pixels, **net)
    if args.gif:
        masks = []
        # as for the text output: past saturation, past 2s−1 taps and for any F the pattern
        # is that of the smallest equivalent single-filter stack
        eff_kernel = min(kernel, 2 * size - 1) if stride == 1 else kernel
        need, make = masks_family(size, eff_kernel, stride)
        for L in frames:
            pat = factored_pattern(make(min(L, need if need is not None else 2 * size)))
            assert pat is not None
            masks.append((L, pat.dense()))
        mask_gif(args.gif, masks, pixels=pixels, **net)
    return wanted


def _size_range(text: str) -> list[int]:
    m = re.fullmatch(r"\s*(\d+)\s*(?:\.\.\s*(\d+)\s*)?", text)
    if not m:
        raise UsageError("--size", text, "expected S or a range A..B")
    a = int(m[1])
    b = int(m[2]) if m[2] is not None else a
    if a < 1 or b < a:
        raise UsageError("--size", text, "sizes must be positive and A ≤ B")
    if b > MAX_DEPTH_SIZE:
        raise UsageError("--size", text, f"sizes up to {MAX_DEPTH_SIZE}")
    return list(range(a, b + 1))


def _check_depth_cost(text: str, sizes: list[int], kernel: int) -> None:
    pad = max(1, (kernel - 1) // 2)
    steps = sum(-(-(s - 1) // pad) + s // 256 + 1 for s in sizes)
    if steps > MAX_DEPTH_STEPS:
        raise UsageError(
            "--size",
            text,
            f"needs {steps} layer steps at kernel {kernel}, more than {MAX_DEPTH_STEPS} "
            "(about 2 s); ask for a smaller range",
        )


def _downsampling_family(size: int, kernel: int, stride: int) -> Callable[[int], Network]:
    from paperdata import downsampling_net

    def make(depth: int) -> Network:
        return downsampling_net(size, depth, kernel=kernel, stride=stride)

    return make


def _depth(args: Namespace, out: TextIO, err: TextIO) -> int:
    from symconv import depth_bound, min_full_depth, min_full_depth_of

    kernel = _odd_kernel(args.kernel)
    stride = _int("--downsample", args.downsample)
    sizes = _size_range(args.size)
    if stride == 1:
        _check_depth_cost(args.size, sizes, kernel)
        rows = [
            {
                "size": s,
                "kernel": kernel,
                "min_depth": min_full_depth(s, kernel),
                "bound": depth_bound(s, kernel),
            }
            for s in sizes
        ]
    else:
        sizes = [s for s in sizes if s % stride == 0 and s // stride >= 1]
        if not sizes:
            raise UsageError("--size", args.size, f"no size divisible by --downsample {stride}")
        if max(sizes) > 512:
            raise UsageError("--size", args.size, "with --downsample, sizes up to 512")
        apps = 0
        for s_ in sizes:
            b = depth_bound(s_ // stride, kernel)
            top = 2 * s_ if b is None or kernel < stride else min(2 * s_, b + 1)
            apps += (top + 1) * (top + 4) // 2
        if apps > MAX_DOWNSAMPLE_LAYERS:
            raise UsageError(
                "--size",
                args.size,
                f"with --downsample {stride}, needs about {apps} layer applications, more than "
                f"{MAX_DOWNSAMPLE_LAYERS} (about 3 s); ask for fewer or smaller sizes",
            )
        rows = []
        for s in sizes:
            make = _downsampling_family(s, kernel, stride)
            if make(0).out_shape != (1, s, s):
                raise UsageError(
                    "--downsample",
                    stride,
                    f"kernel {kernel} with stride {stride} does not map {s}×{s} back to {s}×{s}",
                )
            rows.append(
                {
                    "size": s,
                    "kernel": kernel,
                    "downsample": stride,
                    "min_depth": min_full_depth_of(make, 2 * s),
                    "bound": inner_bound(s // stride, kernel),
                }
            )
    if args.json:
        json.dump(rows, out)
        out.write("\n")
        return 0
    print("size  kernel  min_depth  bound", file=out)
    for r in rows:
        print(
            f"{r['size']:>4}  {r['kernel']:>6}  {r['min_depth']!s:>9}  {r['bound']!s:>5}", file=out
        )
    agree = all(r["min_depth"] == r["bound"] for r in rows)
    if stride == 1:
        what = "⌈(s−1)/((k−1)/2)⌉ (Theorem 4: s−1 for k = 3)"
    else:
        what = (
            f"the same formula at size s/{stride} (0 when s/{stride} = 1), i.e. as if the "
            f"stride-{stride} layer saw every pixel (min_depth None: some input pixel is "
            "never seen)"
        )
    print(
        f"min_depth is computed from the layers' structure; bound is {what}. "
        f"They agree on every size: {'yes' if agree else 'NO'}",
        file=out,
    )
    return 0


def _matrix(args: Namespace, out: TextIO, err: TextIO) -> int:
    import numpy as np

    from symconv import Conv2d, conv_entries

    size = _int("--size", args.size)
    kernel = _int("--kernel", args.kernel)
    stride = _int("--stride", args.stride)
    seed = _int("--seed", args.seed, minimum=0)
    if seed >= 2**32:
        raise UsageError("--seed", args.seed, "must be an integer in 0..4294967295 (2**32 − 1)")
    if kernel > 2 * size - 1:
        raise UsageError(
            "--kernel",
            args.kernel,
            f"wider than 2s−1 = {2 * size - 1}: the extra taps only meet the padding "
            f"(at most {2 * size - 1} for --size {size})",
        )
    if stride > size:
        raise UsageError("--stride", args.stride, f"larger than the image (--size {size})")
    padding = (kernel - 1) // 2  # 'same' for odd kernels; floor((k-1)/2) for even ones
    layer = Conv2d(1, 1, kernel, stride=stride, padding=padding)
    shape = (1, size, size)
    _, h2, w2 = layer.out_shape(shape)
    n_out, n_in = h2 * w2, size * size
    if n_out * n_in > MAX_MATRIX_ENTRIES:
        raise UsageError(
            "--size",
            args.size,
            f"the {n_out}×{n_in} matrix has more than {MAX_MATRIX_ENTRIES} entries "
            "(s ≤ 32 at stride 1)",
        )
    rows, cols, widx = conv_entries(layer, shape)
    table = np.full((n_out, n_in), "0", dtype=object)
    if args.symbolic:
        names = np.array([f"A{i + 1}" for i in range(kernel * kernel)], dtype=object)
        table[rows, cols] = names[widx]
    else:
        w = np.random.default_rng(seed).standard_normal(kernel * kernel)
        text = np.array([f"{v:.4f}" if v != 0 else "0" for v in w], dtype=object)
        table[rows, cols] = text[widx]
    entries = table.tolist()
    if args.json:
        json.dump(
            {"size": size, "kernel": kernel, "stride": stride, "padding": padding, "rows": entries},
            out,
        )
        out.write("\n")
        return 0
    print(
        f"{kernel}×{kernel} filter, stride {stride}, padding {padding}, on {size}×{size} "
        f"images: a {n_out}×{n_in} matrix (row = output pixel, column = input pixel)",
        file=out,
    )
    if n_in > 100 and not args.json:
        print("(more than 100 columns: use --json for the entries)", file=out)
        return 0
    width = max(len(e) for row in entries for e in row)
    for row in entries:
        print("  " + " ".join(e.rjust(width) for e in row), file=out)
    return 0


def _audit(args: Namespace, out: TextIO, err: TextIO) -> int:
    from dataclasses import asdict

    from proofs import audit_tables

    rows = audit_tables()
    if args.json:
        json.dump({"rows": [asdict(r) for r in rows]}, out, indent=1)
        out.write("\n")
        return 0
    print(
        "table row  size  n  F    layers  params(printed)  params(stated arch)  "
        "bound(printed)  ⌈s⁴/9⌉  note",
        file=out,
    )
    for r in rows:
        print(
            f"{r.table:>5} {r.row:>3}  {r.size:>4} {r.train_examples:>2} {r.filters:>3}  "
            f"{r.layers_printed:>6}  {r.params_printed:>15}  {r.params:>19}  "
            f"{r.bound_printed:>14}  {r.bound:>7}  {r.note or 'consistent'}",
            file=out,
        )
    return 0
