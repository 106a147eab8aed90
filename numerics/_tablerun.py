"""One row of Tables 1-2, run: plan the row, train all its seeds together, measure each
trained net, and assemble the typed row with its verdict.

:func:`run_ensemble` is the whole path of a row, top to bottom:

1. :func:`numerics._tablespec.plan` resolves the row's network, init and optimizer;
2. :func:`_train` trains one member per seed with the one trainer
   (:mod:`numerics._trainer`: its numpy backend for single-filter chains on a CPU, its
   torch backend otherwise), and gives each member's end-to-end matrix at step 0 and at
   the end;
3. :func:`_measure` reads each member: the spectrum of its end-to-end matrix (cross-checked
   against symconv's product of layer matrices), the largest principal angle between its
   top-n eigenspace and span(X) (:func:`numerics.probe.span_angle`), whether it memorized
   (:func:`numerics._verdicts.memorized`) and where it started;
4. :func:`_row` makes the :class:`numerics._tablerow.TableRow` (its verdict by
   :func:`numerics._verdicts.row_verdict`), whose ``to_json`` is the stored row.
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from symconv import heuristic_depth, network_matrix

from ._experiment import RunConfig
from ._linalg import end_to_end_matrix, spectrum
from ._nets import single_thread
from ._tablerow import SeedRun, Summary, TableRow, from_json
from ._tablespec import QUICK_TABLE1_INIT, QUICK_WHY, TARGET_LOSS, Plan, RowSpec, plan
from ._verdicts import (
    MEMORIZES_AT,
    median_seed,
    memorized,
    row_verdict,
    seed_summary,
    spectral_memorized,
)

if TYPE_CHECKING:
    import torch

__all__ = ["run_ensemble", "run_row"]


def _images(seed: int, n: int, size: int, table: int) -> torch.Tensor:
    """Standard-normal training images, from a generator seeded by (seed, table, n, s)."""
    import torch

    gen = torch.Generator().manual_seed(1_000_003 * seed + 10_007 * table + 101 * n + size)
    return torch.randn(n, 1, size, size, generator=gen, dtype=torch.float64)


def _train(
    p: Plan, xs: list[torch.Tensor], seeds: list[int], cfg: RunConfig, cap: int, progress: Any
) -> tuple[Any, list[list[np.ndarray]], list[np.ndarray], list[np.ndarray]]:
    """Train one member per seed (its initial weights from ``build_model``, seeded) by the
    one trainer: the numpy backend for single-filter chains on a CPU, torch otherwise.
    Returns the trainer's result, each member's trained conv weights (symconv order), its
    end-to-end matrix, and its end-to-end matrix at step 0 (where the run started)."""
    import torch

    from ._fastlinear import chain_matrices
    from ._nets import build_model, weights_of
    from ._torchtrain import train_conv_ensemble
    from ._trainer import train_chain_ensemble

    def tick(step: int, losses: Any) -> None:
        progress.update(100)
        finite = [v for v in np.asarray(losses, dtype=float) if math.isfinite(v)]
        progress.set_postfix(max_loss=f"{max(finite):.2e}" if finite else "nan", refresh=False)

    device, size = cfg.device, p.net.in_shape[1]
    models = [build_model(p.net, init=p.init, seed=s, dtype=torch.float64, device=device)
              for s in seeds]  # fmt: skip
    how: dict[str, Any] = {
        "optimizer": p.optimizer,
        "lr": p.lr,
        "target": TARGET_LOSS,
        "cap": cap,
        "callback": tick if progress is not None else None,
        "loss": p.loss,
    }
    if p.chain and device == "cpu":
        w0 = np.stack([np.stack([w.reshape(-1) for w in weights_of(m)]) for m in models])
        start = list(chain_matrices(p.net, w0))
        data = np.stack([x.numpy() for x in xs])
        res = train_chain_ensemble(p.net, w0, data, **how)
        k = round(w0.shape[-1] ** 0.5)
        weights = [[w[i].reshape(1, 1, k, k) for i in range(len(w))] for w in res.weights]
        return res, weights, list(chain_matrices(p.net, np.stack(res.weights))), start
    start = [end_to_end_matrix(m, (1, size, size), device=device) for m in models]
    res = train_conv_ensemble(models, [x.to(device) for x in xs], device=device, **how)
    mats = [end_to_end_matrix(m, (1, size, size), device=device) for m in models]
    return res, res.weights, mats, start


def _measure(
    p: Plan, mat: np.ndarray, weights: list[np.ndarray], x: np.ndarray, loss: float,
    start: np.ndarray,
) -> dict[str, Any]:  # fmt: skip
    """One trained member's spectrum (exact end-to-end matrix, checked against symconv),
    whether its top-n eigenspace is span(X), and where it started (the step-0 map)."""
    from .probe import span_angle

    n = x.shape[0]
    finite = bool(np.all(np.isfinite(mat))) and math.isfinite(loss)
    spec_v: list[float] = []
    check = off_span = angle = None
    if finite:  # a diverged run (GD can blow up) has no spectrum to report
        check = float(np.max(np.abs(mat - network_matrix(p.net, weights).toarray())))
        spec_v = spectrum(mat)
        q, _ = np.linalg.qr(x.reshape(n, -1).T)
        norm = float(np.linalg.norm(mat))
        off_span = float(np.linalg.norm(mat - q @ (q.T @ mat))) / norm if norm > 0 else 0.0
        angle = span_angle(mat, x)
    init_spec = spectrum(start)
    return {
        "loss": loss if math.isfinite(loss) else None,
        "reached": loss < TARGET_LOSS,
        "memorized": finite and memorized(spec_v, n, angle),
        "diverged": not finite,
        "spectrum": spec_v,
        "rest_max": spec_v[n] if len(spec_v) > n else None,
        "range_off_span": off_span,
        "matrix_check": check,
        "span_angle": angle,
        "init_spectrum": init_spec[: n + 2],
        "init_span_angle": span_angle(start, x),
        "starts_memorized": spectral_memorized(init_spec, n),
    }


def _chunk(p: Plan, batch: int, device: str) -> int:
    """Seeds of the row trained together: all of them on the numpy backend, the torch
    backend's chunks (:func:`numerics._torchtrain.conv_chunk`, float64 weights) otherwise."""
    from ._torchtrain import conv_chunk

    if p.chain and device == "cpu":
        return batch
    return conv_chunk(p.net.n_params, 8, batch, device)


def _run_members(spec: RowSpec, p: Plan, seeds: list[int], cfg: RunConfig) -> list[SeedRun]:
    """Train and measure the row ``spec`` for each seed: the ``per_seed`` entries."""
    xs = [_images(s, spec.train_examples, spec.size, spec.table) for s in seeds]
    bar: Any = None
    if cfg.progress:
        from tqdm import tqdm

        # wide torch nets train in chunks of seeds, one after another, on a CPU
        chunks = math.ceil(len(seeds) / _chunk(p, len(seeds), cfg.device))
        bar = tqdm(total=spec.cap * chunks, file=cfg.log, desc=spec.key, leave=False)
    t0 = time.perf_counter()
    with (
        bar if bar is not None else nullcontext(),
        single_thread(cfg.device == "cpu" and spec.filters <= 32),
    ):
        res, weights, mats, starts = _train(p, xs, seeds, cfg, spec.cap, bar)
    train_s = (time.perf_counter() - t0) / max(1, len(seeds))
    return [
        SeedRun(
            seed=s,
            **_measure(p, m, w, x.numpy(), float(loss), m0),
            iterations=int(it),
            train_seconds=train_s,
        )
        for s, m, w, x, loss, it, m0 in zip(
            seeds, mats, weights, xs, res.losses, res.iterations, starts, strict=True
        )
    ]


def _finished(spec: RowSpec, p: Plan, cfg: RunConfig) -> dict[int, SeedRun]:
    """The seeds the stored row of ``spec`` (``--resume``) finished, when it ran the same
    reading, cap, init and network; every one of them stays in the row."""
    stored = cfg.previous.get(spec.key)
    if stored is None:
        return {}
    old = TableRow.from_json(stored)
    same = (old.reading, old.cap, old.init, old.conv_layers, old.filters,
            old.loss_normalization) == (
        spec.reading, spec.cap, str(p.init), p.conv_layers, spec.filters, spec.loss
    )  # fmt: skip
    # a seed measured before the operator criterion (no step-0 spectrum, no span angle) is
    # trained again rather than judged by the spectral criterion alone; a diverged seed has
    # no span angle to measure, but its step-0 spectrum says it was measured
    return {r.seed: r for r in old.per_seed if r.init_spectrum is not None} if same else {}


def run_ensemble(spec: RowSpec, cfg: RunConfig) -> dict[str, Any]:
    """One row over the seeds ``cfg.seeds`` plus those a resumed row finished
    (``cfg.previous``): finished seeds are reused, the others trained together. The
    returned dict is the JSON row."""
    t0 = time.perf_counter()
    p = plan(spec)
    runs = _finished(spec, p, cfg)
    missing = [s for s in cfg.seeds if s not in runs]
    runs.update({r.seed: r for r in _run_members(spec, p, missing, cfg)} if missing else {})
    per = [runs[s] for s in sorted(runs)]
    return _row(spec, p, cfg, per, time.perf_counter() - t0).to_json()


def _row(spec: RowSpec, p: Plan, cfg: RunConfig, per: list[SeedRun], secs: float) -> TableRow:
    n = spec.train_examples
    dicts = [r.to_json() for r in per]
    mid, summary = median_seed(dicts, n), seed_summary(dicts, n)
    frac = summary["memorized_fraction"]
    verdict, why = row_verdict({"per_seed": dicts}, spec.table == 2, cfg.quick)
    if cfg.quick and spec.table == 1 and spec.init_reading == QUICK_TABLE1_INIT:
        why += f"; quick runs init {QUICK_TABLE1_INIT}, not the default gain0.3: {QUICK_WHY}"
    checks = [r.matrix_check for r in per if r.matrix_check is not None]
    return TableRow(
        key=spec.key, table=spec.table, size=spec.size, train_examples=n,
        heuristic_bound=heuristic_depth(spec.size), layers=spec.layers,
        conv_layers=p.conv_layers, params_match=p.derived is not None, filters=spec.filters,
        filters_printed=spec.filters_printed, params=p.net.n_params,
        params_printed=spec.params_printed, skip_every=p.skip_every,
        skip_design=(spec.skip_design or "identity-blocks") if spec.skip else None,
        reading=spec.reading, readings=spec.readings, loss_normalization=spec.loss,
        init=str(p.init), init_rule=p.init_rule,
        init_scale=1.0, optimizer=p.optimizer_name, cap=spec.cap, quick=cfg.quick,
        reached=all(r.reached for r in per), device=cfg.device,
        fast_path=p.chain and cfg.device == "cpu", seeds=[r.seed for r in per],
        spectra=[r.spectrum for r in per], spectrum=mid["spectrum"],
        spectrum_seed=mid["seed"], spectrum_is="the median seed's (by the (n+1)-th eigenvalue)",
        rest_max=mid["rest_max"], memorized=frac is not None and frac >= MEMORIZES_AT,
        diverged=any(r.diverged for r in per), range_off_span=mid["range_off_span"],
        matrix_check=max(checks, default=None),
        loss=max((r.loss for r in per if r.loss is not None), default=None),
        iterations=max(r.iterations for r in per),
        summary=from_json(Summary, summary),
        per_seed=per, train_seconds=sum(r.train_seconds for r in per), seconds=secs,
        heuristic_bound_printed=spec.bound_printed if spec.table == 2 else None,
        verdict=verdict, verdict_reason=why,
    )  # fmt: skip


def run_row(spec: RowSpec, cfg: RunConfig) -> dict[str, Any]:
    """One row at the single seed ``cfg.seed`` (an ensemble of one)."""
    return run_ensemble(spec, replace(cfg, seeds=(cfg.seed,)))
