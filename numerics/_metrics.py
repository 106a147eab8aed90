"""Numbers in place of the paper's visual inspection of nonlinear autoencoders (Section 5).

The paper shows output images and says they "look like" one training image (strong
memorization, nonlinear nets) or a combination of training images (linear nets). We measure
this over many inputs ``y = f(z)``:

* ``nearest`` — ``min_i ‖y − x_i‖ / ‖x_i‖``: relative distance to the nearest training image;
* ``span`` — ``‖y − P y‖ / ‖y‖`` with ``P`` the projection onto span(x_1..x_n): relative
  distance to the span (Theorem 1's "memorization": outputs in the span);
* ``landed`` — the fraction of outputs with ``nearest ≤ LAND_TOL`` (an output "lands on an
  individual training image"); ``LAND_TOL = 0.1`` means within 10 % of that image's norm,
  far below the distance between two different photographs (typically 40-100 %);
* iterating ``z, f(z), f(f(z)), …`` ``ITERATE`` times: the fraction whose last iterate lands
  on a training image and has stopped moving (``‖f^k − f^{k−1}‖ ≤ 1e-3 ‖f^k‖``): the training
  images as attracting fixed points.

A linear net that memorizes gives ``span ≈ 0`` with ``nearest`` large (a combination); strong
memorization gives ``nearest ≈ 0``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "ITERATE",
    "LAND_TOL",
    "iterate_map",
    "jacobian_spectrum",
    "memorization_metrics",
    "output_metrics",
]

#: An output within this relative distance of a training image "lands" on it.
LAND_TOL = 0.1
#: Number of applications of the map when testing for attracting fixed points.
ITERATE = 20
_STILL = 1e-3


def _flat(a: Any) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().to("cpu").double().numpy()
    a = np.asarray(a, dtype=np.float64)
    return a.reshape(a.shape[0], -1)


def output_metrics(outputs: Any, train: Any, *, tol: float = LAND_TOL) -> dict[str, Any]:
    """Per-output distances to the nearest training image and to the span, summarized.

    ``outputs`` (m, ...) and ``train`` (n, ...): arrays or tensors, flattened per image.
    Returns medians of ``nearest`` and ``span``, the fraction ``landed`` (nearest ≤ tol),
    and ``which``: how many outputs are nearest to each training image.
    """
    y, x = _flat(outputs), _flat(train)
    xn = np.linalg.norm(x, axis=1)
    dist = np.linalg.norm(y[:, None, :] - x[None, :, :], axis=2) / np.where(xn > 0, xn, 1.0)
    nearest = dist.min(axis=1)
    arg = dist.argmin(axis=1)
    q, _ = np.linalg.qr(x.T)
    resid = y - (y @ q) @ q.T
    yn = np.linalg.norm(y, axis=1)
    span = np.linalg.norm(resid, axis=1) / np.where(yn > 0, yn, 1.0)
    return {
        "n": len(y),
        "nearest_median": float(np.median(nearest)),
        "span_median": float(np.median(span)),
        "landed": float(np.mean(nearest <= tol)),
        "which": [int((arg == i).sum()) for i in range(len(x))],
        "output_norm_median": float(np.median(yn)),
    }


def iterate_map(model, inputs, steps: int = ITERATE):  # type: ignore[no-untyped-def]
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
    model, inputs, train, *, steps: int = ITERATE, tol: float = LAND_TOL, targets=None
) -> dict[str, Any]:  # type: ignore[no-untyped-def]
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
    x = _flat(ref)
    xn = np.linalg.norm(x, axis=1)
    d = np.linalg.norm(y[:, None, :] - x[None, :, :], axis=2) / np.where(xn > 0, xn, 1.0)
    on = finite & (np.nan_to_num(d, nan=np.inf).min(axis=1) <= tol)
    res["iterated_fixed_on_train"] = float(np.mean(still & on))
    res["iterated_landed"] = float(np.mean(on))
    res["iterated_which"] = it["which"]
    return res


def jacobian_spectrum(model, x, *, top: int | None = None) -> list[float]:  # type: ignore[no-untyped-def]
    """Eigenvalue magnitudes (descending) of the Jacobian of ``model`` at one image ``x``.

    For a bias-free leaky-ReLU net ``f`` is positively homogeneous, so ``J(x) x = f(x)``: a
    training image reproduced exactly is an eigenvector of its own Jacobian with eigenvalue 1
    (the nonlinear stand-in for the spectrum of Figures 2-3).
    """
    import torch

    from ._linalg import spectrum

    x = x.detach().to(next(model.parameters()).device)
    shape = x.shape

    def f(v):  # type: ignore[no-untyped-def]
        return model(v.reshape(1, *shape)).reshape(-1)

    jac = torch.autograd.functional.jacobian(f, x.reshape(-1), vectorize=True)
    spec = spectrum(jac.detach().to("cpu", torch.float64).numpy())
    return spec if top is None else spec[:top]
