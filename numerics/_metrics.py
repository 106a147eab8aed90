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
* ``landed`` — the fraction of outputs that land on an individual training image
  (:func:`landed_on`): ``ray ≤ LAND_TOL`` up to a positive scale, **and** a norm at least
  ``LAND_NORM`` (10 %) of that image's norm, so a vanishing output (a net that did not
  train, an iterate decaying to 0) never counts as landed. ``LAND_TOL = 0.1`` means within
  10 % of the output's norm, an angle under 6°, far below the distance between two different
  photographs (typically 40-100 %). ``landed_exact`` asks ``nearest ≤ LAND_TOL`` (no
  rescaling);
* iterating ``z, f(z), f(f(z)), …`` ``ITERATE`` times: the fraction whose last iterate lands
  on a training image (``iterated_landed``, up to scale) and the fraction that stopped moving
  (``iterated_still``: ``‖f^k − f^{k−1}‖ ≤ 1e-3 ‖f^k‖``): the training images as attracting
  fixed points.

A linear net that memorizes gives ``span ≈ 0`` with ``nearest`` large (a combination); strong
memorization gives ``nearest ≈ 0``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

#: A map on batches of images: a torch module, or any function of a tensor.
Map = Callable[["torch.Tensor"], "torch.Tensor"]

__all__ = [
    "ITERATE",
    "LAND_NORM",
    "LAND_TOL",
    "iterate_map",
    "jacobian_spectrum",
    "landed_on",
    "memorization_metrics",
    "output_metrics",
]

#: An output within this relative distance of a training image "lands" on it.
LAND_TOL = 0.1
#: ...and only when its norm is at least this fraction of that training image's norm.
LAND_NORM = 0.1
#: Number of applications of the map when testing for attracting fixed points.
ITERATE = 20
_STILL = 1e-3


def _flat(a: Any) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().to("cpu").double().numpy()
    a = np.asarray(a, dtype=np.float64)
    return a.reshape(a.shape[0], -1)


def landed_on(outputs: Any, train: Any, *, tol: float = LAND_TOL) -> np.ndarray:
    """For each output ``y``: the index of the training image it lands on, or ``-1``.

    ``y`` lands on ``x_i`` (the nearest by ``ray``) when ``min_{a ≥ 0} ‖y − a x_i‖ ≤ tol ‖y‖``
    and ``‖y‖ ≥ LAND_NORM ‖x_i‖``: the right direction, and not vanishing.
    """
    y, x = _flat(outputs), _flat(train)
    xn = np.linalg.norm(x, axis=1)
    yn = np.linalg.norm(y, axis=1)
    safe_yn = np.where(yn > 0, yn, 1.0)
    coef = np.maximum(y @ x.T, 0.0) / np.where(xn > 0, xn**2, 1.0)
    ray_d = np.linalg.norm(y[:, None, :] - coef[:, :, None] * x[None], axis=2) / safe_yn[:, None]
    arg = ray_d.argmin(axis=1)
    ray = ray_d[np.arange(len(y)), arg]
    ok = (ray <= tol) & (yn > 0) & (yn >= LAND_NORM * xn[arg])
    return np.where(ok, arg, -1)


def output_metrics(outputs: Any, train: Any, *, tol: float = LAND_TOL) -> dict[str, Any]:
    """Per-output distances to the nearest training image and to the span, summarized.

    ``outputs`` (m, ...) and ``train`` (n, ...): arrays or tensors, flattened per image.
    Returns medians of ``nearest``, ``ray`` and ``span``, the fractions ``landed``
    (:func:`landed_on`: ray ≤ tol and not vanishing) and ``landed_exact`` (nearest ≤ tol),
    and ``which``: how many outputs are closest (by ``ray``) to each training image.
    """
    y, x = _flat(outputs), _flat(train)
    xn = np.linalg.norm(x, axis=1)
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
        "landed": float(np.mean(landed_on(y, x, tol=tol) >= 0)),
        "landed_exact": float(np.mean(nearest <= tol)),
        "which": [int((arg == i).sum()) for i in range(len(x))],
        "output_norm_median": float(np.median(yn)),
    }


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
    (Figure 7) compares with the current reconstructions ``f(x_i)`` instead.
    """
    import torch

    ref = train if targets is None else targets
    with torch.no_grad():
        out = model(inputs)
    res = output_metrics(out, ref, tol=tol)
    last, before = iterate_map(model, inputs, steps)
    y, yp = _flat(last), _flat(before)
    finite = np.isfinite(y).all(axis=1)
    yn = np.linalg.norm(y, axis=1)
    still = finite & (np.linalg.norm(y - yp, axis=1) <= _STILL * np.maximum(yn, 1e-12))
    it = output_metrics(np.where(finite[:, None], y, 0.0), ref, tol=tol)
    res["iterated_landed"] = it["landed"] if finite.all() else float("nan")
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
