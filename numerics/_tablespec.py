"""What a row of Tables 1-2 runs: its printed configuration (:class:`RowSpec`), the rows of
each experiment, and the row's plan (:class:`Plan`: network, initial weights, optimizer),
resolved once from the spec and the readings (:mod:`numerics._readings`).

The paper's setup (Section 3.2): linear conv autoencoders, kernel 3, padding 1, no bias,
gradient descent with learning rate 0.1 until the loss is below 1e-6, Adam with learning
rate 1e-4 when the depth exceeds 10, skip connections every 10 layers past 100 layers.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from paperdata import TABLE1, TABLE2, depth_for_params
from symconv import Conv2d, Network, Residual, conv_matrix, conv_stack

from ._fastlinear import fast_supported
from ._nets import Init
from ._readings import (
    FIG4_WEIGHT,
    READING,
    SKIP_INIT,
    TABLE1_INIT_SCALES,
    TABLE2_INIT_RADIUS,
    TABLE2_INIT_SCALES,
    axes_to_run,
)

__all__ = [
    "ADAM_ABOVE_DEPTH",
    "ADAM_LR",
    "GD_LR",
    "QUICK_TABLE1_INIT",
    "QUICK_WHY",
    "SKIP_EVERY",
    "TARGET_LOSS",
    "Plan",
    "RowSpec",
    "critical_constant",
    "plan",
    "skip_network",
    "table1_init_specs",
    "table1_specs",
    "table2_specs",
]

TARGET_LOSS = 1e-6
GD_LR = 0.1
ADAM_LR = 1e-4
ADAM_ABOVE_DEPTH = 10
SKIP_EVERY = 10
#: The quick Table 1 runs this init reading (unless ``--reading`` names one), not the
#: default gain0.3: its rows must train within the quick cap, and quick rows never decide.
QUICK_TABLE1_INIT = "gain1"
#: ... and why (measured with seed 0; the rows say so in their verdict).
QUICK_WHY = "within 1500 steps 10 of its 12 rows reach the loss target at gain1, 3 at gain0.3"


@lru_cache(maxsize=64)
def critical_constant(size: int, kernel: int = 3) -> float:
    """``1/ρ`` with ρ the spectral radius of one conv layer whose weights are all 1 on s×s
    images ('same' padding): the constant weight giving each layer spectral radius 1.
    For k = 3 it is ``1/(1 + 2cos(π/(s+1)))²``."""
    ones = np.ones((1, 1, kernel, kernel))
    m = conv_matrix(ones, (1, size, size), Conv2d(1, 1, kernel)).toarray()
    return 1.0 / float(max(abs(np.linalg.eigvals(m))))


@dataclass(frozen=True, kw_only=True)
class RowSpec:
    """One row: the printed configuration, what we run and the readings it runs."""

    table: int
    size: int
    train_examples: int
    layers: int  # as printed
    filters: int  # used
    params_printed: int
    filters_printed: int
    bound_printed: int | None = None  # Table 2's printed heuristic bound
    skip: bool = False
    cap: int = 100_000
    depth_reading: str = ""  # Table 1 "2 layers": "depth2" | "depth3" ("" = printed params)
    init_reading: str = ""  # "" = gain1 (Table 1) / radius1e-2 (Table 2)
    skip_design: str = ""  # starred rows: "" = identity-blocks
    loss_reading: str = ""  # "" = mean (the text's mean squared error); "half-sum" = Eq. (1)

    @property
    def readings(self) -> dict[str, str]:
        """The readings this row runs, by axis."""
        out: dict[str, str] = {}
        if self.depth_reading:
            out["depth"] = self.depth_reading
        if self.table == 1:
            out["init"] = self.init_reading or "gain1"
        elif self.skip:
            out["skip"] = self.skip_design or "identity-blocks"
        else:
            out["init"] = self.init_reading or "radius1e-2"
        if self.loss_reading:  # the default (mean) is left out: the rows' names stay
            out["loss"] = self.loss_reading
        return out

    @property
    def loss(self) -> str:
        """The loss normalization the row descends (``mean`` or ``half-sum``)."""
        return self.loss_reading or "mean"

    @property
    def reading(self) -> str:
        return "+".join(self.readings.values())

    @property
    def key(self) -> str:
        """The row's name, by what it runs (``L2-F4-d3-gain1``: 2 printed layers, 4 filters;
        ``-half-sum`` at the end for that loss reading)."""
        loss = f"-{self.loss_reading}" if self.loss_reading else ""
        if self.table == 1:
            d = {"depth2": "-d2", "depth3": "-d3"}.get(self.depth_reading, "")
            init = f"-{self.init_reading}" if self.init_reading else ""
            return f"L{self.layers}-F{self.filters}{d}{init}{loss}"
        last = f"-{self.skip_design}" if self.skip and self.skip_design else ""
        if not self.skip and self.init_reading:
            last = f"-{self.init_reading}"
        return f"s{self.size}-n{self.train_examples}-L{self.layers}{last}{loss}"


def _table1_rows(
    quick: bool, axes: dict[str, tuple[str, ...]], *, filters: tuple[int, ...], cap: int
) -> list[RowSpec]:
    out = []
    for init, loss in itertools.product(axes["init1"], axes["loss"]):
        for printed in TABLE1:
            if printed.filters not in filters:
                continue
            used = (
                {1: 1, 16: 4, 128: 16}.get(printed.filters, printed.filters)
                if quick
                else printed.filters
            )
            for depth in axes["depth"] if printed.layers_printed == 2 else ("",):
                out.append(RowSpec(
                    table=1, size=3, train_examples=2, layers=printed.layers_printed,
                    filters=used, params_printed=printed.params_printed,
                    filters_printed=printed.filters, cap=cap, depth_reading=depth,
                    init_reading=init, loss_reading="" if loss == "mean" else loss,
                ))  # fmt: skip
    return out


def table1_specs(quick: bool, selected: tuple[str, ...] = ()) -> list[RowSpec]:
    """Table 1's nine rows (the "2 layers" rows once per depth reading) at each selected
    init reading; quick: 1, 16, 128 filters → 1, 4, 16 (the rows are named by what they
    run: ``L2-F4``), at most 1500 GD steps, init :data:`QUICK_TABLE1_INIT` (the quick form
    is inconclusive by rule, so it only has to run)."""
    axes = axes_to_run("table1", selected)
    if quick and not any(READING[n].axis == "init1" for n in selected):
        axes["init1"] = (QUICK_TABLE1_INIT,)
    return _table1_rows(quick, axes, filters=(1, 16, 128), cap=1500 if quick else 100_000)


def table1_init_specs(quick: bool, selected: tuple[str, ...] = ()) -> list[RowSpec]:
    """Table 1's depths (2 or 3, 5, 8 conv layers) with 1 and 16 filters at every init
    reading side by side: does "no memorization" survive an init closer to zero?
    quick: 1 filter, gain1 and gain0.5, the printed depths, at most 5000 GD steps."""
    axes = axes_to_run("table1-init", selected)
    if quick and not selected:
        axes = {"depth": ("depth3",), "init1": ("gain1", "gain0.5"), "loss": ("mean",)}
    return _table1_rows(
        quick, axes, filters=(1,) if quick else (1, 16), cap=5000 if quick else 100_000
    )


def table2_specs(quick: bool, selected: tuple[str, ...] = ()) -> list[RowSpec]:
    """Table 2's nine rows: the rows without skips at each init reading, the starred rows
    at each skip design; quick: the rows with s ≤ 3 and 4×4 (no starred row), at most
    2500 steps."""
    axes = axes_to_run("table2", selected)
    picked = {READING[r].axis for r in selected} & {"skip", "init2"}
    out = []
    for size, n, bound, layers, _f, params, skip in TABLE2:
        if quick and (size > 4 or (size == 4 and n > 1)):
            continue
        if picked and ("skip" if skip else "init2") not in picked:
            continue  # --reading picked the other kind of row only
        kinds = axes["skip"] if skip else axes["init2"]
        for r, loss in itertools.product(kinds, axes["loss"]):
            out.append(RowSpec(
                table=2, size=size, train_examples=n, layers=layers, filters=1,
                params_printed=params, filters_printed=1, bound_printed=bound, skip=skip,
                cap=2500 if quick else 200_000, init_reading="" if skip else r,
                skip_design=r if skip else "", loss_reading="" if loss == "mean" else loss,
            ))  # fmt: skip
    return out


def skip_network(size: int, depth: int, design: str, every: int = SKIP_EVERY) -> Network:
    """A starred row's network of ``depth`` single-filter 3×3 conv layers, built with
    symconv's :class:`symconv.Network`:

    * ``identity-blocks``: every run of ``every`` layers in a skip block ``x + B(x)`` (the
      last block shorter; :func:`symconv.conv_stack` with ``skip_every``);
    * ``plain-ends``: a plain first and last layer around skip blocks of ``every``;
    * ``plain-tail``: skip blocks of ``every``, then the leftover ``depth mod every``
      layers (``every`` when ``every`` divides ``depth``) plain.
    """
    conv = Conv2d(1, 1, 3)

    def blocks(n: int) -> list[Any]:
        return [Residual((conv,) * min(every, n - i)) for i in range(0, n, every)]

    if design == "identity-blocks":
        return conv_stack(size, depth, skip_every=every)
    if design == "plain-ends":
        layers: list[Any] = [conv, *blocks(depth - 2), conv]
    elif design == "plain-tail":
        tail = depth % every or every
        layers = [*blocks(depth - tail), *([conv] * tail)]
    else:
        raise ValueError(f"design: unknown skip design (got {design!r})")
    return Network((1, size, size), tuple(layers))


@dataclass(frozen=True)
class Plan:
    """What a row runs, resolved once from its :class:`RowSpec` (see :func:`plan`)."""

    net: Network
    conv_layers: int
    derived: int | None  # conv layers derived from the printed parameters (None: not used)
    skip_every: int
    init: Init
    init_rule: str  # the init in words
    optimizer: str  # "sgd" | "adam"
    lr: float
    chain: bool  # a chain of single-filter convs: the numpy backend can train it
    loss: str = "mean"  # the loss normalization descended: "mean" | "half-sum"

    @property
    def optimizer_name(self) -> str:
        """As the rows record it: ``gd(lr=0.1)`` or ``adam(lr=0.0001)``."""
        return f"{'adam' if self.optimizer == 'adam' else 'gd'}(lr={self.lr:g})"


def _rounded(value: float) -> float:
    """``value`` to the 6 significant digits the rows record (and train with)."""
    return float(f"{value:.6g}")


def _init(spec: RowSpec) -> tuple[Init, str]:
    """(initial weights, the rule in words) of the row's init reading."""
    if spec.table == 1:
        reading = spec.init_reading or "gain1"
        if reading == "torch-default":
            return Init(), "PyTorch's default Conv2d init (kaiming_uniform, a = sqrt(5))"
        g = TABLE1_INIT_SCALES[reading]
        a = _rounded(g / math.sqrt(3 * spec.filters))
        return Init("uniform", a), f"uniform(-a, a), a = {g:g}/sqrt(3F)"
    c = critical_constant(spec.size)
    if spec.skip:
        rule = f"constant {SKIP_INIT:g} c* (skip connections)"
        return Init("constant", _rounded(SKIP_INIT * c)), rule
    reading = spec.init_reading or "radius1e-2"
    if reading == "radius1e-2":
        f = TABLE2_INIT_RADIUS ** (1 / _conv_layers(spec))
        rule = f"constant {f:.4g} c* = 10^(-2/L) c*: the initial map has spectral radius 1e-2"
        return Init("constant", _rounded(f * c)), rule
    if reading == "fig4":
        return Init("constant", FIG4_WEIGHT), f"constant {FIG4_WEIGHT:g} (Figure 4)"
    if reading == "random":
        return Init("normal", _rounded(c)), "normal(0, c*): random signs, weight size c*"
    f = TABLE2_INIT_SCALES[reading]
    if f == 1.0:
        return Init("constant", _rounded(c)), "constant c*: each layer has spectral radius 1"
    return Init("constant", _rounded(f * c)), f"constant {f:g} c*"


def _conv_layers(spec: RowSpec) -> int:
    """The conv layers the row runs: from the printed parameters where they determine them,
    2 for the ``depth2`` reading, else the printed layer count."""
    if spec.depth_reading == "depth2":
        return 2
    derived = depth_for_params(spec.params_printed, spec.filters_printed)
    return derived if derived is not None else spec.layers


def plan(spec: RowSpec) -> Plan:
    """The row's network (conv layers from the printed parameters where they determine
    them, 2 for the ``depth2`` reading; skip blocks for the starred rows), its initial
    weights and its optimizer (GD lr 0.1, Adam lr 1e-4 above 10 layers)."""
    conv_layers = _conv_layers(spec)
    derived = (
        None
        if spec.depth_reading == "depth2"
        else depth_for_params(spec.params_printed, spec.filters_printed)
    )
    every = SKIP_EVERY if spec.skip else 0
    if spec.skip:
        net = skip_network(spec.size, conv_layers, spec.skip_design or "identity-blocks")
    else:
        net = conv_stack(spec.size, conv_layers, filters=spec.filters)
    init, rule = _init(spec)
    adam = conv_layers > ADAM_ABOVE_DEPTH
    return Plan(
        net=net, conv_layers=conv_layers, derived=derived, skip_every=every, init=init,
        init_rule=rule, optimizer="adam" if adam else "sgd", lr=ADAM_LR if adam else GD_LR,
        chain=spec.table == 2 and fast_supported(net), loss=spec.loss,
    )  # fmt: skip
