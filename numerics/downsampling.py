"""Section 4, Figures 2-3: downsampling trades off depth for memorization.

The networks D1 (stride-2 convolutions down to a 1×1 code) and D2 (down to 4×4 after layer
1, then 29 layers), trained on photographs; :data:`NOTES` gives the paper's setup and our
choices where it is silent (the report prints it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from symconv import Conv2d, Layer, Network, Upsample

from ._autoencoder import autoencoder_experiment, autoencoder_row, scale
from ._experiment import ExperimentError, RunConfig
from ._nets import Init

__all__ = ["EXPERIMENTS", "GAIN_4X4", "NOTES", "d1_network", "d2_network"]

NOTES = """\
Section 4, Figures 2-3: downsampling trades off depth for memorization.

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
the span of the training images, and the outputs on Gaussian / square / held-out inputs."""

#: Top eigenvalue of the all-ones 3×3 convolution on a 4×4 image with zero padding.
GAIN_4X4 = (1.0 + 2.0 * math.cos(math.pi / 5.0)) ** 2


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


def _rows(cfg: RunConfig) -> Iterable[tuple[str, Callable[[], dict[str, Any]]]]:
    from ._data import load_images

    sc = scale(cfg)

    def row(
        key: str, images: int, net: Network, init: Init, filters: int
    ) -> Callable[[], dict[str, Any]]:
        def run() -> dict[str, Any]:
            return autoencoder_row(
                cfg,
                name="downsampling",
                key=key,
                net=net,
                train_x=load_images(images, size=sc.size, source=cfg.images),
                init=init,
                nonlinearity=None,
                iterations=sc.iterations,
                lr=sc.lr,
                test_count=sc.test_count,
                extra={"filters": filters},
            )

        return run

    d2 = d2_network(sc.size, sc.d2_filters)
    yield "d1", row("d1", 2, d1_network(sc.size, sc.d1_filters), Init(), sc.d1_filters)
    for key, c in (("d2", 1.8e-3), ("d2-gain1", 1.0 / (GAIN_4X4 * sc.d2_filters))):
        yield key, row(key, 1, d2, Init("constant", float(f"{c:.6g}")), sc.d2_filters)


def _label(row: dict[str, Any]) -> str:
    """A legend label that flags a run that did not reach its loss target."""
    flag = (
        "" if row.get("reached", True) else f" (target not reached: loss {row.get('loss', 0):.2g})"
    )
    return f"{row['key']}{flag}"


def _spectra(cfg: RunConfig, rows: list[dict[str, Any]]) -> list[Path]:
    """The rows' spectra side by side."""
    from ._figures import spectrum_figure

    assert cfg.out is not None
    done = [r for r in rows if r.get("spectrum")]
    if not done:
        return []
    return [
        spectrum_figure(
            cfg.out,
            "downsampling-spectra.png",
            "Spectra of the end-to-end matrices (Figures 2-3)",
            [(_label(r), r["spectrum"]) for r in done],
            marks={_label(r): int(r["n_train"]) for r in done},
        )
    ]


EXPERIMENTS = [
    autoencoder_experiment(
        "downsampling",
        "Figures 2-3: downsampling nets D1 (to 1x1) and D2 (to 4x4, 29 layers)",
        _rows,
        notes=NOTES,
        title={
            "d1": "D1 (stride-2 to 1x1), 2 images: outputs and top eigenvectors",
            "d2": "D2 (to 4x4, 29 layers), 1 image, every weight 1.8e-3",
            "d2-gain1": "D2, every weight 1/(6.85 F): per-layer gain 1",
        },
        more_figures=_spectra,
        images_needed=2,
    )
]
