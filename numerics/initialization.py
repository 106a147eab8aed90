"""Section 6, Figure 8: popular initializations and how cleanly nonlinear nets memorize.

Network D2 with leaky ReLUs under Xavier and Kaiming initializations, and the named readings
of what the paper leaves open (:data:`READINGS`); :data:`NOTES` gives the setup and why no
reading reproduces the paper's output norms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._autoencoder import autoencoder_experiment, autoencoder_row, scale
from ._experiment import ExperimentError, RunConfig
from .downsampling import d2_network

if TYPE_CHECKING:
    import torch

__all__ = [
    "DEFAULT_READING",
    "EXPERIMENTS",
    "NOTES",
    "PAPER_OUTPUT_NORMS",
    "READINGS",
    "Reading",
    "init_output_norms",
]

NOTES = """\
Section 6, Figure 8: popular initializations and how cleanly nonlinear nets memorize.

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

**Readings** (:data:`READINGS`, the name is in each row as ``reading``): the paper does not
give D2's filter count, the input scale or any normalization. A reading fixes the filters
(1, 16, 64 or 128), the depth at 4×4 (29 as the text says), and the input: ``unit`` images in
[0, 1], ``255`` (the same ×255), ``cifar`` (per-channel CIFAR-10 mean/std normalization).
The default is ``d2-f64`` (64 filters, [0, 1]). No reading reproduces all four of the
paper's norms (``python benchmarks/fig8_readings.py``, docs/results/fig8-readings.md): the
net has no biases and leaky ReLU is positively homogeneous, so the Kaiming/Xavier norm ratio
is the product of the layers' init scale ratios, ``√((fan_in + fan_out)/fan_in)``, ≥ √2 for
each of the 31 square 3×3 layers: ≥ 4.6e4 for every filter count and input (ours: 1.1e5 to
2.2e5), against the paper's 9.67/0.0087 = 1.1e3, the ratio of about 14 such layers."""

#: CIFAR-10's per-channel mean and standard deviation (the usual normalization constants).
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)


@dataclass(frozen=True)
class Reading:
    """One reading of Figure 8's unstated details: D2's filters per layer (``None``: the
    run's form, 64 full / 4 quick), its 3×3 layers at 4×4, and the input scale."""

    filters: int | None = None
    depth: int = 29
    input: str = "unit"  # "unit" [0, 1], "255" [0, 255], "cifar" (x − mean)/std

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """The training images ``(n, 3, s, s)`` in [0, 1] as this reading feeds them."""
        if self.input == "unit":
            return x
        if self.input == "255":
            return x * 255.0
        mean = x.new_tensor(CIFAR_MEAN).reshape(1, 3, 1, 1)
        std = x.new_tensor(CIFAR_STD).reshape(1, 3, 1, 1)
        return (x - mean) / std


#: The named readings; ``d2-f64`` is the default (unchanged: no reading matches the paper).
READINGS: dict[str, Reading] = {
    "d2-f64": Reading(),
    "d2-f1": Reading(filters=1),
    "d2-f16": Reading(filters=16),
    "d2-f128": Reading(filters=128),
    "d2-f64-255": Reading(input="255"),
    "d2-f64-cifar": Reading(input="cifar"),
    "d2-f16-255": Reading(filters=16, input="255"),
    "d2-f64-depth14": Reading(depth=14),  # the depth whose Kaiming/Xavier ratio fits
    "d2-f64-depth14-255": Reading(depth=14, input="255"),
}
DEFAULT_READING = "d2-f64"


def _describe(reading: Reading) -> str:
    filters = f"{reading.filters} filter(s)" if reading.filters else "64 filters (4 quick)"
    scale = {"unit": "inputs in [0, 1]", "255": "inputs in [0, 255]"}.get(
        reading.input, "CIFAR-10 mean/std normalization"
    )
    return f"D2 with {filters}, {reading.depth} layers at 4x4, {scale}"


def readings() -> list[tuple[str, str, bool]]:
    """The named readings as ``(name, description, runs by default)``."""
    return [(n, _describe(r), n == DEFAULT_READING) for n, r in READINGS.items()]


def _reading(cfg: RunConfig) -> tuple[str, Reading]:
    chosen = tuple(getattr(cfg, "reading", ()) or ())
    if len(chosen) > 1:
        raise ExperimentError("--reading", ",".join(chosen), "initialization runs one reading")
    name = chosen[0] if chosen else DEFAULT_READING
    if name not in READINGS:
        raise ExperimentError("--reading", name, f"must be one of {', '.join(READINGS)}")
    return name, READINGS[name]


def init_output_norms(
    reading: Reading,
    seeds: Sequence[int] = (0,),
    *,
    size: int = 32,
    filters: int = 64,
    images: Any = None,
) -> dict[str, list[float]]:
    """Figure 8's measurement without training: ‖f(x)‖₂ of D2 + leaky ReLU (slope 0.01)
    on the first bundled training image (or ``images[:1]``, ``(n, 3, size, size)`` in
    [0, 1]) as the reading feeds it, at each of the four initializations and each seed;
    float64, forward passes only."""
    import torch

    from ._data import load_images
    from ._nets import build_model, single_thread

    raw = load_images(1, size=size) if images is None else images[:1]
    x = reading.transform(raw.double())
    net = d2_network(size, reading.filters or filters, depth=reading.depth)
    out: dict[str, list[float]] = {init: [] for init in PAPER_OUTPUT_NORMS}
    with single_thread(), torch.no_grad():
        for init in PAPER_OUTPUT_NORMS:
            for seed in seeds:
                model = build_model(
                    net, init=init, nonlinearity="leaky_relu", seed=seed, dtype=torch.float64
                )
                out[init].append(float(model(x).norm()))
    return out


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
    name, reading = _reading(cfg)
    filters = reading.filters or sc.d2_filters
    for init, paper in PAPER_OUTPUT_NORMS.items():

        def run(init: str = init, paper: float = paper) -> dict[str, Any]:
            x = reading.transform(load_images(1, size=sc.size, source=cfg.images))
            return autoencoder_row(
                cfg,
                name="initialization",
                key=init.replace("_", "-"),
                net=d2_network(sc.size, filters, depth=reading.depth),
                train_x=x,
                init=init,
                nonlinearity="leaky_relu",
                iterations=sc.iterations,
                lr=sc.lr,
                test_count=sc.test_count,
                extra={
                    "filters": filters,
                    "paper_output_norm": paper,
                    "reading": name,
                    "input_scale": reading.input,
                },
            )

        yield init.replace("_", "-"), run


def _title(row: dict[str, Any]) -> str:
    return (
        f"Fig. 8: D2 + leaky ReLU, {row['init']}: output norm before training "
        f"{row['init_output_norm']:.3g} (paper {row['paper_output_norm']})"
    )


EXPERIMENTS = [
    autoencoder_experiment(
        "initialization",
        "Figure 8: D2 + leaky ReLU under Xavier/Kaiming initializations",
        _rows,
        notes=NOTES,
        title=_title,
        readings=readings,
        images_needed=1,
    )
]
