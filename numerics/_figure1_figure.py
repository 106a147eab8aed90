"""Figure 1's picture, drawn as the paper's: per training image, the image at the left, the
probe inputs above and the U-Net's outputs below (``figure1.png``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ._experiment import RunConfig
from ._figure1_verdict import SETS
from ._metrics import DID_NOT_TRAIN, LAND_TOL, MIN_NORM, VANISHED
from ._verdicts import MIN_SEEDS

__all__ = ["figures"]


#: Examples per probe set in the figure (the paper shows a few per kind).
_SHOWN = 3
_SET_TITLES = {
    "squares": "white squares",
    "gaussian": "standard Gaussian",
    "held_out": "new images",
}


def _panel(ax: Any, img: np.ndarray, *, normalize: bool = False) -> None:
    """One image, framed (a white square stays visible on a white page)."""
    a = np.asarray(img, dtype=np.float64)
    if normalize:
        lo, hi = float(a.min()), float(a.max())
        a = (a - lo) / (hi - lo if hi > lo else 1.0)
    ax.imshow(np.clip(np.nan_to_num(a), 0.0, 1.0).transpose(1, 2, 0), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for sp in ax.spines.values():
        sp.set_visible(True)
        sp.set_color("0.45")
        sp.set_linewidth(0.8)


def _block_title(row: dict[str, Any]) -> str:
    summ = row.get("summary") or {}
    parts = []
    for s in SETS:
        v = summ.get(s)
        if isinstance(v, dict):
            got = v["landed"]
            parts.append(f"{_SET_TITLES[s]} " + (f"{got:.0%}" if isinstance(got, float) else got))
    seeds = len(row.get("per_seed") or [])
    run = "" if seeds >= MIN_SEEDS else f" ({seeds} seed{'s' if seeds > 1 else ''} run)"
    return (
        f"Trained on the {row['image']}: {summ.get('trained')} seeds trained; outputs that "
        "land (median over seeds): " + ", ".join(parts) + f"\nverdict: {row['verdict']} "
        f"({row['outcome']}); shown: seed {row.get('figure_seed')}{run}"
    )


def _draw_block(sf: Any, row: dict[str, Any], arr: dict[str, np.ndarray]) -> None:
    """One subfigure: the training image at the left; per set, inputs above, outputs below."""
    from ._metrics import lands

    x = arr["train"][0]
    xn = float(np.linalg.norm(x))
    per0 = next((p for p in row["per_seed"] if p["seed"] == row.get("figure_seed")), None)
    trained = bool(per0 and per0.get("trained"))
    sets = [s for s in SETS if f"in_{s}" in arr]
    ncol = 1 + len(sets) * _SHOWN
    widths = [1.25] + [1.0] * (ncol - 1)
    grid = sf.add_gridspec(2, ncol, width_ratios=widths, wspace=0.1, hspace=0.45,
                           left=0.02, right=0.98, top=0.74, bottom=0.1)  # fmt: skip
    ax = sf.add_subplot(grid[:, 0])
    _panel(ax, x)
    ax.set_title("training image", fontsize=8)
    if per0 is not None:
        flag = "" if trained else f"\n{DID_NOT_TRAIN.upper()}"
        ax.set_xlabel(f"f(x) is {per0['fit']:.1%} off x{flag}", fontsize=7.5,
                      color="black" if trained else "tab:red")  # fmt: skip
    for j, s in enumerate(sets):
        for k in range(min(_SHOWN, len(arr[f"in_{s}"]))):
            col = 1 + j * _SHOWN + k
            a_in = sf.add_subplot(grid[0, col])
            _panel(a_in, arr[f"in_{s}"][k], normalize=s == "gaussian")
            if k == 1:
                a_in.set_title(_SET_TITLES[s], fontsize=8.5)
            if col == 1:
                a_in.set_ylabel("inputs", fontsize=8)
            y = arr[f"out_{s}"][k]
            a_out = sf.add_subplot(grid[1, col])
            _panel(a_out, y)
            yn = float(np.linalg.norm(y))
            coef = max(float(np.vdot(y, x)), 0.0) / xn**2
            ray = float(np.linalg.norm(y - coef * x)) / max(yn, 1e-12)
            ok = trained and bool(lands([ray], [yn], [xn])[0])
            text = VANISHED if yn < MIN_NORM * xn else f"d = {ray:.0%}"
            a_out.set_xlabel(text, fontsize=7, color="tab:green" if ok else "tab:red")
            if col == 1:
                a_out.set_ylabel("outputs", fontsize=8)


def figures(cfg: RunConfig, rows: list[dict[str, Any]]) -> list[Path]:
    """``figure1.png`` (the default reading; ``figure1-READING.png`` for the others): per
    training image, the image at the left, inputs above and outputs below, as the paper."""
    from ._figures import _plt, load_arrays, save_figure

    assert cfg.out is not None
    plt = _plt()
    paths = []
    groups: dict[str, list[tuple[dict[str, Any], dict[str, np.ndarray]]]] = {}
    for r in rows:
        arr = load_arrays(cfg.out, r)
        if arr is not None:
            groups.setdefault(r.get("reading", "default"), []).append((r, arr))
    for label, items in groups.items():
        r0 = items[0][0]
        fig = plt.figure(figsize=(12.0, 3.3 * len(items) + 0.7))
        head, *blocks = fig.subfigures(len(items) + 1, 1, height_ratios=[0.7] + [3.3] * len(items))
        quick = "   [QUICK FORM: inconclusive by rule]" if cfg.quick else ""
        head.suptitle(
            f"Figure 1: a U-Net ({r0['width']}..{r0['width'] * 2 ** r0['depth']} channels, "
            f"{r0['depth']} max-pools) trained on one image for {r0['iterations']} "
            f"iterations; reading {label}{quick}\n"
            f"Inputs above, outputs below. d under an output: its distance to the nearest "
            "positive multiple of the training image x, relative to its own norm.\nGreen: the "
            f"output lands on x (d <= {LAND_TOL:.0%} and norm >= {MIN_NORM:.0%} of x's); red: "
            "it does not. Gaussian inputs shown min-max scaled, outputs clipped to [0, 1].",
            fontsize=9.5, y=0.98, va="top",
        )  # fmt: skip
        for sf, (r, arr) in zip(blocks, items, strict=True):
            sf.suptitle(_block_title(r), fontsize=8.5, y=0.97, va="top")
            _draw_block(sf, r, arr)
        name = "figure1.png" if label == "default" else f"figure1-{label}.png"
        paths.append(save_figure(fig, cfg.out, name, dpi=110))
    return paths
