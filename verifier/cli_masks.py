"""``verify masks | depth | matrix | audit``: forced zeros, least depths, layer matrices.

These commands import only numpy and symconv (no sympy, z3 or torch), so they answer fast.
"""

from __future__ import annotations

import json
import os
from argparse import Namespace, _SubParsersAction
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from . import args as A
from .cli_model import add_probe_parser, model_masks
from .errors import UsageError
from .mask_nets import inner_bound, masks_family, net_words
from .options import JSON, KERNEL, Option, command
from .store import check_new_file

if TYPE_CHECKING:
    import numpy as np

    from symconv import Network


#: Largest dense d×d mask (entries) ``masks`` prints: s ≤ 90 (8100×8100, about 1 s and
#: 250 MB at the limit). Depth, kernel and filters cost nothing beyond it: the pattern is
#: computed at depth min(L, saturation depth), kernel min(k, 2s−1) and one filter.
MAX_DENSE_ENTRIES = 2**26
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


#: Pictures (``--png``/``--svg``) are drawn dense: at most this many mask entries, s ≤ 48
#: (measured: 1.6 s and 440 MB at s = 48; s = 90 took 4.2 GB).
MAX_PICTURE_ENTRIES = 48**4
#: ``--gif``: at most this many frames, and at most this many mask entries over all frames
#: (measured about 0.25 s per small frame and 0.5 s per 1024×1024 one).
MAX_GIF_FRAMES = 30
MAX_GIF_ENTRIES = 2**24


def add_parsers(sub: _SubParsersAction[Any]) -> None:
    model = Option(
        "--model",
        "FILE.pt2: the pattern of your own model, saved with torch.export.save "
        "(instead of --size/--depth)",
        A.path_text(".pt2"),
    )
    pixels = Option(
        "--pixels", f"output pixels to show, e.g. '0,0;2,3' (at most {A.MAX_PIXELS})", A.pixels()
    )
    gif = Option(
        "--gif",
        f"an animated GIF over depths 1..L (or the range A..B; at most {MAX_GIF_FRAMES} frames)",
        A.path_text(".gif"),
    )
    downsample = Option(
        "--downsample",
        "T > 1: Section 4's network, a stride-T layer first, the L layers at size s/T, "
        "then ×T nearest upsampling (s divisible by T)",
        A.integer(1),
        1,
    )
    command(
        sub,
        "masks",
        _masks,
        Option("--size", "image size s (s×s images)", A.integer(1)),
        Option("--depth", "number of conv layers L (with --gif also a range A..B)", A.depths()),
        model,
        KERNEL,
        Option("--filters", "filters F in the hidden layers (default 1)", A.integer(1), 1),
        pixels,
        Option("--show-mask", "print the d×d mask even if large"),
        JSON,
        Option(
            "--png", "write an annotated picture (title, axes, legend) as PNG", A.path_text(".png")
        ),
        Option("--svg", "the same picture as SVG, for print", A.path_text(".svg")),
        gif,
        downsample,
        Option("--verbose", "also print how the entries were certified"),
        help="forced-zero pattern of L conv layers on s×s images",
        description="Which entries of the end-to-end matrix of L conv layers are forced to "
        "zero whatever the weights (Theorem 4: fewer than s−1 layers of 3×3 filters leave "
        "some, whatever the number of filters).",
    )
    _add_depth(sub)
    add_probe_parser(sub)


def _add_depth(sub: _SubParsersAction[Any]) -> None:
    downsample = Option(
        "--downsample",
        "T > 1: one stride-T layer first, the L layers at size s/T, then ×T nearest "
        "upsampling (Section 4); sizes not divisible by T are left out of a range",
        A.integer(1),
        1,
    )
    command(
        sub,
        "depth",
        _depth,
        Option(
            "--size", "image size S or a range A..B", A.size_range(MAX_DEPTH_SIZE), required=True
        ),
        KERNEL,
        downsample,
        Option("--json", "print a JSON list"),
        help="least depth with no forced zero (Theorem 4)",
        description="The least number of conv layers whose end-to-end matrix has no entry "
        "forced to zero, computed from the layers' structure, beside Theorem 4's bound "
        "⌈(s−1)/((k−1)/2)⌉ (s−1 for 3×3 filters).",
    )


def _check_dense(size: int, argument: str = "--size") -> None:
    if size**4 > MAX_DENSE_ENTRIES:
        raise UsageError(
            argument,
            size,
            f"the dense {size * size}×{size * size} mask would not fit "
            f"(limit {MAX_DENSE_ENTRIES} entries, s ≤ 90)",
        )


def _check_pictures(args: Namespace, size: int) -> list[int]:
    """Before any work: the pictures' paths, their size bounds and the GIF's frames."""
    if args.depth.is_range and args.gif is None:
        raise UsageError("--depth", args.depth.text, "a range A..B is for --gif; give one depth L")
    for option in ("--png", "--svg", "--gif"):
        value = getattr(args, option[2:])
        if value is not None:
            check_new_file(option, value)
    if (args.png or args.svg) and size**4 > MAX_PICTURE_ENTRIES:
        option = "--png" if args.png else "--svg"
        raise UsageError(
            "--size", size, f"{option} draws the dense mask: s ≤ 48 ({MAX_PICTURE_ENTRIES} entries)"
        )
    if args.gif is None:
        return []
    frames = args.depth.frames(MAX_GIF_FRAMES)
    if len(frames) * size**4 > MAX_GIF_ENTRIES:
        raise UsageError(
            "--depth",
            args.depth.text,
            f"{len(frames)} frames of {size**4} entries, more than {MAX_GIF_ENTRIES} in all "
            f"(at most {max(1, MAX_GIF_ENTRIES // size**4)} frames at s = {size})",
        )
    return frames


def _pixels(chosen: tuple[tuple[int, int], ...] | None, size: int) -> list[tuple[int, int]]:
    if chosen is None:
        return sorted({(0, 0), (size // 2, size // 2)})
    for r, c in chosen:
        if r >= size or c >= size:
            text = ";".join(f"{a},{b}" for a, b in chosen)
            raise UsageError("--pixels", text, f"expected 'row,col;...' with 0 ≤ row, col < {size}")
    return list(chosen)


def _mask_rows(mask: np.ndarray) -> list[str]:
    import numpy as np

    raw = (mask.astype(np.uint8) + ord("0")).tobytes()
    n = mask.shape[1]
    return [raw[i : i + n].decode("ascii") for i in range(0, len(raw), n)]


#: Options ``masks --json`` uses (--show-mask and --verbose shape the text output only).
_MASKS_JSON = {"--size", "--depth", "--kernel", "--filters", "--downsample", "--json",
               "--png", "--svg", "--gif", "--pixels"}  # fmt: skip


def _masks(args: Namespace, out: TextIO, err: TextIO) -> int:
    from symconv import certify, factored_pattern

    from .pictures import MAX_PICTURE_PIXELS

    if args.model is not None:
        return model_masks(args, out, err)
    for option in ("--size", "--depth"):
        if getattr(args, option[2:]) is None:
            raise UsageError.missing(option, "required (or --model FILE.pt2 for your own model)")
    size, depth, kernel, filters = args.size, args.depth.last, args.kernel, args.filters
    if args.json:
        A.refuse_unused(args, _MASKS_JSON, "--json (it prints the whole mask as JSON)")
    stride = _masks_stride(args, size, kernel)
    _check_dense(size)
    pixels = _pixels(args.pixels, size)
    frames = _check_pictures(args, size)
    if len(pixels) > MAX_PICTURE_PIXELS and (args.png or args.svg or args.gif):
        text = ";".join(f"{r},{c}" for r, c in pixels)
        raise UsageError("--pixels", text, f"a picture shows at most {MAX_PICTURE_PIXELS}")
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
        computed_as = {"depth": eff_depth, "kernel": eff_kernel, "filters": 1}
        json.dump(_masks_json(args, stride, need, pat, cert, computed_as, mask), out)
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
    _print_reach(out, mask, size, pixels, args.show_mask)
    for path in written:
        print(f"picture written to {path}", file=out)
    return 0


def _print_reach(
    out: TextIO, mask: np.ndarray, size: int, pixels: list[tuple[int, int]], show_mask: bool
) -> None:
    """Each chosen output pixel's reach as an s×s grid, then the d×d mask when small."""
    d = size * size
    for i, j in pixels:
        row = mask[i * size + j].reshape(size, size)
        print(
            f"\noutput pixel ({i},{j}) sees input pixels (# = reached, . = forced zero):", file=out
        )
        for r in range(size):
            print("  " + " ".join("#" if v else "." for v in row[r]), file=out)
    if d <= 64 or show_mask:
        print(f"\n{d}×{d} mask (row = output pixel, column = input pixel, row-major):", file=out)
        for line in _mask_rows(mask):
            print("  " + line.replace("1", "#").replace("0", "."), file=out)
    else:
        print(f"\n(the {d}×{d} mask: --show-mask prints it, --json or --png write it)", file=out)


def _masks_json(
    args: Namespace,
    stride: int,
    need: int | None,
    pat: Any,
    cert: Any,
    computed_as: dict,
    mask: np.ndarray,
) -> dict[str, Any]:
    """The object ``masks --json`` prints (its fields are part of the command line's contract)."""
    return {
        "size": args.size,
        "depth": args.depth.last,
        "kernel": args.kernel,
        "filters": args.filters,
        **({"downsample": stride} if stride > 1 else {}),
        "forced_zeros": pat.forced_zeros,
        "full_support": pat.full,
        "min_depth": need,
        "certified": cert.certified,
        "certificate": cert.describe(),
        "computed_as": computed_as,
        "mask": _mask_rows(mask),
    }


def _masks_stride(args: Namespace, size: int, kernel: int) -> int:
    stride: int = args.downsample
    if stride > 1 and size % stride:
        raise UsageError("--size", size, f"must be divisible by --downsample {stride}")
    if stride > 1 and kernel < stride:
        raise UsageError(
            "--kernel", kernel, f"narrower than the stride {stride}: pixels are skipped"
        )
    return stride


def _pictures(args: Namespace, *drawing: Any) -> list[str]:
    """The pictures, or one usage line naming the option whose file could not be written
    (a folder that passed the checks can still refuse: /proc, a full disk)."""
    try:
        return _draw_pictures(args, *drawing)
    except (OSError, UsageError) as exc:
        asked = [(o, p) for o, p in (("--png", args.png), ("--svg", args.svg), ("--gif", args.gif))]
        asked = [(o, p) for o, p in asked if p]
        if isinstance(exc, UsageError):
            where, why = str(exc.value), exc.why
        else:
            where, why = str(exc.filename or ""), f"cannot write ({exc.strerror or exc})"
        option, path = next(((o, p) for o, p in asked if os.path.basename(p) in where), asked[0])
        raise UsageError(option, path, why) from None


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


def _check_depth_cost(text: str, first: int, last: int, kernel: int) -> None:
    """Refuse before any work a range that walks more than MAX_DEPTH_STEPS layer steps
    (summed in closed form, so a million sizes cost nothing to price)."""
    pad = max(1, (kernel - 1) // 2)
    count = last - first + 1
    steps = 0
    if count > MAX_DEPTH_STEPS:  # every size costs at least one step
        steps = count
    else:
        steps = sum(-(-(s - 1) // pad) + s // 256 + 1 for s in range(first, last + 1))
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


def _downsampled_rows(
    text: str, first: int, last: int, kernel: int, stride: int
) -> list[dict[str, Any]]:
    """``depth --downsample T``: one row per size of ``first..last`` divisible by T."""
    from symconv import depth_bound, min_full_depth_of

    if last > 512:
        raise UsageError("--size", text, "with --downsample, sizes up to 512")
    sizes = [s for s in range(first, last + 1) if s % stride == 0 and s // stride >= 1]
    if not sizes:
        raise UsageError("--size", text, f"no size divisible by --downsample {stride}")
    apps = 0
    for s_ in sizes:
        b = depth_bound(s_ // stride, kernel)
        top = 2 * s_ if b is None or kernel < stride else min(2 * s_, b + 1)
        apps += (top + 1) * (top + 4) // 2
    if apps > MAX_DOWNSAMPLE_LAYERS:
        raise UsageError(
            "--size",
            text,
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
    return rows


def _depth(args: Namespace, out: TextIO, err: TextIO) -> int:
    from symconv import depth_bound, min_full_depth

    kernel, stride = args.kernel, args.downsample
    first, last = args.size
    text = str(first) if first == last else f"{first}..{last}"
    if stride == 1:
        _check_depth_cost(text, first, last, kernel)
        sizes = list(range(first, last + 1))
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
        rows = _downsampled_rows(text, first, last, kernel, stride)
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
