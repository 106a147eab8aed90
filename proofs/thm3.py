"""Theorem 3: a single-filter convolutional autoencoder learns a rank-s² solution.

One k×k filter ``w`` (stride 1, zero padding (k−1)/2) trained by gradient descent from
``w = 0`` to autoencode one image ``x ∈ R^{s×s}`` (Theorem 3; proof in Appendix C).

Output pixel ``p`` is ``⟨w, patch_p(x)⟩``, so training is linear regression for the filter::

    P w = vec(x),   P ∈ R^{s²×k²},  row p = the zero-padded k×k patch of x around pixel p,

and gradient descent from zero converges to the minimum-norm solution (Appendix A)::

    w* = P⁺ vec(x) = Pᵀ (P Pᵀ)⁺ vec(x).

The system is always consistent: the identity filter δ (1 at the centre) solves it, and
``w* = P⁺P δ`` is the projection of δ onto the row space of ``P``. The learned operator is
the layer matrix ``A(w*)`` (Appendix D), and Theorem 3 says ``rank A(w*) = s²``: full rank,
so the network does not memorize (memorization of one image would be the rank-1 projection
``x xᵀ / xᵀx``, Theorem 1 with n = 1).

The theorem is generic, not universal: ``x = 0`` gives ``A = 0``, and for s = 3, k = 5 there
are nonzero images whose learned operator is singular (``thm3.exceptional-image``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np

from ._registry import register
from ._result import Evidence, Result

__all__ = [
    "check_exceptional_image",
    "check_rank",
    "check_torch",
    "learned_filter",
    "operator",
    "patch_matrix",
]

Matrix = list[list[Fraction]]
Case = tuple[int, int]

DEFAULT_CASES: tuple[Case, ...] = ((2, 3), (2, 5), (3, 3), (3, 5), (4, 3))
QUICK_CASES: tuple[Case, ...] = ((2, 3), (2, 5), (3, 5))


# --------------------------------------------------------------------------------------------
# exact linear algebra over the rationals (small matrices, plain Fractions)


def _rank(m: Matrix) -> int:
    """Rank by Gaussian elimination over Q."""
    rows = [list(r) for r in m]
    rank, n_cols = 0, len(rows[0]) if rows else 0
    for col in range(n_cols):
        piv = next((r for r in range(rank, len(rows)) if rows[r][col] != 0), None)
        if piv is None:
            continue
        rows[rank], rows[piv] = rows[piv], rows[rank]
        p = rows[rank]
        for r in range(rank + 1, len(rows)):
            if rows[r][col] != 0:
                f = rows[r][col] / p[col]
                rows[r] = [a - f * b for a, b in zip(rows[r], p, strict=True)]
        rank += 1
    return rank


def _det(m: Matrix) -> Fraction:
    """Determinant by Gaussian elimination over Q."""
    rows = [list(r) for r in m]
    n, det = len(rows), Fraction(1)
    for col in range(n):
        piv = next((r for r in range(col, n) if rows[r][col] != 0), None)
        if piv is None:
            return Fraction(0)
        if piv != col:
            rows[col], rows[piv] = rows[piv], rows[col]
            det = -det
        p = rows[col]
        det *= p[col]
        for r in range(col + 1, n):
            if rows[r][col] != 0:
                f = rows[r][col] / p[col]
                rows[r] = [a - f * b for a, b in zip(rows[r], p, strict=True)]
    return det


def _solve_consistent(m: Matrix, b: list[Fraction]) -> list[Fraction] | None:
    """One solution of ``m y = b`` (free variables 0), or None when there is none."""
    n_rows, n_cols = len(m), len(m[0])
    aug = [[*m[i], b[i]] for i in range(n_rows)]
    pivots: list[int] = []
    r = 0
    for col in range(n_cols):
        piv = next((i for i in range(r, n_rows) if aug[i][col] != 0), None)
        if piv is None:
            continue
        aug[r], aug[piv] = aug[piv], aug[r]
        inv = 1 / aug[r][col]
        aug[r] = [a * inv for a in aug[r]]
        for i in range(n_rows):
            if i != r and aug[i][col] != 0:
                f = aug[i][col]
                aug[i] = [a - f * c for a, c in zip(aug[i], aug[r], strict=True)]
        pivots.append(col)
        r += 1
    if any(aug[i][n_cols] != 0 for i in range(r, n_rows)):
        return None
    y = [Fraction(0)] * n_cols
    for i, col in enumerate(pivots):
        y[col] = aug[i][n_cols]
    return y


def _matvec(m: Matrix, v: Sequence[Fraction]) -> list[Fraction]:
    return [sum((a * b for a, b in zip(row, v, strict=True)), Fraction(0)) for row in m]


def _transpose(m: Matrix) -> Matrix:
    return [list(c) for c in zip(*m, strict=True)]


def _gram(m: Matrix) -> Matrix:
    """``m mᵀ``."""
    return [[sum((a * b for a, b in zip(r, q, strict=True)), Fraction(0)) for q in m] for r in m]


# --------------------------------------------------------------------------------------------
# the regression problem of Appendix C, built from symconv's (row, column, weight) table


@lru_cache(maxsize=64)
def _triples(size: int, kernel: int) -> tuple[tuple[int, int, int], ...]:
    from symconv import Conv2d, conv_entries

    r, c, wi = conv_entries(Conv2d(1, 1, kernel), (1, size, size))
    return tuple(zip(r.tolist(), c.tolist(), wi.tolist(), strict=True))


def patch_matrix(image: Sequence[Sequence[Any]], kernel: int) -> Matrix:
    """``P`` (s²×k²): row p holds the zero-padded patch of ``image`` that output pixel p sees,
    so that ``conv(image, w)[p] = (P w)[p]``."""
    s = len(image)
    flat = [Fraction(v) for row in image for v in row]
    p = [[Fraction(0)] * (kernel * kernel) for _ in range(s * s)]
    for out_pix, in_pix, widx in _triples(s, kernel):
        p[out_pix][widx] += flat[in_pix]
    return p


def learned_filter(image: Sequence[Sequence[Any]], kernel: int) -> list[Fraction]:
    """The minimum-norm filter ``w* = Pᵀ y`` with ``P Pᵀ y = vec(x)`` (exact, row-major)."""
    p = patch_matrix(image, kernel)
    x = [Fraction(v) for row in image for v in row]
    y = _solve_consistent(_gram(p), x)
    if y is None:  # impossible: the identity filter solves P w = x
        raise ArithmeticError("P w = vec(x) has no solution")
    return _matvec(_transpose(p), y)


def operator(w: Sequence[Fraction], size: int, kernel: int) -> Matrix:
    """The s²×s² layer matrix ``A(w)`` of the filter ``w`` (Appendix D), exact."""
    a = [[Fraction(0)] * (size * size) for _ in range(size * size)]
    for out_pix, in_pix, widx in _triples(size, kernel):
        a[out_pix][in_pix] += w[widx]
    return a


def _operator_symbolic(w: Sequence[Fraction], size: int, kernel: int) -> Matrix:
    """``A(w*)`` a second way: symconv's sympy matrix with A1..A{k²} replaced by w*."""
    import sympy

    from symconv import conv_stack, network_matrix_symbolic

    m = network_matrix_symbolic(conv_stack(size, 1, kernel=kernel))
    subs = {
        sympy.Symbol(f"A{i + 1}"): sympy.Rational(v.numerator, v.denominator)
        for i, v in enumerate(w)
    }
    m = m.xreplace(subs)
    return [[Fraction(int(e.p), int(e.q)) for e in m.row(i)] for i in range(m.rows)]


def _image(size: int, rng: np.random.Generator) -> list[list[int]]:
    """A generic integer image, entries in [−9, 9], not all zero."""
    while True:
        img = rng.integers(-9, 10, size=(size, size)).tolist()
        if any(any(row) for row in img):
            return img


def _gd_iterates(p: Matrix, x: list[Fraction], steps: int) -> tuple[list[list[Fraction]], Fraction]:
    """Exact gradient descent on ½‖P w − x‖² from w = 0, step η = 1/‖P‖_F² (< 2/λ_max)."""
    frob = sum((v * v for row in p for v in row), Fraction(0))
    eta = 1 / frob if frob else Fraction(1)  # P = 0 only for the zero image
    pt = _transpose(p)
    w = [Fraction(0)] * len(pt)
    out = [w]
    for _ in range(steps):
        resid = [a - b for a, b in zip(_matvec(p, w), x, strict=True)]
        grad = _matvec(pt, resid)
        w = [a - eta * g for a, g in zip(w, grad, strict=True)]
        out.append(w)
    return out, eta


def _norm2(v: Sequence[Fraction]) -> Fraction:
    return sum((a * a for a in v), Fraction(0))


def _one_case(
    size: int, kernel: int, image: list[list[int]], claimed: int, gd_steps: int
) -> dict[str, Any]:
    p = patch_matrix(image, kernel)
    x = [Fraction(v) for row in image for v in row]
    w = learned_filter(image, kernel)
    a = operator(w, size, kernel)
    same = a == _operator_symbolic(w, size, kernel)
    rank = _rank(a)
    reproduces = _matvec(a, x) == x
    solves = _matvec(p, w) == x
    rank_p = _rank(p)
    in_row_space = _rank([*p, w]) == rank_p
    iterates, eta = _gd_iterates(p, x, gd_steps)
    iter_in_row_space = all(_rank([*p, it]) == rank_p for it in iterates[1:])
    errs = [_norm2([a_ - b for a_, b in zip(it, w, strict=True)]) for it in iterates]
    decreasing = all(e2 < e1 for e1, e2 in pairwise(errs)) or errs[0] == 0
    return {
        "size": size,
        "kernel": kernel,
        "image": image,
        "parameters": kernel * kernel,
        "rank": rank,
        "claimed_rank": claimed,
        "rank_ok": rank == claimed,
        "reproduces_image": reproduces,
        "filter_solves_patch_equations": solves,
        "filter_in_row_space": in_row_space,
        "symconv_matrices_agree": same,
        "gd_iterates_in_row_space": iter_in_row_space,
        "gd_error_decreasing": decreasing,
        "gd_step": str(eta),
        "gd_error_sq": [float(e) for e in errs],
        "identity_filter": all(v == (i == (kernel * kernel) // 2) for i, v in enumerate(w)),
        "min_norm_filter": [str(v) for v in w],
    }


@register(
    "thm3.rank",
    title="A single-filter conv autoencoder learns a full-rank (rank s²) operator",
    statement="""A single filter convolutional autoencoder with kernel size k and (k-1)/2 zero
    padding trained to autoencode an image x in R^{s x s} using gradient descent on the mean
    squared error loss learns a rank s^2 solution (so it does not memorize x, which would be
    the rank-1 projection x x^T / x^T x). Example: k = 5, s = 2 has 25 parameters for 4
    input dimensions, yet the learned operator has rank 4.""",
    method="""Output pixel p of the layer is <w, patch_p(x)>, so training the filter is linear
    regression P w = vec(x), with P the s^2 x k^2 matrix of zero-padded patches; gradient
    descent from 0 converges to the minimum-norm solution w* = P^T (P P^T)^+ vec(x). For
    each (s, k) and a generic integer image (fixed seed) the toolkit computes w* in exact
    rational arithmetic, builds the layer matrix A(w*) twice (from symconv's entry table and
    from its sympy matrix with A1..Ak^2 replaced by w*), and checks exactly: rank A(w*) = s^2,
    A(w*) x = x, P w* = vec(x), and w* lies in the row space of P. It also runs a few steps
    of gradient descent exactly (rationals) and checks every iterate lies in the row space of
    P and moves strictly closer to w*, which is why the limit is the minimum-norm filter.""",
    evidence="exact",
    reference="Theorem 3; Appendix C; Appendix A (minimum-norm limit)",
    quick_params={"cases": QUICK_CASES},
    wrong=({"cases": ((2, 5),), "claimed_rank": lambda s: 1},),
)
def check_rank(
    *,
    quick: bool = False,
    cases: Sequence[Case] = DEFAULT_CASES,
    claimed_rank: Callable[[int], int] = lambda s: s * s,
    images: dict[Case, list[list[int]]] | None = None,
    seed: int = 0,
    gd_steps: int = 4,
) -> Result:
    """``images`` overrides the seeded generic image for a case (to test a special image)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s, k in cases:
        img = (images or {}).get((s, k)) or _image(s, rng)
        rows.append(_one_case(s, k, img, claimed_rank(s), gd_steps))
    keys = (
        "rank_ok",
        "reproduces_image",
        "filter_solves_patch_equations",
        "filter_in_row_space",
        "symconv_matrices_agree",
        "gd_iterates_in_row_space",
        "gd_error_decreasing",
    )
    bad = [(r, [k for k in keys if not r[k]]) for r in rows]
    bad = [(r, ks) for r, ks in bad if ks]
    summary = ", ".join(f"(s={r['size']}, k={r['kernel']}): rank {r['rank']}" for r in rows)
    if not bad:
        return Result.passed(
            Evidence.EXACT,
            f"exact ranks of the learned operators: {summary}; each equals the claimed rank, "
            "reproduces its image, and gradient descent stays in the row space of P.",
            cases=rows,
        )
    first, what = bad[0]
    return Result.failed(
        Evidence.EXACT,
        f"(s={first['size']}, k={first['kernel']}) image {first['image']}: learned operator "
        f"has rank {first['rank']}, claimed {first['claimed_rank']}; failed: {', '.join(what)}.",
        counterexample={
            "size": first["size"],
            "kernel": first["kernel"],
            "image": first["image"],
            "rank": first["rank"],
            "claimed_rank": first["claimed_rank"],
            "failed": what,
        },
        cases=rows,
    )


# --------------------------------------------------------------------------------------------
# the theorem is generic: an exact rank-deficient example


def _det_of_learned(image: Sequence[Sequence[Fraction]], kernel: int) -> Fraction:
    s = len(image)
    return _det(operator(learned_filter(image, kernel), s, kernel))


#: Nonzero integer images for s = 3, k = 5 with learned operators of opposite determinant sign
#: (the second rounds a numerical minimizer of det A(w*(x)) over the unit sphere).
_PROBES: dict[Case, tuple[list[list[int]], ...]] = {
    (3, 5): (
        [[1, 1, 1], [1, 1, 1], [1, 1, 1]],
        [[2, -3, 9], [-3, -20, -3], [9, -3, 2]],
    ),
    (2, 3): (
        [[1, 1], [1, 1]],
        [[1, -1], [-1, 1]],
        [[3, -1], [2, 5]],
    ),
}


@register(
    "thm3.exceptional-image",
    title="Theorem 3 is generic: some nonzero images give a singular learned operator",
    statement="""Theorem 3 (rank s^2) holds for generic images but not for every nonzero image:
    for s = 3, k = 5 there is a nonzero image x whose minimum-norm filter w*(x) gives a layer
    matrix of rank below 9. (The paper states the theorem for any image; x = 0 is a trivial
    exception and this one is not.)""",
    method="""For k >= 2s - 1 the filter sees every offset between pixels, so P^T y = 0 says the
    full cross-correlation of y and x vanishes, which for x != 0 forces y = 0 (polynomials
    have no zero divisors): P has full row rank for every nonzero x, and
    w*(x) = P^T (P P^T)^{-1} vec(x) is a continuous function of x != 0. The toolkit computes
    det A(w*(x)) exactly for two integer images that are not multiples of each other and
    finds opposite signs; on the segment between them (which avoids 0) the determinant is
    continuous, so it vanishes somewhere: that image's learned operator is singular. Exact
    bisection narrows the crossing to a short rational interval.""",
    evidence="exact",
    reference="Theorem 3; Appendix C",
    wrong=({"size": 4, "kernel": 3},),
    extension=True,
)
def check_exceptional_image(
    *, quick: bool = False, size: int = 3, kernel: int = 5, bisections: int = 12
) -> Result:
    probes = _PROBES.get((size, kernel), ())
    if kernel < 2 * size - 1:
        return Result.failed(
            Evidence.EXACT,
            f"no certificate for s={size}, k={kernel}: the continuity argument needs "
            f"k >= 2s - 1 = {2 * size - 1}.",
            size=size,
            kernel=kernel,
        )
    signs = [(img, _det_of_learned(img, kernel)) for img in probes]
    pos = next((img for img, d in signs if d > 0), None)
    neg = next((img for img, d in signs if d < 0), None)
    if (
        pos is None
        or neg is None
        or _rank([[Fraction(v) for r in pos for v in r], [Fraction(v) for r in neg for v in r]]) < 2
    ):
        return Result.failed(
            Evidence.EXACT,
            f"no sign change of det A(w*(x)) among the probe images for s={size}, k={kernel}: "
            "no singular learned operator exhibited.",
            dets={str(img): str(d) for img, d in signs},
        )

    def at(t: Fraction) -> list[list[Fraction]]:
        return [
            [(1 - t) * a + t * b for a, b in zip(ra, rb, strict=True)]
            for ra, rb in zip(pos, neg, strict=True)
        ]

    lo, hi = Fraction(0), Fraction(1)
    for _ in range(bisections):
        mid = (lo + hi) / 2
        d = _det_of_learned(at(mid), kernel)
        if d == 0:
            lo = hi = mid
            break
        lo, hi = (mid, hi) if d > 0 else (lo, mid)
    approx = [[float(v) for v in row] for row in at((lo + hi) / 2)]
    return Result.passed(
        Evidence.EXACT,
        f"s={size}, k={kernel}: det A(w*) is {signs[0][1]} > 0 for x = {pos} and "
        f"{float(_det_of_learned(neg, kernel)):.4g} < 0 for x = {neg}; so the learned operator "
        f"is singular for x = (1-t)*x1 + t*x2 with some t in [{lo}, {hi}] "
        f"(x ~ {[[round(v, 3) for v in r] for r in approx]}).",
        image_positive=pos,
        image_negative=neg,
        det_positive=str(_det_of_learned(pos, kernel)),
        det_negative=str(_det_of_learned(neg, kernel)),
        t_interval=[str(lo), str(hi)],
        singular_image_approx=approx,
    )


# --------------------------------------------------------------------------------------------
# torch: the trained network agrees with the closed form


@register(
    "thm3.torch",
    title="A trained torch single-filter conv autoencoder reaches the min-norm filter, full rank",
    statement="""A single filter convolutional autoencoder (kernel k, padding (k-1)/2, no bias)
    trained from zero by gradient descent on one s x s image converges to the minimum-norm
    filter P^+ vec(x) and its operator has rank s^2.""",
    method="""A torch convolution layer (one filter, kernel k, zero padding (k-1)/2, no bias) in
    float64, weights set to zero, plain gradient descent on 1/2 ||conv(x) - x||^2 with step
    1/(largest eigenvalue of P P^T) for a fixed-seed integer image, until the gradient norm
    is below 1e-12 (at most a few thousand steps). The trained filter is compared with the
    exact minimum-norm filter (max abs difference below 1e-8), and the smallest singular
    value of its layer matrix must exceed 1e-3.""",
    evidence="numeric",
    reference="Theorem 3; Appendix C",
    requires=("torch",),
    wrong=({"limit": "identity"},),
)
def check_torch(
    *,
    quick: bool = False,
    cases: Sequence[Case] = ((2, 5), (3, 5)),
    seed: int = 1,
    tol: float = 1e-8,
    min_singular: float = 1e-3,
    max_steps: int = 20_000,
    images: dict[Case, list[list[int]]] | None = None,
    limit: str = "min-norm",
) -> Result:
    """``limit``: the claimed limit filter, "min-norm" (P⁺ vec(x), the paper) or "identity"
    (the centre-one filter δ, which also solves P w = vec(x) exactly)."""
    import torch

    if limit not in ("min-norm", "identity"):
        raise ValueError(f"limit: must be 'min-norm' or 'identity' (got {limit!r})")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: thread start-up would dominate every step
    try:
        rows = _train_cases(cases, seed, max_steps, tol, min_singular, images, limit)
    finally:
        torch.set_num_threads(threads)
    bad = [r for r in rows if not r["ok"]]
    summary = ", ".join(
        f"(s={r['size']}, k={r['kernel']}): {r['steps']} steps, |w - claimed limit| = "
        f"{r['max_abs_diff_to_claimed_limit']:.1e}, sigma_min = {r['smallest_singular_value']:.3g}"
        for r in rows
    )
    return Result.verdict(
        not bad,
        Evidence.NUMERIC,
        f"{summary} (tolerance {tol:g}, threshold {min_singular:g}).",
        cases=rows,
        counterexample=bad[0] if bad else None,
    )


def _train_cases(
    cases: Sequence[Case],
    seed: int,
    max_steps: int,
    tol: float,
    min_singular: float,
    images: dict[Case, list[list[int]]] | None,
    limit: str,
) -> list[dict[str, Any]]:
    import torch

    from symconv import conv_stack, network_matrix

    rng = np.random.default_rng(seed)
    rows = []
    for s, k in cases:
        img = (images or {}).get((s, k)) or _image(s, rng)
        exact = np.array([float(v) for v in learned_filter(img, k)])
        if limit == "identity":
            exact = np.zeros(k * k)
            exact[(k * k) // 2] = 1.0
        p = np.array([[float(v) for v in row] for row in patch_matrix(img, k)])
        lam = float(np.linalg.eigvalsh(p @ p.T).max())
        conv = torch.nn.Conv2d(1, 1, k, padding=(k - 1) // 2, bias=False, dtype=torch.float64)
        torch.nn.init.zeros_(conv.weight)
        x = torch.tensor(img, dtype=torch.float64).reshape(1, 1, s, s)
        lr = 1.0 / lam
        steps = 0
        for steps in range(1, max_steps + 1):  # noqa: B007
            conv.weight.grad = None
            loss = 0.5 * ((conv(x) - x) ** 2).sum()
            loss.backward()
            if float(conv.weight.grad.norm()) < 1e-12:
                break
            with torch.no_grad():  # plain gradient descent (torch.optim would pull in dynamo)
                conv.weight -= lr * conv.weight.grad
        w = conv.weight.detach().numpy().reshape(1, 1, k, k)
        a = network_matrix(conv_stack(s, 1, kernel=k), [w]).toarray()
        sv = np.linalg.svd(a, compute_uv=False)
        diff = float(np.abs(w.reshape(-1) - exact).max())
        rows.append(
            {
                "size": s,
                "kernel": k,
                "image": img,
                "steps": steps,
                "loss": float(loss.detach()),
                "claimed_limit": limit,
                "max_abs_diff_to_claimed_limit": diff,
                "rank": int((sv > min_singular).sum()),
                "smallest_singular_value": float(sv.min()),
                "ok": diff < tol and float(sv.min()) > min_singular,
            }
        )
    return rows
