"""Does a trained autoencoder memorize? A probe of any torch model against its training set.

For a **linear** model ``f(x) = M x (+ b)`` (Theorem 1 of the paper: gradient descent from
near zero converges to a map whose top eigenvectors span the training images):

* ``spectrum`` — the eigenvalue magnitudes of ``M`` (descending), ``M`` the Jacobian of
  ``f`` (float64, ``torch.func.jacrev``; exact for a linear map);
* ``rank`` — singular values of ``M`` above ``σ_max·d·ε`` with ``ε`` the float32 epsilon
  (the weights of a trained model are float32: their rounding is not rank);
* ``span_angle`` — the largest principal angle (radians) between the span of the top-n
  eigenvectors of ``M`` (``n`` training images; real and imaginary parts of a complex pair
  both count) and ``span(X)``: 0 when the top eigenspace is the span of the training images,
  up to π/2 for a projection onto the wrong space.

For **any** model:

* the fraction of standard Gaussian, random white-square and held-out inputs ``z`` whose
  output ``f(z)`` and iterate ``f^k(z)`` (``k = ITERATE``) *land* on a training image, by
  the rule of ``numerics._metrics.landed_on``: within ``LAND_TOL`` of a positive multiple of
  one training image, with a norm at least ``MIN_NORM`` of that image's (a vanishing
  output never counts);
* for each training image ``x_i``: ``fixed_point_error = ‖f(x_i) − x_i‖/‖x_i‖``, the
  ``spectral_radius`` of the Jacobian ``J_f(x_i)`` (float64, ``torch.func.jacrev``), and
  ``attractor``: a fixed point (error ≤ ``LAND_TOL``) with spectral radius below
  ``1 − NEUTRAL`` — then every input close enough to ``x_i`` iterates to it (the
  associative-memory reading of Radhakrishnan, Belkin and Uhler's later work). ``stability``
  says which: ``attracting``, ``neutral`` (radius within ``NEUTRAL`` of 1: a linear
  projection onto span(X) fixes every training image with radius exactly 1, attracting
  nothing), ``unstable``, or ``not a fixed point``.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ._metrics import ITERATE, LAND_TOL, MIN_NORM, landed_on

if TYPE_CHECKING:
    import torch

__all__ = ["NEUTRAL", "probe", "probe_report", "span_angle"]

#: Largest dimension for a dense eigen-decomposition; larger maps use ARPACK for the top
#: eigenvectors and the spectral radius.
_DENSE_EIG = 2048
#: A spectral radius within this of 1 is neutral, neither attracting nor repelling.
NEUTRAL = 1e-3


def span_angle(matrix: np.ndarray, train: np.ndarray, n: int | None = None) -> float:
    """The largest principal angle (radians) between the span of the top-``n`` eigenvectors
    of ``matrix`` (by eigenvalue magnitude) and the span of the rows of ``train``."""
    from scipy.linalg import orth, subspace_angles

    m = np.asarray(matrix, dtype=np.float64)
    x = np.asarray(train, dtype=np.float64).reshape(len(train), -1)
    n = len(x) if n is None else n
    vecs = _top_eigvecs(m, n)
    basis = orth(np.concatenate([vecs.real, vecs.imag], axis=1))
    target = orth(x.T)
    return float(np.max(subspace_angles(basis, target)))


def _top_eigvecs(m: np.ndarray, n: int) -> np.ndarray:
    d = m.shape[0]
    if d <= _DENSE_EIG:
        vals, vecs = np.linalg.eig(m)
    else:
        from scipy.sparse.linalg import eigs

        vals, vecs = eigs(m, k=min(n + 1, d - 2), which="LM")
    order = np.argsort(-np.abs(vals), kind="stable")
    top = list(order[:n])
    # a complex pair split by the cut-off: keep its partner too
    if (
        n < len(order)
        and abs(vals[order[n]] - np.conj(vals[order[n - 1]])) < 1e-12 * (1 + abs(vals[order[n]]))
        and vals[order[n]].imag != 0
    ):
        top.append(order[n])
    return np.asarray(vecs[:, top])


def _radius(j: np.ndarray) -> float:
    if j.shape[0] <= _DENSE_EIG:
        return float(np.max(np.abs(np.linalg.eigvals(j))))
    from scipy.sparse.linalg import eigs

    return float(np.max(np.abs(eigs(j, k=1, which="LM", return_eigenvectors=False))))


def _module(model: Any) -> torch.nn.Module:
    from torch.export import ExportedProgram

    if isinstance(model, ExportedProgram):
        return model.module()
    return model


def _maps(model: Any) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """``(f on a batch, f on one image (1, C, H, W) in float64)``."""
    import torch

    mod = _module(model)
    if not isinstance(model, torch.export.ExportedProgram):
        mod = copy.deepcopy(mod).eval()  # the caller's module keeps its mode
    m64 = copy.deepcopy(mod).double()

    one_by_one = False

    def batch(z: torch.Tensor) -> torch.Tensor:
        """``f`` on a batch; an exported program has batch size 1 built in: ``vmap`` over
        single images (one at a time if an op has no batching rule)."""
        nonlocal one_by_one
        with torch.no_grad():
            if not one_by_one:
                try:
                    return torch.func.vmap(mod)(z[:, None])[:, 0]
                except Exception:
                    one_by_one = True
            return torch.cat([mod(z[i : i + 1]) for i in range(len(z))], dim=0)

    return batch, m64


def _is_linear(shape: tuple[int, int, int], f64: Callable[[Any], Any]) -> bool:
    """Superposition at random points, in float64: ``f(a + 2b) − f(0) = (f(a) − f(0)) +
    2 (f(b) − f(0))`` (an affine map passes; a ReLU net at random inputs does not). The
    exact answer for a traced program is ``symconv.from_torch(program).linear``: pass it as
    ``linear``."""
    import torch

    gen = torch.Generator().manual_seed(0)
    zero = torch.zeros((1, *shape), dtype=torch.float64)
    with torch.no_grad():
        f0 = f64(zero)
        for _ in range(2):
            a, b = (torch.randn((1, *shape), generator=gen, dtype=torch.float64) for _ in "ab")
            lhs = f64(a + 2 * b) - f0
            rhs = (f64(a) - f0) + 2 * (f64(b) - f0)
            scale = float(lhs.abs().max()) + float(rhs.abs().max()) + 1e-300
            if float((lhs - rhs).abs().max()) > 1e-9 * scale:
                return False
    return True


def _jacobian(f64: Callable[[Any], Any], x: torch.Tensor) -> np.ndarray:
    import torch

    x = x.to(torch.float64).reshape(1, *x.shape[-3:])
    jac = torch.func.jacrev(f64)(x)
    d = x.numel()
    return jac.reshape(-1, d).detach().numpy()


def _landing(batch: Callable[[Any], Any], z: torch.Tensor, train: torch.Tensor,
             steps: int) -> dict[str, Any]:  # fmt: skip
    import torch

    out = batch(z)
    cur = out
    for _ in range(steps - 1):
        cur = batch(cur)
        if not torch.isfinite(cur).all():
            break
    first = landed_on(out, train)
    last = landed_on(torch.nan_to_num(cur, nan=0.0, posinf=0.0, neginf=0.0), train)
    return {
        "n": len(z),
        "landed": float(np.mean(first >= 0)),
        "iterated_landed": float(np.mean(last >= 0)),
        "which": [int((first == i).sum()) for i in range(len(train))],
        "iterated_which": [int((last == i).sum()) for i in range(len(train))],
    }


def probe(
    model: Any,
    train_images: torch.Tensor,
    *,
    gaussian: int = 32,
    squares: int = 32,
    held_out: torch.Tensor | None = None,
    steps: int = ITERATE,
    attractors: int = 4,
    seed: int = 0,
    linear: bool | None = None,
) -> dict[str, Any]:
    """The memorization probe of a trained autoencoder (see the module text).

    ``model``: an ``nn.Module`` or ``ExportedProgram`` mapping ``(1, C, H, W)`` images to
    the same shape; ``train_images``: ``(n, C, H, W)``. ``gaussian`` / ``squares``: how many
    such inputs (squares need ``H = W``); ``held_out``: other images, or ``None``.
    ``attractors``: the first that many training images get the Jacobian test.
    ``linear``: ``None`` tests superposition at random points (pass
    ``symconv.from_torch(model, shape).linear`` for the exact answer).
    """
    import torch

    from ._data import square_images

    train = train_images.detach().to(torch.float32)
    n, c, h, w = train.shape
    batch, f64 = _maps(model)
    lin = _is_linear((c, h, w), f64) if linear is None else linear
    res: dict[str, Any] = {"input_shape": [c, h, w], "train_images": n, "linear": lin}
    res.update(_linear_part(f64, train) if lin else {})
    res.setdefault("spectrum", None)
    res.setdefault("rank", None)
    res.setdefault("span_angle", None)
    gen = torch.Generator().manual_seed(seed)
    kinds: dict[str, torch.Tensor] = {}
    if gaussian:
        kinds["gaussian"] = torch.randn((gaussian, c, h, w), generator=gen)
    if squares and h == w:
        kinds["squares"] = square_images(squares, size=h, channels=c, seed=seed)
    if held_out is not None:
        kinds["held_out"] = held_out.detach().to(torch.float32)
    res["landed"] = {k: _landing(batch, z, train, steps) for k, z in kinds.items()}
    res["attractors"] = [_attractor(batch, f64, train, i) for i in range(min(attractors, n))]
    res["iterations"] = steps
    res["rules"] = RULES
    return res


#: The probe's rules in words (every report carries them).
RULES = {
    "landed": f"ray distance ≤ {LAND_TOL} of the output's norm to a positive multiple of "
    f"one training image, and output norm ≥ {MIN_NORM} × that image's norm",
    "attractor": f"fixed_point_error ≤ {LAND_TOL} and spectral radius of the Jacobian "
    f"at the image < 1 − {NEUTRAL}",
    "span_angle": "largest principal angle (radians) between the top-n eigenvectors' "
    "span and span(X)",
}


def _linear_part(f64: Any, train: torch.Tensor) -> dict[str, Any]:
    """A linear model's end-to-end matrix: its spectrum (magnitudes, descending), rank and
    ``span_angle`` against the training images."""
    import torch

    n, c, h, w = train.shape
    mat = _jacobian(f64, torch.zeros((c, h, w)))
    spec = np.abs(np.linalg.eigvals(mat)) if mat.shape[0] <= 4 * _DENSE_EIG else None
    sv = np.linalg.svd(mat, compute_uv=False)
    tol = sv.max(initial=0.0) * mat.shape[0] * float(np.finfo(np.float32).eps)
    return {
        "spectrum": None if spec is None else [float(v) for v in np.sort(spec)[::-1]],
        "rank": int((sv > tol).sum()),
        "span_angle": span_angle(mat, train.reshape(n, -1).double().numpy()),
    }


def _attractor(batch: Any, f64: Any, train: torch.Tensor, i: int) -> dict[str, Any]:
    """Training image ``i`` as a fixed point: its error and the Jacobian's spectral radius."""
    import torch

    x = train[i : i + 1]
    fx = batch(x)
    err = float(torch.linalg.norm(fx - x) / torch.clamp(torch.linalg.norm(x), min=1e-30))
    radius = _radius(_jacobian(f64, x[0]))
    stability = (
        "not a fixed point" if err > LAND_TOL
        else "attracting" if radius < 1 - NEUTRAL
        else "neutral" if radius <= 1 + NEUTRAL
        else "unstable"
    )  # fmt: skip
    return {
        "image": i,
        "fixed_point_error": err,
        "spectral_radius": radius,
        "attractor": stability == "attracting",
        "stability": stability,
    }


def probe_report(
    path: str | os.PathLike[str],
    train_folder: str | os.PathLike[str],
    *,
    linear: bool | None = None,
    held_out: int = 8,
    gaussian: int = 32,
    squares: int = 32,
    seed: int = 0,
) -> dict[str, Any]:
    """Everything ``verify probe --model FILE.pt2 --train FOLDER`` prints, as one dict:
    :func:`probe`'s fields plus ``model`` and ``train``. The folder's images are read with
    ``numerics._data`` at the program's input size (grey when it takes one channel); the
    held-out inputs are the toolkit's bundled photographs. ``linear``: as for :func:`probe`
    (the command line passes ``symconv.from_torch(path).linear``)."""
    import torch

    from ._data import check_images, load_images

    text = os.fspath(path)
    if not os.path.isfile(text):
        raise ValueError(f"{text}: no such file")
    try:
        program = torch.export.load(text)
    except Exception as exc:  # any failure of the loader is one line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ValueError(f"{text}: not a program saved with torch.export.save ({first})") from None
    inputs = [s for s in program.graph_signature.input_specs if s.kind.name == "USER_INPUT"]
    node = next(n for n in program.graph.nodes if n.name == inputs[0].arg.name)
    _, c, h, w = (int(d) for d in node.meta["val"].shape)
    if h != w:
        raise ValueError(f"{os.fspath(path)}: input {h}×{w}; the image loader makes s×s images")
    count = check_images(train_folder)
    train = load_images(count, size=h, source=os.fspath(train_folder))
    extra = load_images(held_out, size=h) if held_out else None

    def channels(t: torch.Tensor) -> torch.Tensor:
        if c == 3:
            return t
        grey = t.mean(dim=1, keepdim=True)
        return grey if c == 1 else grey.repeat(1, c, 1, 1)

    res = probe(program, channels(train), held_out=None if extra is None else channels(extra),
                gaussian=gaussian, squares=squares, seed=seed, linear=linear)  # fmt: skip
    return {"model": os.fspath(path), "train": os.fspath(train_folder), **res}
