"""PNG figures for the experiments (matplotlib, Agg backend): input → output grids, spectra,
top eigenvectors as images. Arrays come from the ``.npz`` file a row saved in ``cfg.out``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["grid_figure", "load_arrays", "save_arrays", "spectrum_figure"]


def _plt():  # type: ignore[no-untyped-def]
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
    clean = {}
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


def _show(img: np.ndarray, *, normalize: bool) -> np.ndarray:
    """(C, H, W) → (H, W, 3) in [0, 1]; ``normalize`` min-max scales (eigenvectors, Gaussians)."""
    a = np.asarray(img, dtype=np.float64)
    if a.ndim == 2:
        a = a[None]
    if normalize:
        lo, hi = float(a.min()), float(a.max())
        a = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    a = np.clip(a, 0.0, 1.0)
    if a.shape[0] == 1:
        a = np.repeat(a, 3, axis=0)
    return a[:3].transpose(1, 2, 0)


def grid_figure(
    path: Path,
    title: str,
    columns: list[tuple[str, np.ndarray]],
    *,
    normalize: tuple[bool, ...] | None = None,
    max_rows: int = 6,
) -> Path:
    """One column per ``(label, images (N, C, H, W))``; row ``r`` shows image ``r`` of each.

    Typical columns: training images, then input / output pairs for each kind of test input.
    Images outside [0, 1] are clipped unless ``normalize`` says to min-max scale that column
    (each image on its own: outputs are shown up to scale, as the paper displays them).
    """
    plt = _plt()
    n_rows = min(max_rows, max(len(imgs) for _, imgs in columns))
    n_cols = len(columns)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(1.3 * n_cols + 0.2, 1.3 * n_rows + 0.6), squeeze=False
    )
    for j, (label, imgs) in enumerate(columns):
        norm = normalize[j] if normalize is not None else False
        for i in range(n_rows):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            for s in ax.spines.values():
                s.set_visible(False)
            if i < len(imgs):
                ax.imshow(_show(imgs[i], normalize=norm), interpolation="nearest")
            if i == 0:
                ax.set_title(label, fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def spectrum_figure(path: Path, title: str, spectra: list[tuple[str, list[float]]]) -> Path:
    """Eigenvalue magnitudes (descending, log scale) of one or more end-to-end matrices."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.0, 3.2))
    for label, spec in spectra:
        s = np.asarray(spec, dtype=np.float64)
        ax.semilogy(np.arange(1, len(s) + 1), np.maximum(s, 1e-16), ".-", ms=3, label=label)
    ax.axhline(1.0, color="grey", lw=0.6, ls=":")
    ax.set_xlabel("index (eigenvalues sorted by magnitude)")
    ax.set_ylabel("|eigenvalue|")
    ax.set_xscale("log")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
