"""PNG figures for the experiments (matplotlib, Agg backend): input → output grids, spectra,
top eigenvectors as images. Arrays come from the ``.npz`` file a row saved in ``cfg.out``.

Nothing here opens a file: figures and arrays go through the run's :class:`Output` (the
``verify`` program's output folder), which names, confines and writes them.
"""

from __future__ import annotations

import io
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ._experiment import Output

__all__ = [
    "ensemble_spectra_figure",
    "grid_figure",
    "load_arrays",
    "save_arrays",
    "save_figure",
    "spectrum_figure",
]


def _plt() -> ModuleType:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, out: Output, name: str, dpi: int) -> Path:
    """Render ``fig`` as PNG in memory and hand it to ``out`` as file ``name`` (written
    atomically there: a reader never sees half a file); the figure is closed."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    _plt().close(fig)
    return out.write(name, buf.getvalue())


def save_arrays(out: Output | None, name: str, key: str, **arrays: Any) -> str | None:
    """Save ``arrays`` (tensors or arrays) as ``NAME-KEY.npz`` in ``out``; returns the file
    name."""
    if out is None:
        return None
    fname = f"{name}-{key}.npz"
    clean: dict[str, Any] = {}
    for k, v in arrays.items():
        if hasattr(v, "detach"):
            v = v.detach().to("cpu").float().numpy()
        clean[k] = np.asarray(v, dtype=np.float32)
    buf = io.BytesIO()
    np.savez_compressed(buf, **clean)
    out.write(fname, buf.getvalue())
    return fname


def load_arrays(out: Output, row: dict[str, Any]) -> dict[str, np.ndarray] | None:
    """The arrays a row saved (``row["arrays"]``), read back through ``out``; ``None`` when
    the row has none or the file is gone."""
    fname = row.get("arrays")
    data = out.read(fname) if isinstance(fname, str) and fname else None
    if data is None:
        return None
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _scale(imgs: np.ndarray, normalize: bool | str) -> tuple[float, float]:
    """One display range for a whole column: ``False`` [0, 1] (images); ``True`` the column's
    min/max (Gaussian inputs, eigenvectors); ``"fit01"`` the column's min/max widened to
    contain [0, 1] (outputs: a near-zero output stays dark, a large one is scaled down)."""
    if normalize is False:
        return 0.0, 1.0
    a = np.asarray(imgs, dtype=np.float64)
    finite = a[np.isfinite(a)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if normalize == "fit01":
        lo, hi = min(lo, 0.0), max(hi, 1.0)
    return (lo, hi) if hi > lo else (lo - 0.5, lo + 0.5)


def _show(img: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """(C, H, W) → (H, W, 3) in [0, 1], mapping [lo, hi] linearly (shared by a column)."""
    a = np.asarray(img, dtype=np.float64)
    if a.ndim == 2:
        a = a[None]
    a = np.clip((np.nan_to_num(a) - lo) / (hi - lo), 0.0, 1.0)
    if a.shape[0] == 1:
        a = np.repeat(a, 3, axis=0)
    return a[:3].transpose(1, 2, 0)


def grid_figure(
    out: Output,
    name: str,
    title: str,
    columns: list[tuple[str, np.ndarray]],
    *,
    normalize: tuple[bool | str, ...] | None = None,
    max_rows: int = 6,
    note: str = "",
    vanish_below: tuple[float | None, ...] | None = None,
) -> Path:
    """One column per ``(label, images (N, C, H, W))``; row ``r`` shows image ``r`` of each.

    Typical columns: training images, then input / output pairs for each kind of test input.
    All the training images (the first column) are shown, the other columns up to
    ``max_rows``; each image has a thin grey frame, so that a white one stays visible.
    Every column has ONE colour scale (see ``_scale``), printed in its title — never one
    scale per panel, so a near-zero output looks dark and a sign-flipped one inverted, as
    they are. The norm of each image is printed under it. ``note`` (e.g. how many outputs
    landed on a training image) goes under the title. ``vanish_below[j]``: images of column
    ``j`` with a smaller norm are marked "vanished" under their panel, in red (an output
    below 10 % of the training image's norm never counts as landed).
    """
    plt = _plt()
    # every image of the first column (the training images) is shown, the others to max_rows
    n_rows = min(max(max_rows, len(columns[0][1])), max(len(imgs) for _, imgs in columns))
    n_cols = len(columns)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(1.2 * n_cols + 0.2, 1.3 * n_rows + 1.0), squeeze=False
    )
    for j, (label, imgs) in enumerate(columns):
        norm = normalize[j] if normalize is not None else False
        lo, hi = _scale(np.asarray(imgs)[:n_rows], norm)
        for i in range(n_rows):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            for s in ax.spines.values():  # a thin frame: a white image keeps its edge
                s.set_visible(i < len(imgs))
                s.set_edgecolor("0.55")
            if i < len(imgs):
                ax.imshow(_show(imgs[i], lo, hi), interpolation="nearest")
                norm_i = float(np.linalg.norm(np.asarray(imgs[i], dtype=np.float64)))
                low = vanish_below[j] if vanish_below is not None else None
                gone = low is not None and norm_i < low
                ax.set_xlabel(
                    f"‖·‖ = {norm_i:.3g}" + (" vanished" if gone else ""),
                    fontsize=7, labelpad=1, color="tab:red" if gone else "black",
                )  # fmt: skip
            if i == 0:
                rng = "[0, 1]" if norm is False else f"[{lo:.2g}, {hi:.2g}]"
                ax.set_title(f"{label}\n{rng}", fontsize=8)
    fig.suptitle(title + (f"\n{note}" if note else ""), fontsize=10)
    fig.tight_layout()
    return save_figure(fig, out, name, dpi=110)


def spectrum_figure(
    out: Output,
    name: str,
    title: str,
    spectra: list[tuple[str, list[float]]],
    *,
    marks: dict[str, int] | None = None,
    floor: float = 1e-12,
) -> Path:
    """Eigenvalue magnitudes (descending, log scale) of one or more end-to-end matrices.

    The y-range is this panel's own: from just below the smallest value above ``floor`` times
    the largest, to just above the largest (values below are drawn on the bottom edge, as
    open markers). ``marks[label] = n`` draws a dashed line at index n (the number of training
    images): a memorizing spectrum has n values near 1 and drops right after it.
    """
    from matplotlib.ticker import MaxNLocator

    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    # the head of a long spectrum is where memorization shows: the first max(32, 8n) values
    longest = max((len(s) for _, s in spectra), default=0)
    shown = min(longest, max(32, 8 * max((marks or {}).values(), default=0)))
    spectra = [(label, list(s)[:shown]) for label, s in spectra]
    top = max((max(s) for _, s in spectra if len(s)), default=1.0) or 1.0
    pos = [v for _, s in spectra for v in s if v > top * floor]
    bottom = min(pos) / 3 if pos else top * floor
    for label, spec in spectra:
        s = np.asarray(spec, dtype=np.float64)
        idx = np.arange(1, len(s) + 1)
        (line,) = ax.semilogy(idx, np.maximum(s, bottom), ".-", ms=4, label=label)
        low = s < bottom
        if low.any():
            ax.plot(idx[low], np.full(low.sum(), bottom), "o", mfc="none", color=line.get_color())
        n = (marks or {}).get(label)
        if n is not None:
            ax.axvline(n + 0.5, color=line.get_color(), ls="--", lw=0.9)
    ax.axhline(1.0, color="grey", lw=0.6, ls=":")
    ax.set_ylim(bottom / 1.5, top * 2.0)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(labelsize=9)
    part = f", the first {shown} of {longest}" if shown < longest else ""
    ax.set_xlabel(f"index i (eigenvalues sorted by magnitude{part})", fontsize=9)
    ax.set_ylabel("|eigenvalue|", fontsize=9)
    extra = "; dashed: i = n" if marks else ""
    ax.set_title(title + extra, fontsize=9)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return save_figure(fig, out, name, dpi=110)


#: The lowest magnitude an ensemble figure draws; smaller values are drawn at it.
FLOOR = 1e-8


def _ensemble_panel(ax: Any, r: dict[str, Any], *, quick: bool) -> None:
    """One row's panel of :func:`ensemble_spectra_figure`: every seed, the median, index n."""
    n = r["train_examples"]
    spectra = [np.asarray(s) for s in r["spectra"] if s]
    lo = max(FLOOR, min(float(s[s > 0].min()) if (s > 0).any() else FLOOR
                        for s in spectra) / 2)  # fmt: skip
    hi = max(2.0, max(float(s.max()) for s in spectra) * 1.5)
    for p, s in zip(r["per_seed"], r["spectra"], strict=True):
        if not s:
            continue
        v = np.asarray(s)
        idx = np.arange(1, v.size + 1)
        ok = p.get("reached")
        ax.plot(idx, np.maximum(v, lo), "-", lw=0.5, color="0.7", zorder=1)
        ax.scatter(idx, np.maximum(v, lo), s=9, marker="o" if ok else "x",
                   color="tab:blue" if ok else "tab:red", alpha=0.6, zorder=2)  # fmt: skip
    med = np.maximum(np.asarray(r["spectrum"]), lo)
    ax.plot(np.arange(1, med.size + 1), med, "-", lw=1.8, color="black", zorder=3,
            label=f"median seed {r['spectrum_seed']}")  # fmt: skip
    ax.set_yscale("log")
    ax.set_ylim(lo / 1.5, hi)
    ax.axhline(1.0, color="grey", lw=0.6, ls="--")
    ax.axvline(n + 0.5, color="tab:green", lw=0.8, ls=":")
    ax.annotate(f"n={n}", (n + 0.5, hi), fontsize=6, color="tab:green", va="top")
    unreached = sum(1 for p in r["per_seed"] if not p.get("reached"))
    frac = r["summary"]["memorized_fraction"]
    mem = "n/a" if frac is None else f"{frac:.0%}"
    flag = ""
    if quick or r.get("quick"):
        flag += "; QUICK"
    if unreached:
        flag += f"; {unreached}/{len(r['per_seed'])} did not reach the target"
    ax.set_title(
        f"{r['key']}: {r['conv_layers']}L x {r['filters']}F, {len(r['seeds'])} seeds\n"
        f"memorized {mem}; verdict {r['verdict']}" + (f"\n{flag[2:]}" if flag else ""),
        fontsize=7, color="tab:red" if unreached else "black",  # red: a problem only
    )  # fmt: skip
    ax.set_xlabel("index", fontsize=7)
    ax.set_ylabel("|eigenvalue|", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=5, loc="lower left")


def ensemble_spectra_figure(
    out: Output, name: str, title: str, rows: list[dict[str, Any]], *, quick: bool
) -> list[Path]:
    """``out/NAME_spectra.png``: one panel per row of Tables 1-2, every seed's spectrum
    (x: a seed that did not reach the loss target), the median seed in black, a dotted line
    at index n; the panel title gives the fraction memorized and the row's verdict."""
    plt = _plt()
    rows = [r for r in rows if r.get("spectra") and any(r["spectra"])]
    if not rows:
        return []
    cols = min(4, len(rows))
    nrows = -(-len(rows) // cols)
    height = 2.9 * nrows + 0.5  # the title keeps half an inch, whatever the number of rows
    fig, axes = plt.subplots(nrows, cols, figsize=(3.6 * cols, height), squeeze=False)
    for ax, r in zip(axes.flat, rows, strict=False):
        _ensemble_panel(ax, r, quick=quick)
    for ax in list(axes.flat)[len(rows) :]:
        ax.axis("off")
    fig.suptitle(
        f"{title} (dots: seeds, x: did not reach the target; black: median seed; "
        f"dotted: index n)", fontsize=9, y=1 - 0.15 / height,
    )  # fmt: skip
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.45 / height))
    return [save_figure(fig, out, f"{name}_spectra.png", dpi=100)]
