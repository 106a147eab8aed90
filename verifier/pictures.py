"""Annotated pictures of forced-zero masks (matplotlib): PNG for screens, SVG for print,
an animated GIF over depths for slides.

Each picture has the d×d mask on the left (d = s²; row = output pixel, column = input pixel,
both row-major): black = reachable (a nonzero polynomial in the weights), white = forced
zero, with gridlines between the s×s blocks (block (r, r') pairs output image row r with
input image row r') and the row of every chosen output pixel outlined in its own colour.
On the right, one s×s image per chosen output pixel, outlined in the same colour: the input
pixels it reaches — the receptive field its row of the mask encodes. For stride-1 stacks
the corner-to-corner entry (output pixel (0, 0), input pixel (s−1, s−1)) is ringed: it is
the last entry to become reachable, at depth s − 1 for 3×3 filters (Theorem 4).
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from .store import write_atomic

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["FORMATS", "MAX_PICTURE_PIXELS", "gif_durations", "mask_figure", "mask_gif", "write_png"]

#: file extension → format name, for the extension check of the command line
FORMATS = {".png": "png", ".svg": "svg", ".gif": "gif"}
#: at most this many chosen output pixels get a reach panel (and a coloured row)
MAX_PICTURE_PIXELS = 6
#: one colour per chosen output pixel: its row in the mask and its reach panel's outline
_COLOURS = ("#d1242f", "#7b2cbf", "#0a8f6a", "#c2185b", "#1565c0", "#6d4c41")


def _plt() -> ModuleType:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _panel_grid(n: int) -> tuple[int, int]:
    """rows × columns of the reach panels for ``n`` chosen pixels."""
    return {1: (1, 1), 2: (2, 1), 3: (2, 2), 4: (2, 2)}.get(n, (3, 2))


def _show_bits(ax: Axes, bits: np.ndarray, colours: tuple[str, str], **extra: Any) -> None:
    """Draw a boolean array, False in ``colours[0]`` and True in ``colours[1]``, one cell a
    pixel (no smoothing)."""
    from matplotlib.colors import ListedColormap

    ax.imshow(
        bits.astype(np.uint8),
        cmap=ListedColormap(list(colours)),
        vmin=0,
        vmax=1,
        interpolation="nearest",
        **extra,
    )


def _draw_mask(ax: Axes, mask: np.ndarray, size: int, pixels: list[tuple[int, int]]) -> None:
    from matplotlib.patches import Rectangle

    d = size * size
    _show_bits(ax, mask, ("white", "black"), extent=(-0.5, d - 0.5, d - 0.5, -0.5))
    lw = 0.8 if size <= 16 else 0.4
    for k in range(1, size):
        ax.axhline(k * size - 0.5, color="#7f8fb5", lw=lw)
        ax.axvline(k * size - 0.5, color="#7f8fb5", lw=lw)
    for n, (r, c) in enumerate(pixels):
        i = r * size + c
        ax.add_patch(
            Rectangle(
                (-0.5, i - 0.5),
                d,
                1,
                fill=False,
                ec=_COLOURS[n],
                lw=2.0 if d <= 256 else 1.2,
                clip_on=False,
            )
        )
    ticks = np.arange(0, d, size)
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.tick_params(labelsize=9)
    ax.set_xlabel("input pixel j = r'·s + c'  (column)", fontsize=10)
    ax.set_ylabel("output pixel i = r·s + c  (row)", fontsize=10)
    ax.set_title(f"the {d:,}×{d:,} mask", fontsize=11)


def _draw_reach(
    ax: Axes, mask: np.ndarray, size: int, pixel: tuple[int, int], colour: str, compact: bool
) -> None:
    from matplotlib.patches import Rectangle

    d = size * size
    r0, c0 = pixel
    reach = mask[r0 * size + c0].reshape(size, size)
    _show_bits(ax, reach, ("#eceef3", "#1f3b73"))
    ax.add_patch(
        Rectangle((c0 - 0.5, r0 - 0.5), 1, 1, fill=False, ec=colour, lw=2.6, clip_on=False)
    )
    step = max(1, size // (3 if compact else 6))
    ax.set_xticks(np.arange(0, size, step))
    ax.set_yticks(np.arange(0, size, step))
    ax.tick_params(labelsize=8)
    if size <= 32:
        ax.set_xticks(np.arange(-0.5, size, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, size, 1), minor=True)
        ax.grid(which="minor", color="white", lw=0.6)
        ax.tick_params(which="minor", length=0)
    for side in ax.spines.values():
        side.set_edgecolor(colour)
        side.set_linewidth(2.0)
    n = int(reach.sum())
    words = f"pixel ({r0},{c0}): {n:,} of {d:,}" if compact else (
        f"output pixel ({r0},{c0}) reaches\n{n:,} of {d:,} input pixels"
    )  # fmt: skip
    ax.set_title(words, fontsize=10, color=colour)


def _draw(
    mask: np.ndarray,
    size: int,
    title: str,
    pixels: list[tuple[int, int]],
    *,
    corner: bool = True,
    note: str = "",
) -> Figure:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    plt = _plt()
    d = size * size
    pixels = pixels[:MAX_PICTURE_PIXELS]
    rows, cols = _panel_grid(len(pixels))
    fig = plt.figure(figsize=(11.0, 6.4 if rows < 3 else 7.4))
    outer = fig.add_gridspec(1, 2, width_ratios=[1.0, 0.72], wspace=0.18)
    ax = fig.add_subplot(outer[0])
    _draw_mask(ax, mask, size, pixels)
    if corner:
        ax.plot(
            [d - 1], [0], marker="o", ms=12 if d <= 256 else 9, mfc="none", mec="#f28c28", mew=2.4,
            clip_on=False,
        )  # fmt: skip
    inner = outer[1].subgridspec(rows, cols, hspace=0.5, wspace=0.35)
    for n, px in enumerate(pixels):
        ax_n = fig.add_subplot(inner[n // cols, n % cols])
        _draw_reach(ax_n, mask, size, px, _COLOURS[n], compact=cols > 1)
    handles: list[Patch | Line2D] = [
        Patch(fc="black", ec="grey", label="black: reachable (not identically zero)"),
        Patch(fc="white", ec="grey", label="white: forced zero (0 whatever the weights)"),
        Patch(fc="none", ec="#7f8fb5", label="gridlines: s×s blocks (image row pairs)"),
        Patch(fc="none", ec=_COLOURS[0], lw=2, label="outlined row = a chosen output pixel"),
        Patch(fc="#1f3b73", ec="grey", label="right: the input pixels it reaches"),
    ]
    if corner:
        handles.append(
            Line2D(
                [], [], ls="none", marker="o", mfc="none", mec="#f28c28", mew=2.2, ms=10,
                label="ringed: corner-to-corner entry (last to fill)",
            )
        )  # fmt: skip
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=10, frameon=False)
    fig.suptitle(title, fontsize=12)
    if note:
        fig.text(0.5, 0.905, note, ha="center", fontsize=10.5, color="#444")
    fig.subplots_adjust(left=0.07, right=0.98, top=0.84 if note else 0.88, bottom=0.2)
    return fig


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _title(size: int, depth: int, kernel: int, filters: int, zeros: int, stride: int = 1) -> str:
    d = size * size
    k = f"{kernel}×{kernel}"
    if stride == 1:
        net = f"L = {depth} ({_plural(depth, 'layer')} of {k} filters)"
    else:
        half = size // stride
        net = (
            f"L = {depth}: a stride-{stride} {k} layer, {_plural(depth, 'layer')} at "
            f"{half}×{half}, ×{stride} upsampling"
        )
    return (
        f"s = {size} ({size}×{size} images), {net}, F = {filters}: "
        f"{zeros:,} of {d * d:,} entries forced to zero"
    )


def _note(size: int, kernel: int, zeros: int, stride: int) -> str:
    """The line under the title: what the picture shows about Theorem 4."""
    if zeros:
        return "forced zeros: this network cannot memorize an arbitrary image (Lemma 1)"
    need = "s − 1" if kernel == 3 and stride == 1 else "the least depth"
    return (
        f"full support: no forced zero (depth ≥ {need}). Necessary, not sufficient: "
        "training need not memorize (Table 1)"
    )


def mask_figure(
    path: str | Path,
    mask: np.ndarray,
    *,
    size: int,
    depth: int,
    kernel: int,
    filters: int,
    pixels: list[tuple[int, int]] | None = None,
    downsample: int = 1,
) -> Path:
    """Write the annotated picture of ``mask`` as PNG or SVG (from the path's extension)."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt not in ("png", "svg"):
        raise ValueError(f"mask_figure writes .png or .svg, not {path.suffix!r}")
    plt = _plt()
    zeros = int(mask.size - np.count_nonzero(mask))
    title = _title(size, depth, kernel, filters, zeros, downsample)
    # SVG keeps its text as text (searchable, editable for print), not glyph outlines
    with plt.rc_context({"svg.fonttype": "none"}):
        fig = _draw(
            mask,
            size,
            title,
            pixels or [(0, 0)],
            corner=downsample == 1,
            note=_note(size, kernel, zeros, downsample),
        )
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=110)
        plt.close(fig)
    write_atomic(path, buf.getvalue())
    return path


def gif_durations(fulls: list[bool], seconds_per_frame: float) -> list[int]:
    """Milliseconds per frame: a pause (4×) on the first frame with full support, and the
    last frame held 3× before the loop starts again."""
    ms = int(seconds_per_frame * 1000)
    out = [ms] * len(fulls)
    first_full = next((i for i, f in enumerate(fulls) if f), None)
    if first_full is not None:
        out[first_full] = 4 * ms
    out[-1] = max(out[-1], 3 * ms)
    return out


def mask_gif(
    path: str | Path,
    masks: list[tuple[int, np.ndarray]],
    *,
    size: int,
    kernel: int,
    filters: int,
    pixels: list[tuple[int, int]] | None = None,
    seconds_per_frame: float = 1.2,
    downsample: int = 1,
) -> Path:
    """An animated GIF, one frame per ``(depth, mask)``: the reach grows with the depth, and
    the animation pauses on the first depth without forced zeros (:func:`gif_durations`)."""
    from PIL import Image

    plt = _plt()
    frames = []
    fulls = []
    for depth, mask in masks:
        zeros = int(mask.size - np.count_nonzero(mask))
        fulls.append(zeros == 0)
        fig = _draw(
            mask,
            size,
            _title(size, depth, kernel, filters, zeros, downsample),
            pixels or [(0, 0)],
            corner=downsample == 1,
            note=_note(size, kernel, zeros, downsample),
        )
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90)
        plt.close(fig)
        buf.seek(0)
        frames.append(Image.open(buf).convert("P", palette=Image.Palette.ADAPTIVE, colors=64))
    out = io.BytesIO()
    frames[0].save(
        out,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        duration=gif_durations(fulls, seconds_per_frame),
        loop=0,
    )
    path = Path(path)
    write_atomic(path, out.getvalue())
    return path


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(path: str | Path, image: np.ndarray, *, scale: int = 1) -> Path:
    """Write an 8-bit grayscale (H×W) or RGB (H×W×3) array, each pixel a ``scale²`` block."""
    img = np.asarray(image)
    if img.dtype == bool:
        img = np.where(img, 0, 255).astype(np.uint8)  # nonzero entries drawn black
    img = img.astype(np.uint8)
    if scale > 1:
        img = img.repeat(scale, axis=0).repeat(scale, axis=1)
    color = 2 if img.ndim == 3 else 0
    h, w = img.shape[:2]
    raw = b"".join(b"\x00" + img[r].tobytes() for r in range(h))
    header = struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
    data += _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b"")
    return write_atomic(path, data)
