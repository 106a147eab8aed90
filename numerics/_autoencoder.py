"""What the autoencoder experiments of Sections 4-6 share: training, one measured row, the
probe inputs, the input → output figure and the quick/full sizes.

An experiment module (:mod:`numerics.downsampling`, :mod:`numerics.nonlinear`,
:mod:`numerics.early_stopping`, :mod:`numerics.initialization`) states its networks and
rows; each row is one call of :func:`autoencoder_row` (train one net, measure it, save the
images the figures draw), and :func:`autoencoder_experiment` turns the rows and a title per
row into the :class:`numerics.Experiment` it registers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from symconv import Network

from ._experiment import Experiment, ExperimentError, RunConfig
from ._nets import Init, single_thread

if TYPE_CHECKING:
    import torch
    from tqdm import tqdm

__all__ = [
    "FULL",
    "LOSS_TOL",
    "QUICK",
    "Scale",
    "autoencoder_experiment",
    "autoencoder_row",
    "io_figure",
    "probe_inputs",
    "scale",
    "train",
]

#: The paper's stopping rule.
LOSS_TOL = 1e-6

Row = dict[str, Any]
Rows = Callable[[RunConfig], Iterable[tuple[str, Callable[[], Row]]]]
Figures = Callable[[RunConfig, list[Row]], list[Path]]


@dataclass(frozen=True)
class Scale:
    """The sizes of one form (quick or full) of the Section 4-6 experiments."""

    size: int  # image side
    d1_filters: int  # filters per hidden layer of D1
    d2_filters: int  # filters per hidden layer of D2
    iterations: int  # training steps of the D1/D2 nets
    lr: float  # Adam's rate for the D1/D2 nets
    test_count: int  # probe inputs per set
    small_iterations: int  # the tiny nets of Figures 4-5


#: The quick form: 8×8 images, few filters and iterations (seconds on a CPU).
QUICK = Scale(size=8, d1_filters=16, d2_filters=4, iterations=600, lr=1e-3, test_count=16,
              small_iterations=1500)  # fmt: skip
#: The full form: the paper's 32×32 images and 10,000 iterations.
FULL = Scale(size=32, d1_filters=64, d2_filters=64, iterations=10_000, lr=1e-4, test_count=64,
             small_iterations=20_000)  # fmt: skip


def scale(cfg: RunConfig) -> Scale:
    """The sizes of ``cfg``'s form: :data:`QUICK` or :data:`FULL`."""
    return QUICK if cfg.quick else FULL


def _progress(cfg: RunConfig, total: int, desc: str) -> tqdm[Any]:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, file=cfg.log, disable=not cfg.progress, leave=False)


def train(
    model: torch.nn.Module,
    x: torch.Tensor,
    *,
    iterations: int,
    lr: float,
    cfg: RunConfig,
    desc: str = "train",
    tol: float = LOSS_TOL,
) -> tuple[float, int, float]:
    """Adam on the mean squared error ``mean((f(x) − x)²)`` for ``iterations`` steps or until
    the loss is below ``tol`` (the one trainer, :func:`numerics._trainer.fit`); returns
    ``(loss, iterations done, seconds)``. As the usual torch loop (backward, step, then test
    the loss read before the step), the step whose loss stopped the run is still taken."""
    import torch

    from ._torchtrain import ConvMembers
    from ._trainer import fit

    t0 = time.perf_counter()
    members = ConvMembers([model], [x], optimizer="adam", lr=lr, device=str(x.device))
    with _progress(cfg, iterations, desc) as bar:

        def tick(step: int, losses: np.ndarray) -> None:
            bar.update(100)
            bar.set_postfix(loss=f"{losses[0]:.2e}")

        res = fit(members, 1, target=tol, cap=iterations, callback=tick)
    done = int(res.iterations[0])
    if done < iterations:  # stopped by the target (or a non-finite loss): take that step
        members.update(done + 1)
        done += 1
    members.store(members.weights(np.ones(1, dtype=bool)))
    with torch.no_grad():
        loss_v = float(torch.mean((model(x) - x) ** 2))
    return loss_v, done, time.perf_counter() - t0


def probe_inputs(
    cfg: RunConfig, *, size: int, channels: int, n_train: int, count: int, held_out: bool = True
) -> dict[str, torch.Tensor]:
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


def _linear_analysis(
    model: torch.nn.Module, net: Network, train_x: torch.Tensor, device: str
) -> tuple[dict[str, Any], np.ndarray]:
    """Exact end-to-end matrix, its spectrum, cross-check with symconv, top eigenvectors, and
    the operator criterion of Theorem 1 (:func:`numerics._verdicts.memorized`: the top ``n``
    eigenvalues near 1, the rest near 0, the top-n eigenspace within ``SPAN_TOL`` of span(X),
    measured by ``span_angle``)."""
    from symconv import network_matrix

    from ._linalg import end_to_end_matrix, span_residual
    from ._nets import weights_of
    from ._verdicts import memorized
    from .probe import span_angle

    m = end_to_end_matrix(model, net.in_shape, device=device)
    exact = network_matrix(net, weights_of(model)).toarray()
    ev, vec = np.linalg.eig(m)
    order = np.argsort(-np.abs(ev))
    ev, vec = ev[order], vec[:, order]
    n = len(train_x)
    x = train_x.detach().to("cpu").double().reshape(n, -1).numpy()
    top = np.real(vec[:, : n + 1]).T
    largest = max(1.0, float(np.abs(m).max()))
    spectrum = [float(v) for v in np.abs(ev)]
    angle = span_angle(m, x)
    info = {
        "spectrum": spectrum,
        "matrix_check": float(np.abs(m - exact).max() / largest),
        "top_eigenvalues": spectrum[: n + 2],
        "eigvec_span_residual": [float(r) for r in span_residual(top, x)],
        "n_eig_above_0.1": int((np.abs(ev) > 0.1).sum()),
        "span_angle": angle,
        "operator_memorized": memorized(spectrum, n, angle),
    }
    return info, top


def _start(model: torch.nn.Module, net: Network, x: torch.Tensor, linear: bool) -> Row:
    """Where a run starts: the output norm of training image 0 and, for a linear net, the
    ``n + 2`` largest eigenvalue magnitudes of the initial end-to-end map, its span angle,
    and ``starts_memorized`` (the initial map already meets the spectral criterion)."""
    import torch

    from ._linalg import end_to_end_matrix, spectrum
    from ._verdicts import spectral_memorized
    from .probe import span_angle

    with torch.no_grad():
        out: Row = {"init_output_norm": float(model(x[:1]).norm())}
    if linear:
        n = len(x)
        m = end_to_end_matrix(model, net.in_shape, device=str(x.device))
        spec = spectrum(m)
        xs = x.detach().to("cpu").double().reshape(n, -1).numpy()
        out.update(
            init_spectrum=spec[: n + 2],
            init_span_angle=span_angle(m, xs),
            starts_memorized=spectral_memorized(spec, n),
        )
    return out


def _probe(
    cfg: RunConfig, model: torch.nn.Module, x: torch.Tensor, row: Row, sets: dict[str, Any],
    compare_with_reconstructions: bool,
) -> None:  # fmt: skip
    """The output metrics of every probe set, the reconstruction fit, ``trained`` and the
    honest landing labels (:mod:`numerics._metrics`) into ``row``; a linear row's operator
    verdict ``memorized`` is ``None`` when the net did not train."""
    import torch

    from ._metrics import honest_landing, memorization_metrics, trained

    with torch.no_grad():
        recon = model(x)
    targets = recon if compare_with_reconstructions else None
    metrics = {
        s: memorization_metrics(model, inp.to(cfg.device), x, targets=targets)
        for s, inp in sets.items()
    }
    row["train_reconstruction"] = memorization_metrics(model, x, x)["nearest_median"]
    # an untrained net or vanished outputs are labelled, never counted as landed
    row["trained"] = trained(row)
    row["metrics"] = {s: honest_landing(m, did_train=row["trained"]) for s, m in metrics.items()}
    if "operator_memorized" in row:
        row["memorized"] = row.pop("operator_memorized") if row["trained"] else None


def _arrays(
    cfg: RunConfig, model: torch.nn.Module, x: torch.Tensor, sets: dict[str, Any],
    eig_top: np.ndarray | None, shape: tuple[int, int, int],
) -> dict[str, Any]:  # fmt: skip
    """The images the figures draw: training images, reconstructions, and per probe set the
    first 8 inputs, their outputs and the iterated map f^20 (``iterated_landed``)."""
    import torch

    from ._metrics import iterate_map

    with torch.no_grad():
        arrays: dict[str, Any] = {"train": x, "recon": model(x)}
        for s, inp in sets.items():
            z = inp[:8].to(cfg.device)
            arrays[f"in_{s}"] = inp[:8]
            arrays[f"out_{s}"] = model(z)
            arrays[f"iter_{s}"] = iterate_map(model, z)[0]
    if eig_top is not None:
        arrays["eigvecs"] = eig_top.reshape(-1, *shape)
    return arrays


def _spectrum(
    cfg: RunConfig, model: torch.nn.Module, net: Network, x: torch.Tensor, row: Row, *,
    linear: bool,
) -> np.ndarray | None:  # fmt: skip
    """The trained net's spectrum into ``row``: a linear net's exact end-to-end matrix and
    its operator criterion (returns the top eigenvectors for the figure), a nonlinear net's
    Jacobian at training image 0 (returns None)."""
    from ._metrics import jacobian_spectrum

    if linear:
        info, eig_top = _linear_analysis(model, net, x, cfg.device)
        row["spectrum_kind"] = "exact end-to-end matrix"
        row.update(info)
        return eig_top
    row["spectrum_kind"] = "Jacobian at training image 0"
    row["spectrum"] = jacobian_spectrum(model, x[0])
    return None


def _training(loss: float, iterations: int, seconds: float) -> Row:
    """How training ended: the loss (the mean squared error) against the paper's target."""
    return {
        "loss_normalization": "mean", "loss": loss, "loss_target": LOSS_TOL,
        "reached": bool(loss < LOSS_TOL), "iterations": iterations, "seconds": seconds,
    }  # fmt: skip


def autoencoder_row(
    cfg: RunConfig,
    *,
    name: str,
    key: str,
    net: Network,
    train_x: torch.Tensor,
    init: Init | str,
    nonlinearity: str | None,
    iterations: int,
    lr: float,
    test_count: int,
    held_out: bool = True,
    compare_with_reconstructions: bool = False,
    extra: dict[str, Any] | None = None,
) -> Row:
    """Train one autoencoder and measure it: the row every Section 4-6 experiment writes.

    Linear nets: the exact spectrum, eigenvector/span residuals and Theorem 1's operator
    criterion (``span_angle``, ``memorized``), and where the run started (``init_spectrum``,
    ``init_span_angle``, ``starts_memorized``). Nonlinear nets: the spectrum of the Jacobian
    at training image 0 (``spectrum_kind`` says which). Both: the output metrics of
    :mod:`numerics._metrics` on every probe input set (compared with the reconstructions
    ``f(x_i)`` instead of ``x_i`` with ``compare_with_reconstructions``), the output norm of
    training image 0 before training, and an ``.npz`` of images for the figures. Quick runs
    on a CPU use one torch thread. The loss is the mean squared error (``loss_normalization``).
    """
    import torch

    from ._figures import save_arrays
    from ._nets import build_model

    with single_thread(cfg.quick and cfg.device == "cpu"):
        torch.manual_seed(cfg.seed)
        model = build_model(
            net, init=init, nonlinearity=nonlinearity, seed=cfg.seed, device=cfg.device
        )
        x = train_x.to(cfg.device)
        start = _start(model, net, x, linear=nonlinearity is None)
        loss, its, secs = train(
            model, x, iterations=iterations, lr=lr, cfg=cfg, desc=f"{name}:{key}"
        )
        c, h, _ = net.in_shape
        row: Row = {
            "network": key.split("-")[0], "size": h, "channels": c, "depth": net.depth,
            "params": net.n_params, "init": str(init),
            "nonlinearity": nonlinearity or "linear", "n_train": len(x),
            "optimizer": f"adam lr={lr:g}", **(extra or {}), **start,
            **_training(loss, its, secs),
        }  # fmt: skip
        eig_top = _spectrum(cfg, model, net, x, row, linear=nonlinearity is None)
        sets = probe_inputs(
            cfg, size=h, channels=c, n_train=len(x), count=test_count, held_out=held_out
        )
        _probe(cfg, model, x, row, sets, compare_with_reconstructions)
        arrays = _arrays(cfg, model, x, sets, eig_top, net.in_shape)
        row["arrays"] = save_arrays(cfg.out, name, key, **arrays)
        return row


def _landing_note(s: str, m: dict[str, Any], iterated: bool) -> str:
    """``"gaussian: 40% land, 100% after f^20"``, or the set's label (did not train, vanished)."""
    from ._metrics import ITERATE

    def show(v: Any) -> str:
        return f"{v:.0%}" if isinstance(v, (int, float)) else str(v)

    text = f"{s}: {show(m.get('landed'))}" + (" land" if isinstance(m.get("landed"), float) else "")
    if iterated:
        text += f", {show(m.get('iterated_landed'))} after f^{ITERATE}"
    return text


def _title_flag(row: Row) -> str:
    """The line a figure's title gains for a run that did not train or did not reach its
    loss target (early-stopped runs stop short by design: none)."""
    from ._metrics import trained

    if not row.get("trained", trained(row)):
        return (
            f"\nDID NOT TRAIN: loss {row.get('loss', float('nan')):.2g} after "
            f"{row.get('iterations')} iterations, f(train) "
            f"{row.get('train_reconstruction', float('nan')):.0%} off the training images"
        )
    if row.get("reached") is False and "stopped_at" not in row:
        return (
            f"\nloss target {row.get('loss_target', LOSS_TOL):g} not reached: "
            f"loss {row.get('loss', float('nan')):.2g} after {row.get('iterations')} iterations"
        )
    return ""


def io_figure(
    cfg: RunConfig, name: str, row: Row, title: str, *, iterated: bool = False
) -> Path | None:
    """Training images, reconstructions, then input → output for each probe set (and, with
    ``iterated``, the output of the map applied 20 times). The title flags a run that did not
    reach its loss target or did not train; the note under it gives the landing fractions the
    text quotes, or "did not train" / "vanished" (:data:`numerics._metrics.LANDING_RULE`);
    an output below 10 % of the smallest training image's norm is marked under its panel."""
    from ._figures import grid_figure, load_arrays
    from ._metrics import ITERATE, MIN_NORM

    assert cfg.out is not None
    arr = load_arrays(cfg.out, row)
    if arr is None:
        return None
    floor = MIN_NORM * float(
        np.linalg.norm(arr["train"].reshape(len(arr["train"]), -1), axis=1).min()
    )
    cols: list[tuple[str, np.ndarray]] = [("train", arr["train"]), ("f(train)", arr["recon"])]
    norm: list[bool | str] = [False, "fit01"]
    vanish: list[float | None] = [None, floor]
    notes = []
    for s in ("gaussian", "squares", "held_out"):
        if f"in_{s}" in arr:
            cols += [(f"{s} in", arr[f"in_{s}"]), (f"{s} out", arr[f"out_{s}"])]
            norm += [s == "gaussian", "fit01"]
            vanish += [None, floor]
            if iterated and f"iter_{s}" in arr:
                cols.append((f"{s} f^{ITERATE}", arr[f"iter_{s}"]))
                norm.append("fit01")
                vanish.append(floor)
        m = (row.get("metrics") or {}).get(s)
        if m:
            notes.append(_landing_note(s, m, iterated))
    if isinstance(row.get("span_angle"), float):
        got = row.get("memorized")
        verdict = "did not train" if got is None else "memorized" if got else "not memorized"
        notes.append(f"operator: {verdict}, span angle {row['span_angle']:.2g} rad")
    if "eigvecs" in arr:
        cols.append(("eigvecs", arr["eigvecs"]))
        norm.append(True)
        vanish.append(None)
    title += _title_flag(row)
    return grid_figure(
        cfg.out,
        f"{name}-{row['key']}.png",
        title,
        cols,
        normalize=tuple(norm),
        note="; ".join(notes),
        vanish_below=tuple(vanish),
    )


def autoencoder_experiment(
    name: str,
    summary: str,
    rows: Rows,
    *,
    notes: str,
    title: Callable[[Row], str] | Mapping[str, str],
    iterated: bool = False,
    more_figures: Figures | None = None,
    readings: Callable[[], list[tuple[str, str, bool]]] | None = None,
    images_needed: int = 0,
) -> Experiment:
    """The :class:`numerics.Experiment` of a Section 4-6 module: its rows, an
    :func:`io_figure` per row titled ``title(row)`` (or ``title[key]``, the key itself when
    missing), then ``more_figures`` (e.g. the spectra side by side). ``images_needed``:
    the training and held-out images it takes from ``--images``."""

    def titled(row: Row) -> str:
        if isinstance(title, Mapping):
            return title.get(row["key"], row["key"])
        return title(row)

    def figures(cfg: RunConfig, done: list[Row]) -> list[Path]:
        paths = [io_figure(cfg, name, row, titled(row), iterated=iterated) for row in done]
        out = [p for p in paths if p is not None]
        return out + (more_figures(cfg, done) if more_figures is not None else [])

    return Experiment(
        name=name, summary=summary, rows=rows, figures=figures, notes=notes, readings=readings,
        images_needed=images_needed,
    )  # fmt: skip
