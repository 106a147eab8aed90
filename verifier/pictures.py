"""Annotated pictures of forced-zero masks (matplotlib): PNG for screens, SVG for print,
an animated GIF over depths for slides.

Each picture has two panels. Left, the d×d mask (d = s²; row = output pixel, column = input
pixel, both row-major): black = reachable (a nonzero polynomial in the weights), white =
forced zero, with gridlines between the s×s blocks (block (r, r') pairs output image row r
with input image row r') and the rows of the chosen output pixels outlined in red. Right,
the s×s image: the input pixels the first chosen output pixel reaches, with that pixel
outlined — the receptive field the mask's row encodes.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from .store import write_atomic

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FORMATS", "mask_figure", "mask_gif", "write_png"]

#: file extension → format name, for the extension check of the command line
FORMATS = {".png": "png", ".svg": "svg", ".gif": "gif"}


def _plt() -> ModuleType:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _draw(
    mask: np.ndarray,
    size: int,
    title: str,
    pixels: list[tuple[int, int]],
) -> Figure:
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch, Rectangle

    plt = _plt()
    d = size * size
    fig, (ax, ax2) = plt.subplots(
        1, 2, figsize=(10.0, 5.6), gridspec_kw={"width_ratios": [1.0, 0.62]}
    )
    cmap = ListedColormap(["white", "black"])
    ax.imshow(
        mask.astype(np.uint8),
        cmap=cmap,
        vmin=0,
        vmax=1,
        interpolation="nearest",
        extent=(-0.5, d - 0.5, d - 0.5, -0.5),
    )
    lw = 0.8 if size <= 16 else 0.4
    for k in range(1, size):
        ax.axhline(k * size - 0.5, color="#7f8fb5", lw=lw)
        ax.axvline(k * size - 0.5, color="#7f8fb5", lw=lw)
    for r, c in pixels:
        i = r * size + c
        ax.add_patch(
            Rectangle(
                (-0.5, i - 0.5),
                d,
                1,
                fill=False,
                ec="#d1242f",
                lw=1.6 if d <= 256 else 1.0,
                clip_on=False,
            )
        )
    ticks = np.arange(0, d, size)
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.tick_params(labelsize=8)
    ax.set_xlabel("input pixel j = r'·s + c'  (column)", fontsize=9)
    ax.set_ylabel("output pixel i = r·s + c  (row)", fontsize=9)
    ax.set_title(f"the {d}×{d} mask", fontsize=10)
    r0, c0 = pixels[0]
    reach = mask[r0 * size + c0].reshape(size, size)
    ax2.imshow(
        reach.astype(np.uint8),
        cmap=ListedColormap(["#eceef3", "#1f3b73"]),
        vmin=0,
        vmax=1,
        interpolation="nearest",
    )
    ax2.add_patch(
        Rectangle((c0 - 0.5, r0 - 0.5), 1, 1, fill=False, ec="#d1242f", lw=2.2, clip_on=False)
    )
    step = max(1, size // 8)
    ax2.set_xticks(np.arange(0, size, step))
    ax2.set_yticks(np.arange(0, size, step))
    ax2.tick_params(labelsize=8)
    if size <= 32:
        ax2.set_xticks(np.arange(-0.5, size, 1), minor=True)
        ax2.set_yticks(np.arange(-0.5, size, 1), minor=True)
        ax2.grid(which="minor", color="white", lw=0.6)
        ax2.tick_params(which="minor", length=0)
    ax2.set_xlabel("input column c'", fontsize=9)
    ax2.set_ylabel("input row r'", fontsize=9)
    ax2.set_title(
        f"input pixels output pixel ({r0},{c0}) reaches: {int(reach.sum())}/{d}", fontsize=10
    )
    handles = [
        Patch(fc="black", ec="grey", label="black: reachable (not identically zero)"),
        Patch(fc="white", ec="grey", label="white: forced zero (0 whatever the weights)"),
        Patch(fc="none", ec="#7f8fb5", label="gridlines: s×s blocks (image row pairs)"),
        Patch(fc="none", ec="#d1242f", label="red: the chosen output pixel (its row)"),
        Patch(fc="#1f3b73", ec="grey", label="right: input pixels it reaches"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.09, 1, 0.96))
    return fig


def _title(size: int, depth: int, kernel: int, filters: int, zeros: int) -> str:
    d = size * size
    return (
        f"s = {size} ({size}×{size} images), L = {depth} layer(s), k = {kernel} "
        f"({kernel}×{kernel} filters), F = {filters} filter(s): {zeros} of {d * d} entries "
        "forced to zero"
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
) -> Path:
    """Write the annotated picture of ``mask`` as PNG or SVG (from the path's extension)."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt not in ("png", "svg"):
        raise ValueError(f"mask_figure writes .png or .svg, not {path.suffix!r}")
    plt = _plt()
    zeros = int(mask.size - np.count_nonzero(mask))
    # SVG keeps its text as text (searchable, editable for print), not glyph outlines
    with plt.rc_context({"svg.fonttype": "none"}):
        fig = _draw(mask, size, _title(size, depth, kernel, filters, zeros), pixels or [(0, 0)])
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=110)
        plt.close(fig)
    write_atomic(path, buf.getvalue())
    return path


def mask_gif(
    path: str | Path,
    masks: list[tuple[int, np.ndarray]],
    *,
    size: int,
    kernel: int,
    filters: int,
    pixels: list[tuple[int, int]] | None = None,
    seconds_per_frame: float = 0.9,
) -> Path:
    """An animated GIF, one frame per ``(depth, mask)``: the reach grows with the depth."""
    from PIL import Image

    plt = _plt()
    frames = []
    for depth, mask in masks:
        zeros = int(mask.size - np.count_nonzero(mask))
        fig = _draw(mask, size, _title(size, depth, kernel, filters, zeros), pixels or [(0, 0)])
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80)
        plt.close(fig)
        buf.seek(0)
        frames.append(Image.open(buf).convert("P", palette=Image.Palette.ADAPTIVE, colors=64))
    out = io.BytesIO()
    durations = [int(seconds_per_frame * 1000)] * len(frames)
    durations[-1] *= 3  # linger on the last depth
    frames[0].save(
        out, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0
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
