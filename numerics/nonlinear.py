"""Section 5, Figures 4-6: strong memorization in nonlinear convolutional autoencoders.

Tiny leaky-ReLU nets (Figures 4-5) and network D1 with and without leaky ReLUs (Figure 6);
:data:`NOTES` gives the setup and our choices where the paper is silent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from symconv import Conv2d, Network, Residual

from ._autoencoder import autoencoder_experiment, autoencoder_row, scale
from ._experiment import RunConfig
from ._nets import Init
from .downsampling import d1_network

if TYPE_CHECKING:
    import torch

__all__ = ["EXPERIMENTS", "NOTES", "fig4_network", "fig5_network", "white_square"]

NOTES = """\
Section 5, Figures 4-6: strong memorization in nonlinear convolutional autoencoders.

* **Figure 4** (row ``fig4``): 29 layers, one 3×3 filter each, padding 1, stride 1, a leaky
  ReLU after every layer, every parameter 0.1, one 4×4 training image: "a white square in the
  upper left hand corner". The paper does not give the square's side; we use 2 (a quarter of
  the image). Test inputs: standard Gaussian 4×4 images, random squares.
* **Figure 5** (row ``fig5``): 5 layers, one 3×3 filter each, leaky ReLU after every layer,
  Xavier uniform initialization, skip connections "between every 2 layers": we wrap layers
  1-2 and 3-4 in ``x + body(x)`` and leave layer 5 plain. Training images: the two orthogonal
  2×2 images with one white pixel in the upper-left / lower-right corner.
* **Figure 6** (rows ``fig6-nonlinear``, ``fig6-linear``): network D1 (see
  :mod:`numerics.downsampling`) with and without a leaky ReLU after every convolution,
  trained on 10 images (the first 10 of the image set; from a CIFAR-10 batch, one per class).

Leaky ReLU slope 0.01 (torch's default; the paper does not say). Training: Adam on the mean
squared error until the loss is below 10⁻⁶ or the iteration budget is spent (rates in the
rows). "Visual inspection" is replaced by :mod:`numerics._metrics`: distance of outputs to
the nearest training image vs to their span, the fraction landing within 10 % of one
training image, and whether iterating the map ends on a training image. The spectrum of a
nonlinear row is that of the Jacobian at training image 0 (``spectrum_kind``)."""


def fig4_network(size: int = 4, depth: int = 29) -> Network:
    """``depth`` single-filter 3×3 layers (padding 1, stride 1) on 1×size×size images."""
    return Network((1, size, size), tuple(Conv2d(1, 1, 3) for _ in range(depth)))


def fig5_network(size: int = 2) -> Network:
    """5 single-filter 3×3 layers with skip connections around layers 1-2 and 3-4."""
    c = Conv2d(1, 1, 3)
    return Network((1, size, size), (Residual((c, c)), Residual((c, c)), c))


def white_square(size: int = 4, side: int = 2) -> torch.Tensor:
    """One 1×size×size image, white ``side × side`` square in the upper-left corner."""
    import torch

    x = torch.zeros((1, 1, size, size))
    x[0, 0, :side, :side] = 1.0
    return x


def _rows(cfg: RunConfig) -> Iterable[tuple[str, Callable[[], dict[str, Any]]]]:
    from ._data import load_images, orthogonal_squares

    sc = scale(cfg)
    # Figures 4-5: the tiny leaky-ReLU nets, probed with Gaussian images and squares only
    tiny = partial(
        autoencoder_row, cfg, name="nonlinear", nonlinearity="leaky_relu",
        iterations=sc.small_iterations, test_count=2 * sc.test_count if cfg.quick else 256,
        held_out=False,
    )  # fmt: skip

    def fig4() -> dict[str, Any]:
        net, x = fig4_network(4, 29), white_square(4, 2)
        return tiny(key="fig4", net=net, train_x=x, init=Init("constant", 0.1), lr=1e-3)

    def fig5() -> dict[str, Any]:
        net, x = fig5_network(2), orthogonal_squares(2)
        return tiny(key="fig5", net=net, train_x=x, init="xavier_uniform", lr=1e-2)

    def fig6(nonlinearity: str | None) -> Callable[[], dict[str, Any]]:
        def run() -> dict[str, Any]:
            x = load_images(10, size=sc.size, source=cfg.images)
            return autoencoder_row(
                cfg,
                name="nonlinear",
                key="fig6-" + ("nonlinear" if nonlinearity else "linear"),
                net=d1_network(sc.size, sc.d1_filters),
                train_x=x,
                init="default",
                nonlinearity=nonlinearity,
                iterations=sc.iterations * (5 if cfg.quick else 1),
                lr=sc.lr,
                test_count=sc.test_count,
                extra={"filters": sc.d1_filters},
            )

        return run

    yield "fig4", fig4
    yield "fig5", fig5
    yield "fig6-nonlinear", fig6("leaky_relu")
    yield "fig6-linear", fig6(None)


_TITLES = {
    "fig4": "Fig. 4: 29 single-filter leaky-ReLU layers, 4x4, weights 0.1",
    "fig5": "Fig. 5: 5 leaky-ReLU layers with skips, 2x2, two orthogonal images",
    "fig6-nonlinear": "Fig. 6a: D1 with leaky ReLU, 10 images",
    "fig6-linear": "Fig. 6b: D1 linear, 10 images",
}


EXPERIMENTS = [
    autoencoder_experiment(
        "nonlinear",
        "Figures 4-6: leaky-ReLU nets output individual training images",
        _rows,
        notes=NOTES,
        title=_TITLES,
        iterated=True,
        images_needed=10,
    )
]
