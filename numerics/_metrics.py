"""Numbers in place of the paper's visual inspection of nonlinear autoencoders (Section 5).

The paper shows output images and says they "look like" one training image (strong
memorization, nonlinear nets) or a combination of training images (linear nets). We measure
this over many inputs ``y = f(z)``:

* ``nearest`` — ``min_i ‖y − x_i‖ / ‖x_i‖``: relative distance to the nearest training image;
* ``span`` — ``‖y − P y‖ / ‖y‖`` with ``P`` the projection onto span(x_1..x_n): relative
  distance to the span (Theorem 1's "memorization": outputs in the span);
* ``ray`` — ``min_i min_{a ≥ 0} ‖y − a x_i‖ / ‖y‖``: relative distance to the nearest
  *positive multiple* of a training image. Bias-free leaky-ReLU nets are positively
  homogeneous (``f(a z) = a f(z)``), so an output can only match a training image up to
  scale, and the paper's displays rescale images anyway; ``ray ≈ span`` means "one training
  image", ``ray ≫ span`` "a combination of training images";
* ``landed`` — the fraction of outputs that land on an individual training image by
  :data:`LANDING_RULE` (stated once, applied by :func:`lands` everywhere): ``ray ≤ LAND_TOL``
  (up to a positive scale; ``LAND_TOL = 0.1`` means within 10 % of the output's norm, an
  angle under 6°, far below the distance between two different photographs, typically
  40-100 %) **and** the output's norm at least ``MIN_NORM = 10 %`` of that training image's
  norm. Without the second part a zero output would land on every image (it is within any
  tolerance of the multiple 0·x_i). ``vanished`` is the fraction below that norm;
  ``landed_exact`` asks ``nearest ≤ LAND_TOL`` (no rescaling);
* :func:`honest_landing` replaces a set's ``landed`` by :data:`DID_NOT_TRAIN` when the net did
  not fit its training images (:data:`TRAINED_RULE`) and by :data:`VANISHED` when most of
  the set's outputs vanished, keeping the numbers as ``landed_fraction``: such a set is never
  shown or counted as landed;
* iterating ``z, f(z), f(f(z)), …`` ``ITERATE`` times: the fraction whose last iterate lands
  on a training image (``iterated_landed``, up to scale) and the fraction that stopped moving
  (``iterated_still``: ``‖f^k − f^{k−1}‖ ≤ 1e-3 ‖f^k‖``): the training images as attracting
  fixed points.

A linear net that memorizes gives ``span ≈ 0`` with ``nearest`` large (a combination); strong
memorization gives ``nearest ≈ 0``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

#: A map on batches of images: a torch module, or any function of a tensor.
Map = Callable[["torch.Tensor"], "torch.Tensor"]

__all__ = [
    "DID_NOT_TRAIN",
    "ITERATE",
    "LANDING_RULE",
    "LAND_TOL",
    "MIN_NORM",
    "TRAINED_RULE",
    "VANISHED",
    "honest_landing",
    "iterate_map",
    "jacobian_spectrum",
    "landed_on",
    "landing_label",
    "lands",
    "memorization_metrics",
    "output_metrics",
    "trained",
]

#: An output within this relative distance of a training image "lands" on it.
LAND_TOL = 0.1
#: ... and only when its norm is at least this fraction of that training image's norm.
MIN_NORM = 0.1
#: The label of a set of outputs of a net that did not fit its training images.
DID_NOT_TRAIN = "did not train"
#: The label of a set of outputs most of which have norm below MIN_NORM of the image's.
VANISHED = "vanished"

LANDING_RULE = (
    f"An output y lands on training image x_i when it is within {LAND_TOL:.0%} of its own "
    f"norm of a positive multiple of x_i (min_a>=0 ||y - a x_i|| <= {LAND_TOL} ||y||) and "
    f"||y|| >= {MIN_NORM:.0%} of ||x_i|| (a smaller output has vanished: zero is a multiple "
    "of every image). landed = the fraction of outputs that land. A set of outputs is shown "
    f"as '{VANISHED}' when most of them vanished (the median output's norm below "
    f"{MIN_NORM:.0%} of the training image's), and every set of a net that did not train as "
    f"'{DID_NOT_TRAIN}'; neither is counted as landed."
)
TRAINED_RULE = (
    "A net trained when it reached its loss target, or, for the figure experiments that run "
    "a fixed number of iterations, when its reconstructions of the training images land on "
    f"them: the median ||f(x_i) - x_i|| / ||x_i|| <= {LAND_TOL}. Early-stopped runs "
    "(Figure 7) are compared with their current reconstructions by design and never marked "
    "as not trained; their outputs can still vanish."
)
#: Number of applications of the map when testing for attracting fixed points.
ITERATE = 20
_STILL = 1e-3


def _flat(a: Any) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().to("cpu").double().numpy()
    a = np.asarray(a, dtype=np.float64)
    return a.reshape(a.shape[0], -1)


def landed_on(outputs: Any, train: Any, *, tol: float = LAND_TOL) -> np.ndarray:
    """For each output ``y``: the index of the training image it lands on (the nearest by
    ``ray``, by :data:`LANDING_RULE`), or ``-1``."""
    y, x = _flat(outputs), _flat(train)
    xn = np.linalg.norm(x, axis=1)
    yn = np.linalg.norm(y, axis=1)
    safe_yn = np.where(yn > 0, yn, 1.0)
    coef = np.maximum(y @ x.T, 0.0) / np.where(xn > 0, xn**2, 1.0)
    ray_d = np.linalg.norm(y[:, None, :] - coef[:, :, None] * x[None], axis=2) / safe_yn[:, None]
    arg = ray_d.argmin(axis=1)
    ok = lands(ray_d[np.arange(len(y)), arg], yn, xn[arg], tol=tol) & (yn > 0)
    return np.where(ok, arg, -1)


def lands(dist: Any, out_norm: Any, train_norm: Any, *, tol: float = LAND_TOL) -> np.ndarray:
    """:data:`LANDING_RULE` per output: ``dist ≤ tol`` (the relative distance to a ray or to
    the image) and ``out_norm ≥ MIN_NORM · train_norm`` (the norm of the image it lands on)."""
    d, yn, xn = (np.asarray(v, dtype=np.float64) for v in (dist, out_norm, train_norm))
    return np.asarray((d <= tol) & (yn >= MIN_NORM * xn))


def output_metrics(
    outputs: Any, train: Any, *, tol: float = LAND_TOL, norms_of: Any = None
) -> dict[str, Any]:
    """Per-output distances to the nearest training image and to the span, summarized.

    ``outputs`` (m, ...) and ``train`` (n, ...): arrays or tensors, flattened per image.
    Returns medians of ``nearest``, ``ray`` and ``span``, the fractions ``landed`` (by
    :func:`lands` on ``ray``), ``landed_exact`` (the same on ``nearest``) and ``vanished``
    (norm below ``MIN_NORM`` of the image's), and ``which``: how many outputs are closest (by
    ``ray``) to each training image. ``norms_of`` (default ``train``): the images whose norms
    set the floor, image by image (early stopping compares outputs with the reconstructions
    ``f(x_i)`` but still asks for 10 % of ``‖x_i‖``).
    """
    y, x = _flat(outputs), _flat(train)
    xn = np.linalg.norm(x, axis=1)
    floor = xn if norms_of is None else np.linalg.norm(_flat(norms_of), axis=1)
    dist = np.linalg.norm(y[:, None, :] - x[None, :, :], axis=2) / np.where(xn > 0, xn, 1.0)
    nearest = dist.min(axis=1)
    yn = np.linalg.norm(y, axis=1)
    safe_yn = np.where(yn > 0, yn, 1.0)
    coef = np.maximum(y @ x.T, 0.0) / np.where(xn > 0, xn**2, 1.0)  # best a >= 0 per pair
    ray_d = np.linalg.norm(y[:, None, :] - coef[:, :, None] * x[None], axis=2) / safe_yn[:, None]
    ray = ray_d.min(axis=1)
    arg = ray_d.argmin(axis=1)
    q, _ = np.linalg.qr(x.T)
    resid = y - (y @ q) @ q.T
    span = np.linalg.norm(resid, axis=1) / safe_yn
    return {
        "n": len(y),
        "nearest_median": float(np.median(nearest)),
        "ray_median": float(np.median(ray)),
        "span_median": float(np.median(span)),
        "landed": float(np.mean(lands(ray, yn, floor[arg], tol=tol))),
        "landed_exact": float(np.mean(lands(nearest, yn, floor[dist.argmin(axis=1)], tol=tol))),
        "vanished": float(np.mean(yn < MIN_NORM * floor[arg])),
        "which": [int((arg == i).sum()) for i in range(len(x))],
        "output_norm_median": float(np.median(yn)),
    }


def trained(row: dict[str, Any]) -> bool:
    """:data:`TRAINED_RULE` for one row of the figure experiments: reached its loss target,
    or its reconstructions land on the training images (``train_reconstruction`` ≤ tol);
    early-stopped rows (``stopped_at``) count as trained by design."""
    if "stopped_at" in row or row.get("reached"):
        return True
    fit = row.get("train_reconstruction")
    return isinstance(fit, (int, float)) and math.isfinite(fit) and fit <= LAND_TOL


def landing_label(fraction: Any, vanished_fraction: Any, *, did_train: bool) -> float | str:
    """What a set's landing is shown as: :data:`DID_NOT_TRAIN`, :data:`VANISHED` (more than
    half the outputs vanished), or the landed fraction itself."""
    if not did_train:
        return DID_NOT_TRAIN
    if isinstance(vanished_fraction, (int, float)) and vanished_fraction > 0.5:
        return VANISHED
    return float(fraction)


def honest_landing(metrics: dict[str, Any], *, did_train: bool) -> dict[str, Any]:
    """``metrics`` (of :func:`memorization_metrics`) with ``landed`` and ``iterated_landed``
    shown by :func:`landing_label`; the numbers stay as ``landed_fraction`` and
    ``iterated_landed_fraction``. Idempotent."""
    out = dict(metrics)
    for key, van in (("landed", "vanished"), ("iterated_landed", "iterated_vanished")):
        if key not in out:
            continue
        frac = out.setdefault(f"{key}_fraction", out[key])
        out[key] = landing_label(frac, out.get(van), did_train=did_train)
    return out


def iterate_map(
    model: Map, inputs: torch.Tensor, steps: int = ITERATE
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(f^steps(z), f^{steps-1}(z))`` for a batch ``z`` (no gradients)."""
    import torch

    prev = cur = inputs
    with torch.no_grad():
        for _ in range(steps):
            prev, cur = cur, model(cur)
            if not torch.isfinite(cur).all():
                break
    return cur, prev


def memorization_metrics(
    model: Map,
    inputs: torch.Tensor,
    train: torch.Tensor,
    *,
    steps: int = ITERATE,
    tol: float = LAND_TOL,
    targets: torch.Tensor | None = None,
) -> dict[str, Any]:
    """:func:`output_metrics` of ``f(inputs)`` plus the iterated map's fixed points.

    ``targets`` (default ``train``) are the images outputs are compared with; early stopping
    (Figure 7) compares with the current reconstructions ``f(x_i)`` instead; the norm floor
    of :data:`LANDING_RULE` is always 10 % of the training image's norm.
    """
    import torch

    ref = train if targets is None else targets
    with torch.no_grad():
        out = model(inputs)
    res = output_metrics(out, ref, tol=tol, norms_of=train)
    last, before = iterate_map(model, inputs, steps)
    y, yp = _flat(last), _flat(before)
    finite = np.isfinite(y).all(axis=1)
    yn = np.linalg.norm(y, axis=1)
    still = finite & (np.linalg.norm(y - yp, axis=1) <= _STILL * np.maximum(yn, 1e-12))
    it = output_metrics(np.where(finite[:, None], y, 0.0), ref, tol=tol, norms_of=train)
    res["iterated_landed"] = it["landed"] if finite.all() else float("nan")
    res["iterated_vanished"] = it["vanished"]
    res["iterated_which"] = it["which"]
    res["iterated_still"] = float(np.mean(still))
    return res


def jacobian_spectrum(
    model: torch.nn.Module, x: torch.Tensor, *, top: int | None = None
) -> list[float]:
    """Eigenvalue magnitudes (descending) of the Jacobian of ``model`` at one image ``x``.

    For a bias-free leaky-ReLU net ``f`` is positively homogeneous, so ``J(x) x = f(x)``: a
    training image reproduced exactly is an eigenvector of its own Jacobian with eigenvalue 1
    (the nonlinear stand-in for the spectrum of Figures 2-3).
    """
    import torch

    from ._linalg import spectrum

    x = x.detach().to(next(model.parameters()).device)
    shape = x.shape

    def f(v: torch.Tensor) -> torch.Tensor:
        return model(v.reshape(1, *shape)).reshape(-1)

    jac = torch.autograd.functional.jacobian(f, x.reshape(-1), vectorize=True)
    spec = spectrum(jac.detach().to("cpu", torch.float64).numpy())
    return spec if top is None else spec[:top]
