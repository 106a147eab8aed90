"""PNG figures for the experiments (matplotlib, Agg backend): input → output grids, spectra,
top eigenvectors as images. Arrays come from the ``.npz`` file a row saved in ``cfg.out``.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

__all__ = ["grid_figure", "load_arrays", "save_arrays", "spectrum_figure"]


def _plt() -> ModuleType:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_arrays(out: Path | None, name: str, key: str, **arrays: Any) -> str | None:
    """Save ``arrays`` (tensors or arrays) to ``out/NAME-KEY.npz``; returns the file name."""
    if out is None:
        return None
    out.mkdir(parents=True, exist_ok=True)
    fname = f"{name}-{key}.npz"
    clean: dict[str, Any] = {}
    for k, v in arrays.items():
        if hasattr(v, "detach"):
            v = v.detach().to("cpu").float().numpy()
        clean[k] = np.asarray(v, dtype=np.float32)
    np.savez_compressed(out / fname, **clean)
    return fname


def load_arrays(out: Path, row: dict[str, Any]) -> dict[str, np.ndarray] | None:
    fname = row.get("arrays")
    if not fname or not (out / fname).exists():
        return None
    with np.load(out / fname) as z:
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
    path: Path,
    title: str,
    columns: list[tuple[str, np.ndarray]],
    *,
    normalize: tuple[bool | str, ...] | None = None,
    max_rows: int = 6,
    note: str = "",
) -> Path:
    """One column per ``(label, images (N, C, H, W))``; row ``r`` shows image ``r`` of each.

    Typical columns: training images, then input / output pairs for each kind of test input.
    Every column has ONE colour scale (see ``_scale``), printed in its title — never one
    scale per panel, so a near-zero output looks dark and a sign-flipped one inverted, as
    they are. The norm of each image is printed under it. ``note`` (e.g. how many outputs
    landed on a training image) goes under the title.
    """
    plt = _plt()
    n_rows = min(max_rows, max(len(imgs) for _, imgs in columns))
    n_cols = len(columns)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(1.45 * n_cols + 0.2, 1.5 * n_rows + 1.0), squeeze=False
    )
    for j, (label, imgs) in enumerate(columns):
        norm = normalize[j] if normalize is not None else False
        lo, hi = _scale(np.asarray(imgs)[:n_rows], norm)
        for i in range(n_rows):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            for s in ax.spines.values():
                s.set_visible(False)
            if i < len(imgs):
                ax.imshow(_show(imgs[i], lo, hi), interpolation="nearest")
                norm_i = float(np.linalg.norm(np.asarray(imgs[i], dtype=np.float64)))
                ax.set_xlabel(f"‖·‖ = {norm_i:.3g}", fontsize=7, labelpad=1)
            if i == 0:
                rng = "[0, 1]" if norm is False else f"[{lo:.2g}, {hi:.2g}]"
                ax.set_title(f"{label}\n{rng}", fontsize=8)
    fig.suptitle(title + (f"\n{note}" if note else ""), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def spectrum_figure(
    path: Path,
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
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
