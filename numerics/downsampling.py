"""Section 4, Figures 2-3: downsampling trades off depth for memorization.

The paper draws the networks D1 and D2 only in figures we do not have; from the text:

**D1** (Figure 2a): "uses strides of size 2 to progressively downsample to a 1×1
representation". Our choice: ``log2(s)`` 3×3 convolutions with stride 2 and padding 1
(32→16→8→4→2→1), then ``log2(s)`` times nearest-neighbour upsampling ×2 followed by a 3×3
convolution (stride 1, padding 1) back to s×s; 3 channels in and out, ``F`` filters in every
hidden layer (F = 64 full, 16 quick), no biases, default PyTorch initialization. The 1×1×F
code makes the end-to-end map rank ≤ F, like a fully connected autoencoder (Section 2).

**D2** (Figure 3a): "downsamples a 32×32 image to a 4×4 representation after layer 1", then
29 layers (the heuristic depth for 4×4, Table 2), then back to 32×32; "each parameter
initialized at 1.8·10⁻³". Our choice: layer 1 is a convolution with kernel = stride = s/4
and no padding (every pixel seen exactly once), then 29 3×3 convolutions at 4×4, then
``log2(s/4)`` times upsampling ×2 + 3×3 convolution, ``F`` filters everywhere (F = 64 full,
4 quick). Why 64: a 3×3 convolution with F equal filters of weight c on a 4×4 image has gain
``F·c·6.85`` (6.85 = (1+2cos(π/5))², the top eigenvalue of the all-ones 3×3 convolution on
4×4 with zero padding); with c = 1.8·10⁻³ that is 0.79 for F = 64, so 29 layers shrink the
signal by ~10⁻³ but still train, while with one filter (gain 0.012 per layer) the output is
10⁻⁵⁵ — zero in float32 — and nothing trains. Two caveats we report rather than hide:
(i) with every parameter equal, gradient descent keeps all filters of a layer identical, so
the net computes what a single-filter net computes; (ii) a single-filter decoder from a 4×4
code cannot output an arbitrary 32×32 photograph (its outputs are sums of 16 shifted copies
of one pattern), so the training loss cannot reach 0 on a photograph. Row ``d2`` runs the
paper's 1.8·10⁻³; row ``d2-gain1`` uses ``c = 1/(6.85·F)`` (per-layer gain 1 at 4×4) so
that training starts, and shows where expressivity stops it.

Training (the paper: gradient descent with rate 0.1, Adam with rate 10⁻⁴ beyond 10 layers,
until the loss is below 10⁻⁶): Adam, rate 10⁻⁴ full / 10⁻³ quick, mean squared error, for
the stated number of iterations or until the loss is below 10⁻⁶. Quick runs use 8×8 images.

Measured: the spectrum of the exact end-to-end matrix (read off the torch model in float64
and cross-checked against ``symconv.network_matrix``), how far the top eigenvectors are from
the span of the training images, and the outputs on Gaussian / square / held-out inputs.

This module also holds the training loop and row helpers that Sections 5-6 reuse.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from symconv import Conv2d, Layer, Network, Upsample

from ._experiment import Experiment, ExperimentError, RunConfig
from ._nets import single_thread

__all__ = [
    "EXPERIMENTS",
    "GAIN_4X4",
    "autoencoder_row",
    "d1_network",
    "d2_network",
    "test_inputs",
    "train",
]

#: Top eigenvalue of the all-ones 3×3 convolution on a 4×4 image with zero padding.
GAIN_4X4 = (1.0 + 2.0 * math.cos(math.pi / 5.0)) ** 2
#: The paper's stopping rule.
LOSS_TOL = 1e-6


def _log2(argument: str, value: int) -> int:
    k = round(math.log2(value)) if value > 0 else -1
    if k < 1 or 2**k != value:
        raise ExperimentError(argument, value, "must be a power of two ≥ 2")
    return k


def d1_network(size: int = 32, filters: int = 64, channels: int = 3) -> Network:
    """D1: ``log2(size)`` stride-2 3×3 convs down to 1×1, then as many (upsample ×2 + 3×3
    conv) back up; ``filters`` channels in every hidden layer."""
    k = _log2("size", size)
    layers: list[Layer] = [Conv2d(channels, filters, 3, 2)]
    layers += [Conv2d(filters, filters, 3, 2) for _ in range(k - 1)]
    for i in range(k):
        layers += [Upsample(2), Conv2d(filters, channels if i == k - 1 else filters, 3)]
    return Network((channels, size, size), tuple(layers))


def d2_network(size: int = 32, filters: int = 64, depth: int = 29, channels: int = 3) -> Network:
    """D2: one conv with kernel = stride = size/4 (to 4×4), ``depth`` 3×3 convs at 4×4,
    then ``log2(size/4)`` times (upsample ×2 + 3×3 conv) back to ``size``."""
    if size % 4:
        raise ExperimentError("size", size, "D2 needs a multiple of 4")
    f = size // 4
    k = _log2("size/4", f)
    layers: list[Layer] = [Conv2d(channels, filters, f, f, padding=0)]
    layers += [Conv2d(filters, filters, 3) for _ in range(depth)]
    for i in range(k):
        layers += [Upsample(2), Conv2d(filters, channels if i == k - 1 else filters, 3)]
    return Network((channels, size, size), tuple(layers))


def _progress(cfg: RunConfig, total: int, desc: str):  # type: ignore[no-untyped-def]
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, file=cfg.log, disable=not cfg.progress, leave=False)


def train(
    model,  # type: ignore[no-untyped-def]
    x,  # type: ignore[no-untyped-def]
    *,
    iterations: int,
    lr: float,
    cfg: RunConfig,
    desc: str = "train",
    tol: float = LOSS_TOL,
) -> tuple[float, int, float]:
    """Adam on the mean squared error ``mean((f(x) − x)²)`` for ``iterations`` steps or until
    the loss is below ``tol``; returns ``(loss, iterations done, seconds)``."""
    import torch

    opt = torch.optim.Adam(model.parameters(), lr=lr)
    t0 = time.perf_counter()
    loss_v = float("nan")
    done = 0
    with _progress(cfg, iterations, desc) as bar:
        for done in range(1, iterations + 1):
            opt.zero_grad()
            loss = torch.mean((model(x) - x) ** 2)
            loss.backward()
            opt.step()
            loss_v = float(loss.detach())
            bar.update(1)
            if done % 50 == 0:
                bar.set_postfix(loss=f"{loss_v:.2e}")
            if loss_v < tol or not math.isfinite(loss_v):
                break
    with torch.no_grad():
        loss_v = float(torch.mean((model(x) - x) ** 2))
    return loss_v, done, time.perf_counter() - t0


def test_inputs(
    cfg: RunConfig, *, size: int, channels: int, n_train: int, count: int, held_out: bool = True
) -> dict[str, Any]:
    """The paper's test inputs: standard Gaussian images, random-sized colour squares, and
    (for photographs) images not used for training. Seeded from ``cfg.seed``."""
    from ._data import gaussian_images, load_images, square_images

    sets = {
        "gaussian": gaussian_images(count, size=size, channels=channels, seed=cfg.seed + 1),
        "squares": square_images(
            count, size=size, channels=channels, seed=cfg.seed + 2, color=channels == 3
        ),
    }
    if held_out:
        try:
            sets["held_out"] = load_images(n_train + count, size=size, source=cfg.images)[n_train:]
        except ExperimentError:
            pass  # a user folder with too few images: no held-out set
    return sets


def _linear_analysis(model, net: Network, train_x, device: str) -> tuple[dict[str, Any], Any]:  # type: ignore[no-untyped-def]
    """Exact end-to-end matrix, its spectrum, cross-check with symconv, top eigenvectors."""
    from symconv import network_matrix

    from ._linalg import end_to_end_matrix, span_residual
    from ._nets import weights_of

    m = end_to_end_matrix(model, net.in_shape, device=device)
    exact = network_matrix(net, weights_of(model)).toarray()
    ev, vec = np.linalg.eig(m)
    order = np.argsort(-np.abs(ev))
    ev, vec = ev[order], vec[:, order]
    n = len(train_x)
    x = train_x.detach().to("cpu").double().reshape(n, -1).numpy()
    top = np.real(vec[:, : n + 1]).T
    resid = span_residual(top, x)
    scale = max(1.0, float(np.abs(m).max()))
    info = {
        "spectrum": [float(v) for v in np.abs(ev)],
        "matrix_check": float(np.abs(m - exact).max() / scale),
        "top_eigenvalues": [float(v) for v in np.abs(ev[: n + 2])],
        "eigvec_span_residual": [float(r) for r in resid],
        "n_eig_above_0.1": int((np.abs(ev) > 0.1).sum()),
    }
    return info, top


def autoencoder_row(cfg: RunConfig, **kwargs: Any) -> dict[str, Any]:
    """Train one autoencoder and measure it (see :func:`_autoencoder_row`)."""
    with single_thread(cfg.quick and cfg.device == "cpu"):
        return _autoencoder_row(cfg, **kwargs)


def _autoencoder_row(
    cfg: RunConfig,
    *,
    name: str,
    key: str,
    net: Network,
    train_x,  # type: ignore[no-untyped-def]
    init: str,
    nonlinearity: str | None,
    iterations: int,
    lr: float,
    test_count: int,
    held_out: bool = True,
    compare_with_reconstructions: bool = False,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train one autoencoder and measure it: the row every Section 4-6 experiment writes.

    Linear nets: the exact spectrum and eigenvector/span residuals. Nonlinear nets: the
    spectrum of the Jacobian at training image 0 (``spectrum_kind`` says which). Both: the
    output metrics of :mod:`numerics._metrics` on every test input set, the output norm of
    training image 0 before training, and an ``.npz`` of images for the figures.
    """
    import torch

    from ._figures import save_arrays
    from ._metrics import iterate_map, jacobian_spectrum, memorization_metrics
    from ._nets import build_model

    torch.manual_seed(cfg.seed)
    model = build_model(net, init=init, nonlinearity=nonlinearity, seed=cfg.seed, device=cfg.device)
    x = train_x.to(cfg.device)
    with torch.no_grad():
        init_norm = float(model(x[:1]).norm())
    loss, its, secs = train(model, x, iterations=iterations, lr=lr, cfg=cfg, desc=f"{name}:{key}")
    c, h, _ = net.in_shape
    row: dict[str, Any] = {
        "network": key.split("-")[0],
        "size": h,
        "channels": c,
        "depth": net.depth,
        "params": net.n_params,
        "init": init,
        "nonlinearity": nonlinearity or "linear",
        "n_train": len(x),
        "optimizer": f"adam lr={lr:g}",
        **(extra or {}),
        "init_output_norm": init_norm,
        "loss": loss,
        "loss_target": LOSS_TOL,
        "reached": bool(loss < LOSS_TOL),
        "iterations": its,
        "seconds": secs,
    }
    eig_top = None
    if nonlinearity is None:
        info, eig_top = _linear_analysis(model, net, x, cfg.device)
        row["spectrum_kind"] = "exact end-to-end matrix"
        row.update(info)
    else:
        row["spectrum_kind"] = "Jacobian at training image 0"
        row["spectrum"] = jacobian_spectrum(model, x[0])
    sets = test_inputs(cfg, size=h, channels=c, n_train=len(x), count=test_count, held_out=held_out)
    with torch.no_grad():
        recon = model(x)
    targets = recon if compare_with_reconstructions else None
    row["metrics"] = {
        s: memorization_metrics(model, inp.to(cfg.device), x, targets=targets)
        for s, inp in sets.items()
    }
    row["train_reconstruction"] = memorization_metrics(model, x, x)["nearest_median"]
    arrays: dict[str, Any] = {"train": x, "recon": recon}
    with torch.no_grad():
        for s, inp in sets.items():
            arrays[f"in_{s}"] = inp[:8]
            arrays[f"out_{s}"] = model(inp[:8].to(cfg.device))
            # the iterated map f^20, whose landing the metrics report (``iterated_landed``)
            arrays[f"iter_{s}"] = iterate_map(model, inp[:8].to(cfg.device))[0]
    if eig_top is not None:
        arrays["eigvecs"] = eig_top.reshape(-1, *net.in_shape)
    row["arrays"] = save_arrays(cfg.out, name, key, **arrays)
    return row


def io_figure(
    cfg: RunConfig, name: str, row: dict[str, Any], title: str, *, iterated: bool = False
) -> Path | None:
    """Training images, reconstructions, then input → output for each test set (and, with
    ``iterated``, the output of the map applied 20 times). The title flags a run that did not
    reach its loss target; the note under it gives the landing fractions the text quotes."""
    from ._figures import grid_figure, load_arrays
    from ._metrics import ITERATE

    assert cfg.out is not None
    arr = load_arrays(cfg.out, row)
    if arr is None:
        return None
    cols: list[tuple[str, np.ndarray]] = [("train", arr["train"]), ("f(train)", arr["recon"])]
    norm: list[bool | str] = [False, "fit01"]
    notes = []
    for s in ("gaussian", "squares", "held_out"):
        if f"in_{s}" in arr:
            cols += [(f"{s} in", arr[f"in_{s}"]), (f"{s} out", arr[f"out_{s}"])]
            norm += [s == "gaussian", "fit01"]
            if iterated and f"iter_{s}" in arr:
                cols.append((f"{s} f^{ITERATE}", arr[f"iter_{s}"]))
                norm.append("fit01")
        m = (row.get("metrics") or {}).get(s)
        if m:
            notes.append(
                f"{s}: {m.get('landed', 0):.0%} land"
                + (f", {m['iterated_landed']:.0%} after f^{ITERATE}" if iterated else "")
            )
    if "eigvecs" in arr:
        cols.append(("eigvecs", arr["eigvecs"]))
        norm.append(True)
    if row.get("reached") is False and "stopped_at" not in row:
        title += (
            f"\nDID NOT REACH the loss target {row.get('loss_target', LOSS_TOL):g}: "
            f"loss {row.get('loss', float('nan')):.2g} after {row.get('iterations')} iterations"
        )
    return grid_figure(
        cfg.out / f"{name}-{row['key']}.png",
        title,
        cols,
        normalize=tuple(norm),
        note="; ".join(notes),
    )


@dataclass(frozen=True)
class _Scale:
    size: int
    d1_filters: int
    d2_filters: int
    iterations: int
    lr: float
    test_count: int
    small_iterations: int  # the tiny nets of Figures 4-5


def scale(cfg: RunConfig) -> _Scale:
    """Quick: 8×8 images, few filters and iterations (seconds on a CPU). Full: the paper's
    32×32 images, 10,000 iterations."""
    if cfg.quick:
        return _Scale(
            size=8,
            d1_filters=16,
            d2_filters=4,
            iterations=600,
            lr=1e-3,
            test_count=16,
            small_iterations=1500,
        )
    return _Scale(
        size=32,
        d1_filters=64,
        d2_filters=64,
        iterations=10_000,
        lr=1e-4,
        test_count=64,
        small_iterations=20_000,
    )


def _rows(cfg: RunConfig) -> Iterable[tuple[str, Callable[[], dict[str, Any]]]]:
    from ._data import load_images

    sc = scale(cfg)
    name = "downsampling"

    def d1() -> dict[str, Any]:
        x = load_images(2, size=sc.size, source=cfg.images)
        return autoencoder_row(
            cfg,
            name=name,
            key="d1",
            net=d1_network(sc.size, sc.d1_filters),
            train_x=x,
            init="default",
            nonlinearity=None,
            iterations=sc.iterations,
            lr=sc.lr,
            test_count=sc.test_count,
            extra={"filters": sc.d1_filters},
        )

    def d2(key: str, c: float) -> Callable[[], dict[str, Any]]:
        def run() -> dict[str, Any]:
            x = load_images(1, size=sc.size, source=cfg.images)
            return autoencoder_row(
                cfg,
                name=name,
                key=key,
                net=d2_network(sc.size, sc.d2_filters),
                train_x=x,
                init=f"constant:{c:.6g}",
                nonlinearity=None,
                iterations=sc.iterations,
                lr=sc.lr,
                test_count=sc.test_count,
                extra={"filters": sc.d2_filters},
            )

        return run

    yield "d1", d1
    yield "d2", d2("d2", 1.8e-3)
    yield "d2-gain1", d2("d2-gain1", 1.0 / (GAIN_4X4 * sc.d2_filters))


def _label(row: dict[str, Any]) -> str:
    """A legend label that flags a run that did not reach its loss target."""
    flag = (
        "" if row.get("reached", True) else f" (target not reached: loss {row.get('loss', 0):.2g})"
    )
    return f"{row['key']}{flag}"


def _figures(cfg: RunConfig, rows: list[dict[str, Any]]) -> list[Path]:
    from ._figures import spectrum_figure

    assert cfg.out is not None
    paths: list[Path] = []
    titles = {
        "d1": "D1 (stride-2 to 1x1), 2 images: outputs and top eigenvectors",
        "d2": "D2 (to 4x4, 29 layers), 1 image, every weight 1.8e-3",
        "d2-gain1": "D2, every weight 1/(6.85 F): per-layer gain 1",
    }
    for row in rows:
        p = io_figure(cfg, "downsampling", row, titles.get(row["key"], row["key"]))
        if p is not None:
            paths.append(p)
    spectra = [(_label(r), r["spectrum"]) for r in rows if r.get("spectrum")]
    if spectra:
        paths.append(
            spectrum_figure(
                cfg.out / "downsampling-spectra.png",
                "Spectra of the end-to-end matrices (Figures 2-3)",
                spectra,
                marks={_label(r): int(r["n_train"]) for r in rows if r.get("spectrum")},
            )
        )
    return paths


NOTES = __doc__.split("This module also holds")[0].strip() if __doc__ else ""

EXPERIMENTS = [
    Experiment(
        name="downsampling",
        summary="Figures 2-3: downsampling nets D1 (to 1x1) and D2 (to 4x4, 29 layers)",
        rows=_rows,
        figures=_figures,
        notes=NOTES,
    )
]
