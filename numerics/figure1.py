"""Figure 1: a U-Net autoencoder trained on one image maps any input to that image.

The paper's headline picture: "U-Net Autoencoder trained on a single image from CIFAR10 for
2000 iterations. When fed random sized white squares, a standard Gaussian, or new images
from CIFAR10 the model outputs the training image." :data:`NOTES` gives the setup, the
readings (:data:`AXES`) the details the paper leaves open, :data:`VERDICT_RULE` the rule.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._experiment import Experiment, ExperimentError, RunConfig
from ._figure1_figure import figures
from ._figure1_verdict import (
    SETS,
    VERDICT_RULE,
    row_verdict,
    seed_outcome,
    seed_summary,
    set_medians,
)
from ._metrics import DID_NOT_TRAIN, LAND_TOL, LANDING_RULE, MIN_NORM, VANISHED
from ._verdicts import combine

if TYPE_CHECKING:
    import torch

__all__ = [
    "AXES",
    "DEFAULTS",
    "EXPERIMENTS",
    "FULL",
    "NOTES",
    "PAPER_WORDS",
    "QUICK",
    "SETS",
    "VERDICT_RULE",
    "Form",
    "experiment_verdict",
    "row_verdict",
    "seed_outcome",
]

#: The paper's training length.
ITERATIONS = 2000


@dataclass(frozen=True)
class Form:
    """The sizes of one form: image side, probe inputs per set, iterations, seeds default."""

    size: int
    test_count: int
    iterations: int
    width_cap: int | None  # the quick form caps the U-Net's base width


#: The quick form: 16×16 images, base width at most 8, 600 iterations (seconds).
QUICK = Form(size=16, test_count=8, iterations=600, width_cap=8)
#: The full form: the bundled images' 32×32, the paper's 2000 iterations.
FULL = Form(size=32, test_count=64, iterations=ITERATIONS, width_cap=None)

#: The readings: axis -> name -> (value, description). The paper names "a U-Net
#: (Ronneberger et al., 2015)" and 2000 iterations, nothing more.
AXES: dict[str, dict[str, tuple[Any, str]]] = {
    "width": {
        "width16": (16, "base width 16, doubled per level (16..256): fits the 2-core CPU"),
        "width32": (32, "base width 32 (32..512)"),
        "width64": (64, "base width 64, doubled to 1024 (Ronneberger et al.'s U-Net)"),
    },
    "depth": {
        "depth4": (4, "4 max-pool levels (Ronneberger et al.): 32x32 -> 2x2 bottleneck"),
        "depth3": (3, "3 max-pool levels: 32x32 -> 4x4 bottleneck"),
        "depth2": (2, "2 max-pool levels: 32x32 -> 8x8 bottleneck"),
    },
    "nonlinearity": {
        "relu": ("relu", "ReLU after every 3x3 convolution (Ronneberger et al.)"),
        "leaky-relu": ("leaky_relu", "leaky ReLU, slope 0.01 (the toolkit's Section 5 value)"),
    },
    "upsample": {
        "up-conv": ("up-conv", "2x2 transposed convolution halving the channels (Ronneberger)"),
        "nearest": ("nearest", "nearest-neighbour x2, then a 3x3 convolution"),
    },
    "optimizer": {
        "adam1e-4": (1e-4, "Adam, rate 1e-4 (the paper's optimizer for its deep networks)"),
        "adam1e-3": (1e-3, "Adam, rate 1e-3 (torch's default rate)"),
    },
    "init": {
        "torch-default": ("torch-default", "PyTorch's default: kaiming_uniform(a=sqrt 5)"),
        "he-normal": ("he-normal", "normal(0, sqrt(2/fan_in)), zero biases (Ronneberger)"),
    },
}
#: The reading each axis runs by default.
DEFAULTS = {
    "width": "width16",
    "depth": "depth4",
    "nonlinearity": "relu",
    "upsample": "up-conv",
    "optimizer": "adam1e-4",
    "init": "torch-default",
}
#: The reading closest to the paper's words (through its citation of Ronneberger et al.).
PAPER_WORDS = {
    "width": "width64",
    "depth": "depth4",
    "nonlinearity": "relu",
    "upsample": "up-conv",
    "optimizer": "adam1e-4",
    "init": "he-normal",
}
_AXIS_OF = {name: axis for axis, names in AXES.items() for name in names}

NOTES = f"""\
Figure 1: a U-Net autoencoder trained on one image outputs that image for any input.

Your own U-Net can be asked the same questions: ``verify masks --model FILE.pt2`` gives the
exact set of input pixels each output pixel of a model saved with ``torch.export.save``
can depend on (which pixels it cannot read, whatever the weights), and ``verify probe
--model FILE.pt2 --train FOLDER`` measures whether the trained map sends Gaussian,
white-square and held-out inputs onto a training image, and whether each training image is
an attractor (README, "Your own network"; ``docs/your-own-network.md``).

The paper trains "a U-Net architecture (Ronneberger et al., 2015)" on one CIFAR-10 image
(a dog; a car) for 2000 iterations and feeds it random-sized white squares, standard
Gaussian images and new CIFAR-10 images: the outputs are the training image. It gives no
width, depth, optimizer, rate or initialization; each is a named reading (``--reading
list``; the row records its readings). The default: base width 16 doubling per level
(Ronneberger's 64..1024 costs 16x more, minutes per seed on a 2-core CPU), 4 max-pool
levels, ReLU, 2x2 up-convolutions, padded 3x3 convolutions with biases, a 1x1 output
convolution; Adam at 1e-4 (the paper's rate for deep nets) on the mean squared error for
exactly 2000 iterations (no loss target: the paper gives none); PyTorch's default
initialization. Training images: from the bundled photographs the cat (for the dog) and the
motorcycle (for the car); from a CIFAR-10 batch the first dog and the first automobile; from
a folder its first two images. Held-out inputs: the other images of the set. Full form:
32x32, 64 inputs per set, 3 seeds (a seed fixes the initial weights and the squares and
Gaussian inputs); quick: 16x16, base width 8, 600 iterations, 8 inputs, seed 0.

Each seed records where it starts (``start``: the loss and the output norm of the training
image at step 0) and, per set, the fraction of outputs that land on the training image
(``landed``), the median distance of the outputs to it (``nearest_median``, relative to
its norm) and to their own inputs (``input_median``: an identity map gives 0 there), and
the median output norm. A seed that did not train shows "{DID_NOT_TRAIN}", a set of
outputs below {MIN_NORM:.0%} of the image's norm "{VANISHED}"; neither counts as landed.
Verdict rule: {VERDICT_RULE}"""


def _form(cfg: RunConfig) -> Form:
    return QUICK if cfg.quick else FULL


def _selected(cfg: RunConfig) -> dict[str, tuple[str, ...]]:
    """Readings to run per axis: the defaults, replaced on each axis ``--reading`` names."""
    chosen: dict[str, tuple[str, ...]] = {a: (d,) for a, d in DEFAULTS.items()}
    for name in cfg.reading:
        if name not in _AXIS_OF:
            raise ExperimentError("--reading", name, f"not a reading of figure1: {list(_AXIS_OF)}")
    for axis in AXES:
        mine = tuple(n for n in cfg.reading if _AXIS_OF[n] == axis)
        if mine:
            chosen[axis] = mine
    return chosen


def readings() -> list[tuple[str, str, bool]]:
    """``(name, description, runs by default)`` of every reading, the paper's words marked."""
    out = []
    for axis, names in AXES.items():
        for name, (_, text) in names.items():
            tag = " [the paper's words]" if PAPER_WORDS[axis] == name else ""
            out.append((name, text + tag, DEFAULTS[axis] == name))
    return out


def _train_images(cfg: RunConfig) -> tuple[tuple[int, str], ...]:
    """(index in the image set, name) of Figure 1's two training images for this source."""
    if cfg.images is None:
        return ((0, "cat"), (2, "motorcycle"))
    if Path(cfg.images).is_file():  # a CIFAR-10 batch: one image per class first
        return ((5, "dog"), (1, "automobile"))
    return ((0, "image0"), (1, "image1"))


def _probes(cfg: RunConfig, seed: int, index: int) -> dict[str, torch.Tensor]:
    """White squares and Gaussian images (seeded), held-out images (all but ``index``)."""
    from ._data import gaussian_images, load_images, square_images

    f = _form(cfg)
    sets = {
        "squares": square_images(f.test_count, size=f.size, channels=3, seed=seed + 2),
        "gaussian": gaussian_images(f.test_count, size=f.size, channels=3, seed=seed + 1),
    }
    try:
        pool = load_images(f.test_count + 3, size=f.size, source=cfg.images)
    except ExperimentError:  # a folder with few images: as many as it has
        from ._data import check_images

        pool = load_images(check_images(cfg.images or ""), size=f.size, source=cfg.images)
    keep = [i for i in range(len(pool)) if i != index][: f.test_count]
    if keep:
        sets["held_out"] = pool[keep]
    return sets


def _set_metrics(
    out: torch.Tensor, inputs: torch.Tensor, x: torch.Tensor, did_train: bool
) -> dict[str, Any]:
    from ._metrics import honest_landing, output_metrics

    m = output_metrics(out, x)
    y, z = (t.detach().double().reshape(len(t), -1) for t in (out, inputs))
    zn = z.norm(dim=1).clamp_min(1e-12)
    m["input_median"] = float(((y - z).norm(dim=1) / zn).median())
    return honest_landing(m, did_train=did_train)


def _value(readings_: dict[str, str], axis: str) -> Any:
    return AXES[axis][readings_[axis]][0]


def _model(cfg: RunConfig, readings_: dict[str, str], seed: int) -> torch.nn.Module:
    import torch

    from ._unet import build_unet, init_unet

    width = _value(readings_, "width")
    cap = _form(cfg).width_cap
    torch.manual_seed(seed)
    model = build_unet(
        width=min(width, cap) if cap else width,
        depth=_value(readings_, "depth"),
        nonlinearity=_value(readings_, "nonlinearity"),
        upsample=_value(readings_, "upsample"),
    )
    init_unet(model, _value(readings_, "init"), seed=seed)
    return model.to(cfg.device)


def _mse(model: torch.nn.Module, x: torch.Tensor) -> float:
    import torch

    with torch.no_grad():
        return float(torch.mean((model(x) - x) ** 2))


def _train_seed(
    cfg: RunConfig, readings_: dict[str, str], index: int, seed: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One seed: build the U-Net, record where it starts, train exactly ``iterations`` Adam
    steps on the mean squared error, measure every probe set. Returns the ``per_seed``
    entry and the images the figure draws."""
    import torch

    from ._data import load_images

    f = _form(cfg)
    x = load_images(index + 1, size=f.size, source=cfg.images)[index : index + 1].to(cfg.device)
    model = _model(cfg, readings_, seed)
    with torch.no_grad():
        start = {"loss": _mse(model, x), "output_norm": float(model(x).norm())}
    start["train_norm"] = float(x.norm())
    opt = torch.optim.Adam(model.parameters(), lr=_value(readings_, "optimizer"))
    t0 = time.perf_counter()
    for _ in range(f.iterations):
        opt.zero_grad()
        loss = torch.mean((model(x) - x) ** 2)
        loss.backward()
        opt.step()
    secs = time.perf_counter() - t0
    model.eval()
    with torch.no_grad():
        recon = model(x)
        fit = float((recon - x).norm() / x.norm())
        did_train = bool(np.isfinite(fit) and fit <= LAND_TOL)
        sets = _probes(cfg, seed, index)
        outs = {s: model(z.to(cfg.device)) for s, z in sets.items()}
    per: dict[str, Any] = {
        "seed": seed,
        "start": start,
        "loss": _mse(model, x),
        "iterations": f.iterations,
        "seconds": secs,
        "fit": fit,
        "trained": did_train,
        "reached": did_train,  # the fit criterion stands in for a loss target (none given)
        "sets": {s: _set_metrics(outs[s], sets[s].to(cfg.device), x, did_train) for s in sets},
    }
    per["outcome"] = seed_outcome(per)
    arrays = {"train": x, "recon": recon}
    for s in sets:
        arrays[f"in_{s}"], arrays[f"out_{s}"] = sets[s][:4], outs[s][:4]
    return per, arrays


def _label(readings_: dict[str, str]) -> str:
    """The reading's name: the non-default readings joined by '+', or 'default'."""
    names = [n for a, n in readings_.items() if DEFAULTS[a] != n]
    return "+".join(names) or "default"


def _row(
    cfg: RunConfig, readings_: dict[str, str], index: int, image: str, key: str,
    previous: dict[str, Any] | None,
) -> dict[str, Any]:  # fmt: skip
    """One training image under one reading, over the seeds ``cfg.seeds``; finished seeds of
    ``previous`` (same readings and form) are reused."""
    from ._figures import save_arrays
    from ._nets import single_thread

    t0 = time.perf_counter()
    same = previous is not None and previous.get("readings") == readings_
    old = {p["seed"]: p for p in (previous or {}).get("per_seed", [])} if same else {}
    per, arrays = [], None
    with single_thread(cfg.device == "cpu"):  # tiny convolutions: one thread is faster
        for seed in cfg.seeds:
            if seed in old:
                per.append(old[seed])
                continue
            p, arr = _train_seed(cfg, readings_, index, seed)
            per.append(p)
            if seed == cfg.seeds[0]:
                arrays = arr
    verdict = row_verdict(per, cfg.quick)
    f = _form(cfg)
    row: dict[str, Any] = {
        "image": image,
        "image_index": index,
        "reading": _label(readings_),
        "readings": dict(readings_),
        "size": f.size,
        "width": min(_value(readings_, "width"), f.width_cap or 10**9),
        "depth": _value(readings_, "depth"),
        "conv_layers": 5 * _value(readings_, "depth") + 3,  # 3x3 and 1x1 convs, up-convs
        "filters": min(_value(readings_, "width"), f.width_cap or 10**9),
        "iterations": f.iterations,
        "test_count": f.test_count,
        "quick": cfg.quick,
        "seeds": list(cfg.seeds),
        "summary": seed_summary(per),
        "metrics": set_medians(per),  # per set, medians over seeds (the report's table)
        "per_seed": per,
        "outcome": verdict["outcome"],
        "verdict": verdict["verdict"],
        "verdict_reason": verdict["why"],
        "verdict_sets": verdict["sets"],
        "train_seconds": sum(p["seconds"] for p in per),  # the seeds' training, reused or not
        "seconds": time.perf_counter() - t0,
    }
    if arrays is not None:
        row["arrays"] = save_arrays(cfg.out, "figure1", key, **arrays)
        row["figure_seed"] = cfg.seeds[0]
    elif same and previous is not None and previous.get("figure_seed") == cfg.seeds[0]:
        row["arrays"], row["figure_seed"] = previous.get("arrays"), cfg.seeds[0]
    return row


def _rows(cfg: RunConfig) -> Iterator[tuple[str, Callable[..., dict[str, Any]]]]:
    chosen = _selected(cfg)
    combos = [dict(zip(AXES, names, strict=True)) for names in itertools.product(*chosen.values())]
    for readings_ in combos:
        label = _label(readings_)
        for index, image in _train_images(cfg):
            key = image if label == "default" else f"{image}+{label}"

            def run(
                r: dict[str, str] = readings_, i: int = index, im: str = image, k: str = key
            ) -> dict[str, Any]:
                # the stored row of this key (--resume) lends its finished seeds
                return _row(cfg, r, i, im, k, cfg.previous.get(k))

            yield key, run


def experiment_verdict(cfg: RunConfig, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The readings' verdicts (each: its rows combined) and their common verdict."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r.get("reading", "default"), []).append(r)
    per_reading = {
        label: {
            "verdict": combine([r["verdict"] for r in group]),
            "claims": {
                "outputs the training image": {
                    "verdict": combine([r["verdict"] for r in group]),
                    "why": "; ".join(f"{r['key']}: {r['verdict']} ({r['outcome']})" for r in group),
                }
            },
            "seeds": sorted({s for r in group for s in r.get("seeds", [])}),
        }
        for label, group in groups.items()
    }
    found = {v["verdict"] for v in per_reading.values()}
    return {
        "verdict": found.pop() if len(found) == 1 else "inconclusive",
        "quick": cfg.quick,
        "readings": per_reading,
        "rule": VERDICT_RULE,
        "landing_rule": LANDING_RULE,
        "paper_words": dict(PAPER_WORDS),
    }


EXPERIMENTS = [
    Experiment(
        name="figure1",
        summary="Figure 1: a U-Net trained on one image maps squares, noise and new images to it",
        rows=_rows,
        figures=figures,
        notes=NOTES,
        ensembles=True,
        default_seeds=3,
        readings=readings,
        verdict=experiment_verdict,
        images_needed=2,
    )
]
