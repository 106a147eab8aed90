"""Section 6, Figure 8: popular initializations and how cleanly nonlinear nets memorize.

The paper takes network D2 (:mod:`numerics.downsampling`) with a leaky ReLU after every
convolution, initializes it with Xavier uniform / Xavier normal / Kaiming uniform / Kaiming
normal, trains it on one image, and reports the ℓ2 norm of the output for the training
example before training (0.0087, 0.0079, 9.67, 17.64: Xavier small, Kaiming large) and that
Kaiming-initialized nets memorize "noisily". We measure the same norm (``init_output_norm``,
beside the paper's ``paper_output_norm``), then after training the output metrics of
:mod:`numerics._metrics`: how far outputs on Gaussian / square / held-out inputs are from the
training image (``ray``, up to scale) and how much of them lies outside its span.
torch's Kaiming initializations use their defaults (``a = 0``, fan-in, leaky-ReLU gain for
slope 0). D2's filter count and the training rule are those of :mod:`numerics.downsampling`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ._experiment import Experiment, RunConfig
from .downsampling import autoencoder_row, d2_network, io_figure, scale

__all__ = ["EXPERIMENTS", "PAPER_OUTPUT_NORMS"]

#: Figure 8's output norms of the training example before training.
PAPER_OUTPUT_NORMS = {
    "xavier_uniform": 0.0087,
    "xavier_normal": 0.0079,
    "kaiming_uniform": 9.67,
    "kaiming_normal": 17.64,
}


def _rows(cfg: RunConfig) -> Iterable[tuple[str, Callable[[], dict[str, Any]]]]:
    from ._data import load_images

    sc = scale(cfg)
    for init, paper in PAPER_OUTPUT_NORMS.items():

        def run(init: str = init, paper: float = paper) -> dict[str, Any]:
            x = load_images(1, size=sc.size, source=cfg.images)
            return autoencoder_row(
                cfg,
                name="initialization",
                key=init.replace("_", "-"),
                net=d2_network(sc.size, sc.d2_filters),
                train_x=x,
                init=init,
                nonlinearity="leaky_relu",
                iterations=sc.iterations,
                lr=sc.lr,
                test_count=sc.test_count,
                extra={"filters": sc.d2_filters, "paper_output_norm": paper},
            )

        yield init.replace("_", "-"), run


def _figures(cfg: RunConfig, rows: list[dict[str, Any]]) -> list[Path]:
    paths = []
    for row in rows:
        title = (
            f"Fig. 8: D2 + leaky ReLU, {row['init']}: output norm before training "
            f"{row['init_output_norm']:.3g} (paper {row['paper_output_norm']})"
        )
        p = io_figure(cfg, "initialization", row, title)
        if p is not None:
            paths.append(p)
    return paths


EXPERIMENTS = [
    Experiment(
        name="initialization",
        summary="Figure 8: D2 + leaky ReLU under Xavier/Kaiming initializations",
        rows=_rows,
        figures=_figures,
        notes=(__doc__ or "").strip(),
    )
]
