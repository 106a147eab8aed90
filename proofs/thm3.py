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

from ._kit import FracMatrix, det, gram, matrix, matvec, norm2, rank, solve, transpose
from ._registry import register
from ._result import Evidence, Result

__all__ = [
    "check_exceptional_image",
    "check_rank",
    "generic_image",
    "learned_filter",
    "operator",
    "patch_matrix",
]

Case = tuple[int, int]

DEFAULT_CASES: tuple[Case, ...] = ((2, 3), (2, 5), (3, 3), (3, 5), (4, 3))
QUICK_CASES: tuple[Case, ...] = ((2, 3), (2, 5), (3, 5))


# --------------------------------------------------------------------------------------------
# the regression problem of Appendix C, built from symconv's (row, column, weight) table


@lru_cache(maxsize=64)
def _triples(size: int, kernel: int) -> tuple[tuple[int, int, int], ...]:
    from symconv import Conv2d, conv_entries

    r, c, wi = conv_entries(Conv2d(1, 1, kernel), (1, size, size))
    return tuple(zip(r.tolist(), c.tolist(), wi.tolist(), strict=True))


def patch_matrix(image: Sequence[Sequence[Any]], kernel: int) -> FracMatrix:
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
    y = solve(gram(p), x)
    if y is None:  # impossible: the identity filter solves P w = x
        raise ArithmeticError("P w = vec(x) has no solution")
    return matvec(transpose(p), y)


def operator(w: Sequence[Fraction], size: int, kernel: int) -> FracMatrix:
    """The s²×s² layer matrix ``A(w)`` of the filter ``w`` (Appendix D), exact."""
    a = [[Fraction(0)] * (size * size) for _ in range(size * size)]
    for out_pix, in_pix, widx in _triples(size, kernel):
        a[out_pix][in_pix] += w[widx]
    return a


def _operator_symbolic(w: Sequence[Fraction], size: int, kernel: int) -> FracMatrix:
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


def generic_image(size: int, rng: np.random.Generator) -> list[list[int]]:
    """A generic integer image, entries in [−9, 9], not all zero."""
    while True:
        img = rng.integers(-9, 10, size=(size, size)).tolist()
        if any(any(row) for row in img):
            return img


def _gd_iterates(p: FracMatrix, x: list[Fraction], steps: int) -> tuple[FracMatrix, Fraction]:
    """Exact gradient descent on ½‖P w − x‖² from w = 0, step η = 1/‖P‖_F² (< 2/λ_max)."""
    frob = sum((v * v for row in p for v in row), Fraction(0))
    eta = 1 / frob if frob else Fraction(1)  # P = 0 only for the zero image
    pt = transpose(p)
    w = [Fraction(0)] * len(pt)
    out = [w]
    for _ in range(steps):
        resid = [a - b for a, b in zip(matvec(p, w), x, strict=True)]
        grad = matvec(pt, resid)
        w = [a - eta * g for a, g in zip(w, grad, strict=True)]
        out.append(w)
    return out, eta


def _one_case(
    size: int, kernel: int, image: list[list[int]], claimed: int, gd_steps: int
) -> dict[str, Any]:
    p = patch_matrix(image, kernel)
    x = [Fraction(v) for row in image for v in row]
    w = learned_filter(image, kernel)
    a = operator(w, size, kernel)
    same = a == _operator_symbolic(w, size, kernel)
    rank_a = rank(a)
    reproduces = matvec(a, x) == x
    solves = matvec(p, w) == x
    rank_p = rank(p)
    in_row_space = rank([*p, w]) == rank_p
    iterates, eta = _gd_iterates(p, x, gd_steps)
    iter_in_row_space = all(rank([*p, it]) == rank_p for it in iterates[1:])
    errs = [norm2([a_ - b for a_, b in zip(it, w, strict=True)]) for it in iterates]
    # strictly closer at every step until w* is reached (s = 1: in one step), then stays
    decreasing = all(e2 < e1 or e1 == e2 == 0 for e1, e2 in pairwise(errs))
    return {
        "size": size,
        "kernel": kernel,
        "image": image,
        "parameters": kernel * kernel,
        "rank": rank_a,
        "claimed_rank": claimed,
        "rank_ok": rank_a == claimed,
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
    P and moves strictly closer to w* (until it reaches w*, which for s = 1 takes one step),
    which is why the limit is the minimum-norm filter.""",
    intuition=(
        "Memorizing x needs the rank-1 projection x x^T / x^T x, but a conv layer "
        "repeats one k×k filter at every pixel; the filter gradient descent finds (the "
        "minimum-norm one that reproduces x) gives a matrix of full rank s²: the layer "
        "acts like a blurred identity, not like a projection onto x."
    ),
    assumptions=(
        "one filter, kernel k, zero padding (k−1)/2, stride 1, no bias, one training image x",
        "gradient descent from zero on the squared error, which reaches the minimum-norm filter",
        "x generic: thm3.exceptional-image shows that some nonzero images are exceptions",
    ),
    evidence="exact",
    reference="Theorem 3; Appendix C; Appendix A (minimum-norm limit)",
    quick_params={"cases": QUICK_CASES},
    wrong=(
        {"cases": ((2, 5),), "claimed_rank": lambda s: 1},
        {"cases": ((2, 5),), "claimed_rank": lambda s: s * s + 1},
    ),
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
        img = (images or {}).get((s, k)) or generic_image(s, rng)
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
    bad = [
        {"size": r["size"], "kernel": r["kernel"], "image": r["image"], "rank": r["rank"],
         "claimed_rank": r["claimed_rank"], "failed": failed}
        for r in rows
        if (failed := [k for k in keys if not r[k]])
    ]  # fmt: skip
    summary = ", ".join(f"(s={r['size']}, k={r['kernel']}): rank {r['rank']}" for r in rows)
    detail = (
        f"exact ranks of the learned operators: {summary}; each equals the claimed rank, "
        "reproduces its image, and gradient descent stays in the row space of P."
    )
    if bad:
        b = bad[0]
        detail = (
            f"(s={b['size']}, k={b['kernel']}) image {b['image']}: learned operator has rank "
            f"{b['rank']}, claimed {b['claimed_rank']}; failed: {', '.join(b['failed'])}."
        )
    return Result.verdict(not bad, Evidence.EXACT, detail, counterexamples=bad, cases=rows)


# --------------------------------------------------------------------------------------------
# the theorem is generic: an exact rank-deficient example


def _det_of_learned(image: Sequence[Sequence[Any]], kernel: int) -> Fraction:
    s = len(image)
    return det(operator(learned_filter(image, kernel), s, kernel))


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
    intuition=(
        "The determinant of the learned matrix is a polynomial in the image x; it is "
        "not identically zero, but like any such polynomial it vanishes somewhere off x "
        "= 0."
    ),
    assumptions=("s = 3, k = 5, the minimum-norm filter w*(x) of Theorem 3",),
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
        return Result.verdict(
            False,
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
        or rank(matrix([[v for r in pos for v in r], [v for r in neg for v in r]])) < 2
    ):
        return Result.verdict(
            False,
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
    return Result.verdict(
        True,
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
