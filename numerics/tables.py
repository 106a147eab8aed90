"""Tables 1 and 2 of the paper: the spectra of trained deep linear conv autoencoders.

The three experiments (``table1``, ``table2``, ``table1-init``): which rows they run
(:class:`numerics._tablespec.RowSpec`, one per row and reading), each row a call of
:func:`numerics._tablerun.run_ensemble` (plan, train all seeds together with the one
trainer, measure, the typed row :class:`numerics._tablerow.TableRow` and its verdict),
their figures and their verdicts (:mod:`numerics._verdicts`). :data:`NOTES` gives
the paper's setup and our choices (the report prints it); the named readings of what the
paper leaves open are in :mod:`numerics._readings`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from ._experiment import Experiment, Row, RunConfig
from ._figures import ensemble_spectra_figure
from ._readings import READINGS, Reading, readings_for
from ._tablerow import TableRow
from ._tablerun import run_ensemble, run_row
from ._tablespec import (
    ADAM_ABOVE_DEPTH,
    ADAM_LR,
    GD_LR,
    QUICK_TABLE1_INIT,
    TARGET_LOSS,
    RowSpec,
    critical_constant,
    plan,
    skip_network,
    table1_init_specs,
    table1_specs,
    table2_specs,
)
from ._verdicts import (
    VERDICT_RULE,
    combine,
    experiment_verdict,
    memorized,
    row_verdict,
    seed_summary,
)

__all__ = [
    "ADAM_ABOVE_DEPTH",
    "ADAM_LR",
    "EXPERIMENTS",
    "GD_LR",
    "NOTES",
    "QUICK_TABLE1_INIT",
    "READINGS",
    "TARGET_LOSS",
    "VERDICT_RULE",
    "Reading",
    "RowSpec",
    "TableRow",
    "combine",
    "critical_constant",
    "experiment_verdict",
    "memorized",
    "plan",
    "readings_for",
    "row_cost",
    "row_verdict",
    "run_ensemble",
    "run_row",
    "seed_summary",
    "skip_network",
    "table1_experiment",
    "table1_init_experiment",
    "table1_init_specs",
    "table1_specs",
    "table2_experiment",
    "table2_specs",
]

NOTES = """\
Tables 1 and 2 of the paper: the spectra of trained deep linear conv autoencoders.

**The paper's setup (Section 3.2).** Linear convolutional autoencoders, kernel 3, padding 1,
stride 1, no bias, trained on standard-normal images by gradient descent with learning rate
0.1 until the loss is below 1e-6; Adam with learning rate 1e-4 when the depth exceeds 10;
skip connections every 10 layers for nets over 100 layers (Table 2's asterisks). The
network memorizes when the spectrum of its end-to-end matrix is ``(1, …, 1, 0, …)``: one
eigenvalue 1 per training image and the rest ≈ 0.

* Table 1: 2 images of size 3×3; 2, 5, 8 layers × 1, 16, 128 filters, initialized "close to
  zero". The paper expects no memorization (Theorem 4: at least s − 1 = 2 layers, but that
  bound is not sufficient).
* Table 2: one filter per layer with the heuristic ⌈s⁴/9⌉ layers (as many weights as a
  fully connected layer has), initialized "as close to zero as possible"; the paper expects
  memorization.

**Where the paper is silent: named readings, run side by side** (``verify experiment
readings`` lists them; ``--reading NAME`` runs one; every row records ``reading``):

* Table 1's "2 layers" (axis ``depth``): the text says these rows test Theorem 4's bound
  s − 1 = 2 (``depth2``); the printed parameter counts are those of 3 conv layers
  (27 = 3·9; 2592 = 9·16 + 16·16·9 + 16·9: ``depth3``). Both run by default. Other layer
  counts come from the printed parameters (``conv_stack(s, L, filters=F).n_params ==
  params``): Table 2's 7×7 row with 5 images prints 350 layers but 3105 = 345·9 parameters,
  so it has 345; its printed heuristic bound 144 disagrees with ⌈7⁴/9⌉ = 267 (both kept).
* Table 1's init (axis ``init1``): "close to zero" has no scale. ``gain1`` is uniform(±a),
  a = 1/√(3F) (weight variance 1/(9F): each layer's gain ≈ 1, an O(1) initial map);
  ``gain0.5``, ``gain0.3``, ``gain0.2`` scale it down; ``torch-default`` is PyTorch's Conv2d
  init (uniform(±1/√(9 C_in)), ≈ 0.58·gain1 past the first layer; Section 4 calls it
  "sufficient in forcing each parameter to be close to zero"). The default reading follows
  the caption's words: the initial network nearest the zero map that still trains, i.e.
  the smallest scale of the ladder at which every row reaches the loss target within the
  cap (by the verdict rule: ≥ 80 % of its seeds). ``table1-init`` is that measurement (all
  five side by side, seeds 0–4): every row reaches it at gain0.3 (the 2-layer single-filter
  row misses it with one seed in five at every init, gain1 included), while at gain0.2 the
  8-layer single-filter net did not reach it in 200 000 steps (seed 0); ``gain0.3`` is the
  default.
* Table 2's init (axis ``init2``): the paper asks for each parameter "as close to zero as
  possible (while allowing for training)". ``radius1e-2``, the default, sets every weight to
  ``10^(−2/L)·c*``, where ``c* = 1/ρ(T)`` and ρ(T) is the spectral radius of the all-ones
  filter's conv matrix on s×s images: the initial end-to-end map then has spectral radius
  exactly 1e-2 (near zero), and it is the largest constant with radius ≤ 1e-2. Measured
  with seeds 0–4, at least 80 % of the seeds of every row up to 5×5 reach the loss target
  within the cap there. ``fig4`` is Figure 4's constant 0.1 (0.685·c* at 4×4).
  ``cstar`` (every weight c*, each layer of spectral radius 1) starts at a rank-1
  projection onto the band matrix's Perron vector: its initial spectrum is already
  ``(1, ≈0, …)``, so its seeds are flagged ``starts_memorized`` and cannot make a row agree;
  ``cstar0.5`` and ``cstar0.3`` are smaller constants (below c* the output shrinks like
  ``(c/c*)^L``); ``random`` draws i.i.d. normal(0, c*) weights. They run with
  ``--reading``.
* The starred rows' skips (axis ``skip``), all weights 0.7·c*: ``identity-blocks`` wraps
  every run of 10 layers in ``x + B(x)`` (He et al.), so a near-zero init makes the net the
  identity, which already fits every image (loss ≈ 0 at step 0) and nothing trains;
  ``plain-ends`` puts a plain first and last layer around the blocks; ``plain-tail`` keeps
  the leftover L mod 10 layers (10 when 10 divides L) plain. All three run by default.
* Loss (reading axis ``loss``, recorded per row as ``loss_normalization``): by default the
  mean squared error over pixels and images (torch's ``MSELoss``), the text's "mean squared
  error"; ``--reading half-sum`` descends Eq. (1)'s ``½ Σᵢ ‖xᵢ − f(xᵢ)‖²`` instead (gradient
  descent's steps N/2 times longer, N = pixels × images; measured: at lr 0.1 the 5- and
  8-layer single-filter rows diverge). The 1e-6 target is on the loss descended. Training is
  float64 throughout. Iterations are capped
  (``cap``); ``reached`` says whether the loss target was met. The quick Table 1 runs the
  init reading gain1 (unless ``--reading`` names one), not the default gain0.3: within the
  quick cap of 1500 steps 10 of its 12 rows reach the loss target at gain1, 3 at gain0.3
  (measured, seed 0), and quick rows never decide; its rows are named by the filters they
  run (``L2-F4``: 4 filters where the full form has 16).
* "Memorized" is judged on the operator: the top ``n`` eigenvalue magnitudes within 0.05 of
  1, the rest below 0.05 (the paper's Table 2 text quotes ≈1e-2 for the rest; ``rest_max``
  is in each row), **and** the top-n eigenspace within 0.05 rad of span(X) (``span_angle``
  per seed: the largest principal angle). Each seed also records where it started:
  ``init_spectrum`` (the n + 2 largest eigenvalue magnitudes of the step-0 map),
  ``init_span_angle`` and ``starts_memorized`` (the step-0 map already met the spectral
  part). Rows stored before these were measured lack them; their ``memorized`` is the
  spectral part alone, and a resumed row trains such seeds again.

**Seeds and verdicts.** Each row runs over several seeds (``--seeds``; full form 5): a seed
fixes the images and the initial weights; a resumed row keeps every seed it finished before
and trains only the seeds it lacks. A row keeps every seed's spectrum (``spectra``,
``per_seed``), the quartiles of its leading n + 2 eigenvalues, the fractions memorized and
reached, and ``spectrum`` = the median seed's spectrum (by the (n+1)-th eigenvalue). Its
``verdict`` ∈ {agrees, differs, inconclusive} follows :data:`VERDICT_RULE` (printed at the
end of these notes); quick runs and rows whose seeds did not reach the target are
inconclusive.

Spectra are of the end-to-end matrix, computed exactly in float64 (the basis images through
the trained net, :func:`numerics._linalg.end_to_end_matrix`, or through the numpy chain) and
cross-checked against symconv's product of layer matrices (``matrix_check``: the largest
entry difference). Every row trains with the one trainer (:mod:`numerics._trainer`: all
seeds of a row together, each on its own loss and stopping rule): Table 2 on a CPU with its
numpy backend, the net as a chain of dense layer matrices (:mod:`numerics._fastlinear`;
``fast_path`` is true in those rows), Table 1, and Table 2 on a GPU, with its torch backend
(the seeds' conv layers as one grouped convolution, ``torch.optim``); both follow the
trajectory of torch training the conv model alone up to float64 round-off."""


def _rows(
    specs: Callable[..., list[RowSpec]],
) -> Callable[[RunConfig], Iterator[tuple[str, Callable[[], Row]]]]:
    def rows(cfg: RunConfig) -> Iterator[tuple[str, Callable[[], Row]]]:
        for spec in specs(cfg.quick, cfg.reading) if cfg.reading else specs(cfg.quick):
            yield spec.key, partial(run_ensemble, spec, cfg)

    return rows


# ---------------------------------------------------------------------------------------
# Figures: one panel per row, one mark per seed, the median seed highlighted.


def _figures(name: str, title: str) -> Callable[[RunConfig, list[dict[str, Any]]], list[Path]]:
    def figures(cfg: RunConfig, rows: list[dict[str, Any]]) -> list[Path]:
        assert cfg.out is not None
        return ensemble_spectra_figure(cfg.out, name, title, rows, quick=cfg.quick)

    return figures


def _experiment(
    name: str, summary: str, specs: Callable[..., list[RowSpec]], title: str, notes: str,
    seeds: int,
) -> Experiment:  # fmt: skip
    return Experiment(
        name=name,
        summary=summary,
        rows=_rows(specs),
        figures=_figures(name, title),
        notes=notes,
        ensembles=True,
        default_seeds=seeds,
        row_schema=lambda row: TableRow.from_json(row).to_json(),
        readings=lambda: readings_for(name),
        verdict=experiment_verdict(name),
        cost=_costs(specs),
    )


def row_cost(spec: RowSpec) -> float:
    """A seed's rough work on row ``spec``: multiply-adds per step on its training images ×
    the step cap (the dense ``d×d`` layer matrices of the numpy chain for the single-filter
    chains, the conv weights at every pixel otherwise). Orders a cluster's tasks only."""
    p = plan(spec)
    d = spec.size * spec.size
    per_image = p.conv_layers * d * d if p.chain else p.net.n_params * d
    return float(per_image * spec.train_examples * spec.cap)


def _costs(specs: Callable[..., list[RowSpec]]) -> Callable[[RunConfig], dict[str, float]]:
    def costs(cfg: RunConfig) -> dict[str, float]:
        chosen = specs(cfg.quick, cfg.reading) if cfg.reading else specs(cfg.quick)
        return {spec.key: row_cost(spec) for spec in chosen}

    return costs


def table1_experiment(specs: Callable[..., list[RowSpec]] = table1_specs) -> Experiment:
    return _experiment(
        "table1",
        "Table 1: shallow linear conv autoencoders (3x3, 2 images) do not memorize",
        specs,
        "Table 1: spectra of trained linear conv autoencoders",
        f"{NOTES}\n\nVerdict rule: {VERDICT_RULE}",
        5,
    )


def table2_experiment(specs: Callable[..., list[RowSpec]] = table2_specs) -> Experiment:
    return _experiment(
        "table2",
        "Table 2: single-filter nets with ceil(s^4/9) layers memorize",
        specs,
        "Table 2: spectra of deep single-filter linear nets",
        f"{NOTES}\n\nVerdict rule: {VERDICT_RULE}",
        5,
    )


#: The setup of ``table1-init`` (the report prints it).
TABLE1_INIT_NOTES = (
    "The paper initializes Table 1's nets 'close to zero' without a scale. This sweep "
    "reruns its depths (2 or 3, 5, 8 conv layers; 1 and 16 filters) at every init "
    "reading side by side: PyTorch's default Conv2d init and uniform(±g/√(3F)) for "
    "g = 1, 0.5, 0.3, 0.2, same training (GD lr 0.1 to loss 1e-6, 100 000 steps at "
    "most, Table 1's cap). It is also the measurement behind Table 1's default "
    "reading: the smallest g at which every row reaches the target within the cap "
    "in at least 80% of its seeds. Smaller scales bring the learned map closer to "
    "the minimum-norm (memorizing) solution; too small and the deep nets stop "
    "training (the row says reached = False and its verdict is inconclusive)."
    "\n\nVerdict rule: " + VERDICT_RULE
)


def table1_init_experiment(
    specs: Callable[..., list[RowSpec]] = table1_init_specs,
) -> Experiment:
    return _experiment(
        "table1-init",
        "Table 1 at every init reading side by side: is 'no memorization' robust to it?",
        specs,
        "Table 1 across init readings",
        TABLE1_INIT_NOTES,
        5,
    )


EXPERIMENTS: list[Experiment] = [
    table1_experiment(),
    table2_experiment(),
    table1_init_experiment(),
]
