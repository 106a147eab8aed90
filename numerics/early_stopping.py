"""Section 6, Figure 7: memorization appears early in training.

Network D1 (:mod:`numerics.downsampling`), linear and with leaky ReLUs, stopped after 100
and 1000 iterations; :data:`NOTES` gives the setup and what is compared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ._autoencoder import autoencoder_experiment, autoencoder_row, scale
from ._experiment import RunConfig
from .downsampling import d1_network

__all__ = ["EXPERIMENTS", "NOTES", "checkpoints"]

NOTES = """\
Section 6, Figure 7: memorization appears early in training.

The paper trains network D1 (:mod:`numerics.downsampling`), linear and with a leaky ReLU
after every convolution, on two CIFAR-10 images and shows outputs after 100 and 1000
iterations: arbitrary inputs map to the *current* representation of the training images.
We train the same nets (same seed, so the shorter run is a prefix of the longer one) for
100 and 1000 iterations (quick: 30 and 300 on 8×8 images), and compare the outputs on test
inputs with the current reconstructions ``f_t(x_i)`` rather than with ``x_i``
(:mod:`numerics._metrics`; ``train_reconstruction`` says how far ``f_t(x_i)`` still is from
``x_i``). Linear rows also give the exact spectrum: memorization means two eigenvalues near
1 whose eigenvectors lie in the span of the training images."""


def checkpoints(cfg: RunConfig) -> tuple[int, int]:
    """The paper's 100 and 1000 iterations; 30 and 300 in quick runs."""
    return (30, 300) if cfg.quick else (100, 1000)


def _rows(cfg: RunConfig) -> Iterable[tuple[str, Callable[[], dict[str, Any]]]]:
    from ._data import load_images

    sc = scale(cfg)
    for nonlinearity in ("leaky_relu", None):
        for its in checkpoints(cfg):
            key = f"{'nonlinear' if nonlinearity else 'linear'}-{its}"

            def run(key: str = key, nl: str | None = nonlinearity, its: int = its) -> dict:
                x = load_images(2, size=sc.size, source=cfg.images)
                return autoencoder_row(
                    cfg,
                    name="early-stopping",
                    key=key,
                    net=d1_network(sc.size, sc.d1_filters),
                    train_x=x,
                    init="default",
                    nonlinearity=nl,
                    iterations=its,
                    lr=sc.lr,
                    test_count=sc.test_count,
                    compare_with_reconstructions=True,
                    extra={"filters": sc.d1_filters, "stopped_at": its},
                )

            yield key, run


def _title(row: dict[str, Any]) -> str:
    kind, its = row["key"].split("-")
    return f"Fig. 7: D1 {kind}, stopped after {its} iterations"


EXPERIMENTS = [
    autoencoder_experiment(
        "early-stopping",
        "Figure 7: D1 linear/nonlinear memorizes after 100 and 1000 iterations",
        _rows,
        notes=NOTES,
        title=_title,
        iterated=True,
        images_needed=2,
    )
]
