"""Theorem 1's limit, exactly: ``A(inf) = Q diag(I_r, 0) Q^T = X X^+`` for one training set.

With ``S = X X^T`` and ``r = rank S = dim span(X)``, gradient descent on loss (1) from
``A(0) = 0`` with ``0 < gamma < 1/lambda_1`` converges to the orthogonal projection onto
``span(X)``. :func:`min_norm_facts` computes it with sympy rationals (no eigenvectors) and
returns each of the theorem's conclusions as a boolean; ``thm1.min-norm`` (:mod:`proofs.thm1`)
checks them on the integer training sets.
"""

from __future__ import annotations

from typing import Any

__all__ = ["min_norm_facts"]


def _spectral_projector(s: Any) -> Any:
    """``Q diag(I_r, 0) Q^T`` for symmetric rational ``S``, exactly, without eigenvectors.

    ``S`` is diagonalisable, so its minimal polynomial ``m`` is the square-free part of its
    characteristic polynomial. When 0 is an eigenvalue, ``m(x) = x q(x)`` with ``q(0) != 0``
    and ``q(lambda) = 0`` for every nonzero eigenvalue; hence ``q(S) / q(0) = Q diag(0, I) Q^T``
    (the projector onto the kernel) and ``I - q(S)/q(0)`` is the paper's
    ``Q diag(I_r, 0) Q^T``. All of it is rational arithmetic.
    """
    import sympy as sp

    d = s.shape[0]
    x = sp.Symbol("x")
    char = s.charpoly(x).as_expr()
    m = sp.Poly(sp.quo(char, sp.gcd(char, sp.diff(char, x))), x)
    if m.eval(0) != 0:  # S invertible: the projector onto span(X) = R^d is I
        return sp.eye(d)
    q = sp.Poly(sp.quo(m.as_expr(), x), x)
    q_of_s = sp.zeros(d, d)
    power = sp.eye(d)
    for coeff in reversed(q.all_coeffs()):  # lowest degree first
        q_of_s += coeff * power
        power = power * s
    return sp.eye(d) - q_of_s / q.eval(0)


def min_norm_facts(
    examples: tuple[tuple[int, ...], ...] | list[list[int]], *, claimed_rank_offset: int = 0
) -> dict[str, Any]:
    """The exact facts of Theorem 1 for one integer training set (rows are the ``x(i)``).

    Returns booleans (each must be True for the theorem) and the ranks involved.
    """
    import sympy as sp

    x = sp.Matrix(examples).T  # d x n, columns x(i)
    d = x.shape[0]
    r = x.rank()
    s = x * x.T
    proj = sp.simplify(x * x.pinv()) if r else sp.zeros(d, d)  # X X^+ (minimum norm)
    spec = _spectral_projector(s)  # Q diag(I_r, 0) Q^T (the paper's formula)
    kernel = sp.eye(d) - spec
    gamma = sp.Rational(1, int(s.trace()) + 1)  # < 1/lambda_1
    m = sp.eye(d) - gamma * s
    a_t = [sp.eye(d) - m**t for t in (1, 2, 3)]
    return {
        "d": d,
        "n": x.shape[1],
        "dim_span": r,
        "rank_A_inf": proj.rank(),
        "formula_equals_pinv": spec == proj,
        "idempotent": proj * proj == proj,
        "symmetric": proj.T == proj,
        "examples_eigenvalue_1": proj * x == x,
        "columns_in_span": x.row_join(proj).rank() == r,
        "rank_claim": proj.rank() == r + claimed_rank_offset,
        # A(t) = spec - (I - gamma S)^t spec: the part on ker S never moves, and the part on
        # span(X) is damped by factors 1 - gamma lambda in [0, 1) (thm1.step-size)
        "kernel_fixed": m * kernel == kernel and s * kernel == sp.zeros(d, d),
        "iterates_split": all(a == spec - (m ** (t + 1)) * spec for t, a in enumerate(a_t)),
    }
