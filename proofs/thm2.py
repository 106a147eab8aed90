"""Theorem 2, its Corollary and Appendix B: nonlinear single layer autoencoders memorize.

Setting (paper, Section 2.2). Examples ``x(1), ..., x(n)`` in ``R^d`` (``n < d``) are the columns
of ``X``; ``phi`` acts entry-wise, ``x_j(i)`` lies in the range of ``phi``, and ``A`` is trained
by gradient descent from ``A(0) = 0`` on

    L(A) = 1/2 * sum_i (x(i) - phi(A x(i)))^T (x(i) - phi(A x(i))).          (2)

**Assumption 1**: (a) ``0 < x_j(i) < 1``; (b) for each ``j`` all ``x_j(i)`` lie on one side
of ``phi(0)``; (c) on the interval between 0 and ``phi^-1(x'_j)`` (``x'_j`` the target of
largest preimage), ``phi`` is strictly convex or concave and monotone, as one of four cases.

**Theorem 2**: with the adaptive step of Appendix B, gradient descent converges to ``A(inf)``
with ``A(inf) x(i) = phi^-1(x(i))``; from ``A(0) = 0`` it is the minimum norm solution

    A(inf) = phi^-1(X) X^+.

**Corollary**: ``rank A(inf) = dim span(X)``; each ``x(i)`` is a phi-eigenvector with
phi-eigenvalue 1 (``phi(A x(i)) = x(i)``); ``phi(A(inf) y)`` lies in the phi-span of ``X``
(``A(inf) y`` in ``span(phi^-1(X))``) for every ``y``.

Checks: ``thm2.assumption-c`` (sigmoid and tanh satisfy 1(c)), ``thm2.chord-bound`` (the
chord bound of Appendix B, certified with interval arithmetic), ``thm2.row-span`` (the gradient
of (2) keeps the rows of ``A`` in ``span(X)^T``), ``thm2.linearization`` (the chord update is
gradient descent on ``B x(i) = phi^-1(x(i))``), ``thm2.conclusion`` (gradient descent reaches
``phi^-1(X) X^+``, numerically), ``thm2.corollary`` and ``thm2.corollary-rank`` (the
Corollary exactly on instances, and the precise form of its rank statement).
"""

from __future__ import annotations

import functools
from fractions import Fraction
from typing import Any

from ._registry import register
from ._result import Evidence, Result, Status
from ._thm_common import fraction_model, merge
from ._z3 import prove, verdict_result

__all__ = [
    "ACTIVATIONS",
    "COROLLARY_INSTANCES",
    "certify_chord",
    "check_assumption_c",
    "check_chord_bound",
    "check_conclusion",
    "check_corollary",
    "check_corollary_rank",
    "check_linearization",
    "check_row_span",
    "gradient_descent",
]

#: Activations checked, with phi(0).
ACTIVATIONS: dict[str, Fraction] = {"sigmoid": Fraction(1, 2), "tanh": Fraction(0)}


# --------------------------------------------------------------------------------------------
# thm2.assumption-c


def _derivative_identities() -> list[Result]:
    """sympy: sigma' = s(1-s), sigma'' = s(1-s)(1-2s); tanh' = 1-t^2, tanh'' = -2t(1-t^2).

    Each is an identity of :mod:`proofs._identities` (exported by ``verify certificates``).
    """
    from ._identities import evaluate, get

    parts = []
    for name in ("thm2.sigmoid-d1", "thm2.sigmoid-d2", "thm2.tanh-d1", "thm2.tanh-d2"):
        zero = evaluate(name)[2] is None
        text = get(name).statement
        parts.append(Result.verdict(zero, Evidence.PROOF, f"{text} (difference simplifies to 0)"))
    return parts


#: (activation, side of phi(0), case of Assumption 1(c), open range of the value v = phi(z)
#: over the interval between phi^-1(x') and 0, first and second derivative as functions of v,
#: the claimed sign of phi'').
def _cases(v: Any) -> list[tuple[str, str, str, tuple[Fraction, Fraction], Any, Any, int]]:
    half = Fraction(1, 2)
    return [
        ("sigmoid", "x < 1/2", "(3) convex, increasing on [phi^-1(x'), 0]",
         (Fraction(0), half), v * (1 - v), v * (1 - v) * (1 - 2 * v), +1),
        ("sigmoid", "x > 1/2", "(2) concave, increasing on [0, phi^-1(x')]",
         (half, Fraction(1)), v * (1 - v), v * (1 - v) * (1 - 2 * v), -1),
        ("tanh", "x < 0", "(3) convex, increasing on [phi^-1(x'), 0]",
         (Fraction(-1), Fraction(0)), 1 - v * v, -2 * v * (1 - v * v), +1),
        ("tanh", "x > 0", "(2) concave, increasing on [0, phi^-1(x')]",
         (Fraction(0), Fraction(1)), 1 - v * v, -2 * v * (1 - v * v), -1),
    ]  # fmt: skip


@register(
    "thm2.assumption-c",
    title="Sigmoid and tanh satisfy Assumption 1(c)",
    statement="""Assumption 1(c) holds for the sigmoid and tanh: on the interval between 0 and
    the preimage phi^-1(x'_j) of the target, phi is strictly convex and increasing when the
    targets lie below phi(0) (preimage < 0, case 3) and strictly concave and increasing when
    they lie above phi(0) (preimage > 0, case 2).""",
    method="""sympy derives the derivatives and simplifies sigma' - s(1 - s),
    sigma'' - s(1 - s)(1 - 2s), tanh' - (1 - t^2) and tanh'' + 2t(1 - t^2) to zero, where s and t
    are the function values. Both functions map R increasingly onto their range, so z in
    the interval corresponds to the value v = phi(z) in an interval of the range, and the
    sign conditions become polynomial inequalities in v, which z3 proves for all real v:
    for the sigmoid, s(1 - s) > 0 and s(1 - s)(1 - 2s) > 0 for 0 < s < 1/2 (convex increasing;
    case 3) and s(1 - s)(1 - 2s) < 0 for 1/2 < s < 1 (concave increasing; case 2); for tanh
    the same with t in (-1, 0) and (0, 1). phi'' vanishes only at z = 0, an endpoint, which
    does not spoil strict convexity on the closed interval. Claiming the opposite
    convexity gives a z3 model, re-checked with Fractions.""",
    evidence="proof",
    reference="Assumption 1(c); Section 2.2",
    wrong=({"flip_convexity": True},),
)
def check_assumption_c(
    *, quick: bool = False, flip_convexity: bool = False, timeout_ms: int = 10_000
) -> Result:
    """Assumption 1(c) for sigmoid and tanh; ``flip_convexity`` claims the opposite sign."""
    import z3

    parts = _derivative_identities()
    v = z3.Real("v")
    counterexample: dict[str, Any] | None = None
    for name, side, case, (lo, hi), d1, d2, sign in _cases(v):
        claimed = -sign if flip_convexity else sign
        claim = z3.And(d1 > 0, d2 * claimed > 0)
        what = (
            f"{name}, {side}: phi' > 0 and phi'' {'>' if claimed > 0 else '<'} 0 for "
            f"phi(z) in ({lo}, {hi})"
        )
        verdict = prove(claim, assumptions=(v > lo, v < hi), timeout_ms=timeout_ms)
        part = verdict_result(verdict, what + (f" -> case {case}" if claimed == sign else ""))
        if verdict.status == Status.FAIL:
            model = fraction_model(verdict.model)
            if model is None or "v" not in model:
                part = Result.unknown(
                    Evidence.PROOF, f"{what}: z3 model {verdict.model} not rational"
                )
            else:
                val = model["v"]
                d1v, d2v = _eval_poly(name, val)  # reported; prove() re-checked the claim
                if counterexample is None:
                    counterexample = {"activation": name, "side": side, "v": str(val),
                                      "phi_prime": str(d1v), "phi_second": str(d2v)}  # fmt: skip
        parts.append(part)
    extra = {"counterexample": counterexample} if counterexample else {}
    return merge(
        Evidence.PROOF,
        parts,
        "proved: sigmoid and tanh are strictly convex increasing between a negative preimage "
        "and 0 (case 3) and strictly concave increasing between 0 and a positive preimage "
        "(case 2)",
        "the claimed convexity does not hold",
        **extra,
    )


def _eval_poly(name: str, v: Fraction) -> tuple[Fraction, Fraction]:
    """phi' and phi'' in terms of the value v = phi(z), exactly."""
    if name == "sigmoid":
        return v * (1 - v), v * (1 - v) * (1 - 2 * v)
    return 1 - v * v, -2 * v * (1 - v * v)


# --------------------------------------------------------------------------------------------
# thm2.chord-bound

#: Targets x (exact rationals): sigmoid 0.05, 0.10, ..., 0.95 without 1/2; tanh +-0.1, ..., +-0.9.
CHORD_TARGETS: dict[str, tuple[Fraction, ...]] = {
    "sigmoid": tuple(Fraction(k, 20) for k in range(1, 20) if k != 10),
    "tanh": tuple(Fraction(k, 10) for k in range(-9, 10) if k != 0),
}
_QUICK_CHORD_TARGETS: dict[str, tuple[Fraction, ...]] = {
    "sigmoid": (Fraction(1, 20), Fraction(1, 4), Fraction(9, 20), Fraction(11, 20),
                Fraction(3, 4), Fraction(19, 20)),
    "tanh": (Fraction(-9, 10), Fraction(-1, 2), Fraction(-1, 10), Fraction(1, 10),
             Fraction(1, 2), Fraction(9, 10)),
}  # fmt: skip


def _iv_rational(q: Fraction) -> Any:
    from mpmath import iv

    return iv.mpf(q.numerator) / q.denominator


def _iv_hull(a: Fraction, b: Fraction) -> Any:
    from mpmath import iv

    return iv.mpf([_iv_rational(a).a, _iv_rational(b).b])


def _phi_iv(name: str, z: Any) -> Any:
    """phi on an interval, written with one occurrence of z (so the enclosure is tight)."""
    from mpmath import iv

    if name == "sigmoid":
        return 1 / (1 + iv.exp(-z))
    return 1 - 2 / (iv.exp(2 * z) + 1)


def _dphi_iv(name: str, z: Any) -> Any:
    """phi' on an interval, as a positive expression: 1/(e^(z/2)+e^(-z/2))^2, 4/(e^z+e^-z)^2."""
    from mpmath import iv

    if name == "sigmoid":
        return 1 / (iv.exp(z / 2) + iv.exp(-z / 2)) ** 2
    return 4 / (iv.exp(z) + iv.exp(-z)) ** 2


def certify_chord(
    name: str, x: Fraction, *, reverse: bool = False, max_pieces: int = 2000
) -> tuple[Status, dict[str, Any]]:
    """Certify the chord bound of Appendix B for one target ``x`` with interval arithmetic.

    With ``p = phi^-1(x)`` and ``z = u p`` (``u`` in [0, 1]), the chord from ``(0, phi(0))`` to
    ``(p, x)`` is ``phi(0) + (x - phi(0)) u``. Let ``g(u) = sigma (chord - phi(u p))`` with
    ``sigma = +1`` when phi is convex there (chord above phi) and ``-1`` when concave
    (``reverse`` flips ``sigma``: the wrong claim). The claim is ``g > 0`` on ``(0, 1)``.

    ``g(0) = 0`` and ``g(1) = 0`` exactly. A piece ``[a, b]`` is certified when: ``a = 0`` and
    ``g' > 0`` on it (g rises from 0), or ``b = 1`` and ``g' < 0`` on it (g falls to 0), or
    it is interior and the mean value enclosure ``g(m) + g'([a, b]) ([a, b] - m)`` is > 0.
    Others are halved; past ``max_pieces`` the answer is UNKNOWN. Before that, ``g(1/2)`` is
    enclosed: if it is certainly < 0 the claim is false there (FAIL, with the point).
    """
    from mpmath import iv

    phi0 = ACTIVATIONS[name]
    xi = _iv_rational(x)
    if name == "sigmoid":
        p = iv.log(xi / (1 - xi))
    else:
        p = iv.log((1 + xi) / (1 - xi)) / 2
    convex = x < phi0  # Assumption 1(c): case 3 below phi(0), case 2 above (thm2.assumption-c)
    sigma = (1 if convex else -1) * (-1 if reverse else 1)
    slope = xi - _iv_rational(phi0)

    def g(u: Any) -> Any:
        return sigma * (_iv_rational(phi0) + slope * u - _phi_iv(name, u * p))

    def dg(u: Any) -> Any:
        return sigma * (slope - p * _dphi_iv(name, u * p))

    info: dict[str, Any] = {
        "activation": name,
        "x": str(x),
        "preimage": [float(p.a), float(p.b)],
        "case": "convex, phi below the chord" if convex else "concave, phi above the chord",
    }
    mid = g(_iv_rational(Fraction(1, 2)))
    if mid.b < 0:
        z = p / 2
        info.update(
            z=[float(z.a), float(z.b)],
            phi_z=[float(_phi_iv(name, z).a), float(_phi_iv(name, z).b)],
            chord_minus_phi=sorted([float(sigma * mid.a), float(sigma * mid.b)]),
        )
        return Status.FAIL, info
    stack = [(Fraction(0), Fraction(1))]
    pieces = 0
    while stack:
        a, b = stack.pop()
        pieces += 1
        if pieces > max_pieces:
            info["pieces"] = pieces
            return Status.UNKNOWN, info
        box = _iv_hull(a, b)
        slope_box = dg(box)
        if a == 0 and slope_box.a > 0:
            continue
        if b == 1 and slope_box.b < 0:
            continue
        if a > 0 and b < 1:
            m = _iv_rational((a + b) / 2)
            if (g(m) + slope_box * (box - m)).a > 0:
                continue
        stack += [(a, (a + b) / 2), ((a + b) / 2, b)]
    info["pieces"] = pieces
    return Status.PASS, info


@register(
    "thm2.chord-bound",
    title="phi lies on one side of the chord from (0, phi(0)) to (phi^-1(x), x)",
    statement="""Appendix B bounds phi by the line segment joining (0, phi(0)) and
    (phi^-1(x), x): where phi is strictly convex on the interval between 0 and phi^-1(x), phi
    lies strictly below that chord inside the interval; where it is strictly concave, strictly
    above. For the sigmoid this is the convex case for targets x < 1/2 and the concave case for
    x > 1/2; for tanh, x < 0 and x > 0.""",
    method="""Certified with interval arithmetic (mpmath.iv, outward rounding) for every listed
    target: sigmoid x = 0.05, 0.10, ..., 0.95 (x != 1/2) and tanh x = +-0.1, ..., +-0.9, each
    over the whole interval. Writing z = u phi^-1(x) with u in [0, 1], the signed gap g(u)
    between chord and phi is 0 at both ends exactly. The interval is cut into pieces; an
    interior piece is certified when an interval enclosure of g over it (mean value form) is
    strictly positive. Near the ends g tends to 0 and no enclosure can be positive, so
    there the derivative is used instead: on a piece starting at u = 0, g' > 0 (certified)
    means g rises from g(0) = 0; on a piece ending at u = 1, g' < 0 means g falls to
    g(1) = 0. A piece that cannot be certified is halved; if too many pieces are needed the
    answer is unknown, never pass. This certifies the listed targets only (evidence exact),
    the general statement follows from convexity (thm2.assumption-c). The reversed inequality
    fails at u = 1/2 with a certified enclosure.""",
    evidence="exact",
    reference="Appendix B",
    wrong=({"reverse": True},),
)
def check_chord_bound(
    *, quick: bool = False, reverse: bool = False, max_pieces: int = 2000
) -> Result:
    """Appendix B's chord bound on the listed targets; ``reverse`` claims the opposite side."""
    targets = _QUICK_CHORD_TARGETS if quick else CHORD_TARGETS
    parts = []
    counterexample = None
    total = 0
    for name, xs in targets.items():
        for x in xs:
            status, info = certify_chord(name, x, reverse=reverse, max_pieces=max_pieces)
            total += info.get("pieces", 0)
            side = "above" if (x < ACTIVATIONS[name]) != reverse else "below"
            text = f"{name}, x = {x}: chord {side} phi"
            if status == Status.PASS:
                parts.append(Result.passed(Evidence.EXACT, f"{text}, {info['pieces']} pieces"))
            elif status == Status.FAIL:
                parts.append(Result.failed(Evidence.EXACT, f"{text} fails at z = phi^-1(x)/2"))
                counterexample = counterexample or info
            else:
                parts.append(Result.unknown(Evidence.EXACT, f"{text}: not certified"))
    n = sum(len(xs) for xs in targets.values())
    extra = {"counterexample": counterexample} if counterexample else {}
    return merge(
        Evidence.EXACT,
        parts,
        f"certified with interval arithmetic for {n} targets ({total} pieces): phi is below "
        "the chord in the convex case and above it in the concave case, on the whole interval",
        "the chord bound is not certified",
        targets={k: [str(x) for x in v] for k, v in targets.items()},
        **extra,
    )


# --------------------------------------------------------------------------------------------
# thm2.row-span


@register(
    "thm2.row-span",
    title="The gradient of (2) is sum_i g_i x(i)^T: rows of A stay in span(X)^T",
    statement="""The gradient of loss (2) with respect to A is
    dL/dA = -sum_i diag(phi'(A x(i))) (x(i) - phi(A x(i))) x(i)^T, a sum of matrices whose rows
    are multiples of the x(i)^T. Hence gradient descent from A(0) = 0, with a constant step or
    with the per-example adaptive steps of Appendix B, keeps every row of A in
    span{x(1)^T, ..., x(n)^T}; this is why the limit is the minimum norm solution.""",
    method="""sympy differentiates loss (2) entry by entry with symbolic entries of A (3 x 3)
    and of two examples x(1), x(2) in R^3, and an undefined function phi, and the difference
    to the formula above simplifies to 0 in every entry. The formula is a sum over examples
    of (a column vector) times x(i)^T, so each row of the gradient is a combination of the
    x(i)^T; a step of gradient descent (constant or per-example and per-row steps, which only
    rescale the coefficients) adds such a matrix, and by induction from A(0) = 0 the rows of
    every iterate stay in span{x(i)^T}. The identity is checked at these sizes only (d = 3,
    n = 2, all entries symbolic), hence the level exact: the computation's shape does not
    depend on d or n, but no proof for symbolic sizes is machine-checked.""",
    evidence="exact",
    reference="Theorem 2; Appendix B",
    wrong=({"omit_phi_prime": True},),
)
def check_row_span(
    *, quick: bool = False, omit_phi_prime: bool = False, d: int = 3, n: int = 2
) -> Result:
    """dL/dA for (2) vs ``-sum_i diag(phi'(A x(i)))(x(i) - phi(A x(i))) x(i)^T``."""
    import sympy as sp

    phi = sp.Function("phi")
    w = sp.Symbol("w")
    a = sp.Matrix(d, d, lambda k, c: sp.Symbol(f"a{k + 1}{c + 1}"))
    xs = [sp.Matrix(d, 1, lambda k, _, i=i: sp.Symbol(f"x{k + 1}_{i + 1}")) for i in range(n)]
    loss = sum(((x - (a * x).applyfunc(phi)).T * (x - (a * x).applyfunc(phi)))[0] for x in xs)
    loss = loss / 2
    grad = sp.Matrix(d, d, lambda k, c: sp.diff(loss, a[k, c]))

    def dphi(expr: Any) -> Any:
        return 1 if omit_phi_prime else sp.diff(phi(w), w).subs(w, expr)

    formula = sp.zeros(d, d)
    for x in xs:
        z = a * x
        formula -= sp.diag(*[dphi(z[k]) for k in range(d)]) * (x - z.applyfunc(phi)) * x.T
    diff = (grad - formula).applyfunc(lambda e: sp.expand(e.doit()))
    bad = [(k, c) for k in range(d) for c in range(d) if diff[k, c] != 0]
    if bad:
        k, c = bad[0]
        return Result.failed(
            Evidence.EXACT,
            f"dL/dA differs from the claimed formula in {len(bad)} of {d * d} entries",
            counterexample={"entry": [k + 1, c + 1], "gradient": str(grad[k, c]),
                            "formula": str(formula[k, c]), "difference": str(diff[k, c])},
        )  # fmt: skip
    return Result.passed(
        Evidence.EXACT,
        f"dL/dA = -sum_i diag(phi'(A x(i)))(x(i) - phi(A x(i))) x(i)^T in all {d * d} entries "
        f"(d = {d}, n = {n}, phi undefined): every gradient step adds rows in span{{x(i)^T}}",
    )


# --------------------------------------------------------------------------------------------
# thm2.linearization


@register(
    "thm2.linearization",
    title="Along the chord, the adaptive step is gradient descent on B x(i) = phi^-1(x(i))",
    statement="""Appendix B replaces phi(B x) by the chord phi(0) - s_i B x through (0, phi(0)) and
    (phi^-1(x_1(i)), x_1(i)) and takes per-example steps gamma_i = gamma / s_i; then
    b_j <- b_j + sum_i gamma_i x_j(i) (-s_i B x(i) + phi(0) - x_1(i)) is the gradient descent
    update b_j <- b_j - gamma sum_i x_j(i) (B x(i) - phi^-1(x_1(i))) of the linear problem
    B x(i) = phi^-1(x(i)). This holds with s_i = (phi(0) - x_1(i)) / phi^-1(x_1(i)); the paper
    prints s_i = -(phi(0) - x_1(i)) / phi^-1(x_1(i)), whose sign does not match its own
    update (it would make the chord pass through (p, 2 phi(0) - x) instead).""",
    method="""sympy, with symbols for b_j, x_j, x_1, phi(0), the preimage p (nonzero) and
    the value B x: the chord update with gamma_i = gamma / s_i minus the linear gradient
    descent update simplifies to 0 for s = (phi(0) - x_1)/p, and the line phi(0) - s z
    passes through (p, x_1). With the sign as printed in the paper the difference is not
    zero, and the check, asked to use that sign, fails with that difference.""",
    evidence="proof",
    reference="Appendix B",
    wrong=({"paper_sign": True},),
)
def check_linearization(*, quick: bool = False, paper_sign: bool = False) -> Result:
    """One example's term of the chord update vs linear gradient descent (Appendix B)."""
    import sympy as sp

    b, xj, x1, phi0, gamma, bx = sp.symbols("b_j x_j x_1 phi0 gamma Bx", real=True)
    p = sp.Symbol("p", real=True, nonzero=True)
    s = (-1 if paper_sign else 1) * (phi0 - x1) / p
    chord_update = b + (gamma / s) * xj * (-s * bx + phi0 - x1)
    linear_update = b - gamma * xj * (bx - p)
    difference = sp.simplify(chord_update - linear_update)
    through = sp.simplify((phi0 - s * p) - x1)
    holds = difference == 0 and through == 0
    data: dict[str, Any] = {"s": str(s)}
    if not holds:
        data["counterexample"] = {"update_difference": str(difference),
                                  "chord_at_p_minus_x1": str(through)}  # fmt: skip
    return Result.verdict(
        holds,
        Evidence.PROOF,
        f"with s_i = {s}: chord update - linear GD update = {difference}, "
        f"chord(p) - x_1 = {through}",
        **data,
    )


# --------------------------------------------------------------------------------------------
# thm2.conclusion (numeric)

#: Seeded training sets for the numeric check: (name, d, n, seed); entries uniform in
#: (0.05, 0.45), so Assumption 1 (a), (b) hold with every target below sigmoid(0) = 1/2.
CONCLUSION_INSTANCES: tuple[tuple[str, int, int, int], ...] = (
    ("d4-n2-seed1", 4, 2, 1),
    ("d6-n3-seed0", 6, 3, 0),
)

_TOL_FIT = 1e-10  # max |phi(A x(i)) - x(i)|
_TOL_A = 1e-8  # max |A - phi^-1(X) X^+|
_TOL_SPAN = 1e-9  # rows of A off span(X)^T; A y off span(phi^-1(X)) (relative)
_RANK_RTOL = 1e-8  # singular values below this fraction of the largest count as zero


def _sigmoid(z: Any) -> Any:
    import numpy as np

    return 1.0 / (1.0 + np.exp(-z))


def _logit(x: Any) -> Any:
    import numpy as np

    return np.log(x / (1.0 - x))


def _training_set(d: int, n: int, seed: int) -> Any:
    import numpy as np

    return np.random.default_rng(seed).uniform(0.05, 0.45, size=(d, n))


def gradient_descent(
    x: Any,
    *,
    schedule: str,
    gamma: float,
    a0: Any = None,
    max_steps: int = 100_000,
    tol: float = 1e-12,
) -> tuple[Any, int]:
    """Gradient descent on loss (2) with phi = sigmoid; returns (A, steps taken).

    ``schedule="constant"``: ``A <- A + gamma sum_i (phi'(A x(i)) * (x(i) - phi(A x(i)))) x(i)^T``.
    ``schedule="adaptive"`` (Appendix B): the step for row k and example i is
    ``gamma / (c_ki phi'(A_k x(i)))`` with ``c_ki`` the slope of the chord from (0, phi(0)) to
    ``(phi^-1(x_k(i)), x_k(i))``, so the update is ``A_k <- A_k + gamma sum_i
    (x_k(i) - phi(A_k x(i))) / c_ki x(i)^T`` (the paper's ``gamma_i = gamma / s_i``, sign
    as in thm2.linearization). Stops when ``max |phi(A X) - X| < tol``.
    """
    import numpy as np

    d = x.shape[0]
    a = np.zeros((d, d)) if a0 is None else np.array(a0, dtype=float)
    slope = (x - 0.5) / _logit(x)
    for step in range(max_steps):
        out = _sigmoid(a @ x)
        resid = x - out
        if np.abs(resid).max() < tol:
            return a, step
        if schedule == "adaptive":
            a = a + gamma * (resid / slope) @ x.T
        elif schedule == "constant":
            a = a + gamma * (out * (1.0 - out) * resid) @ x.T
        else:
            raise ValueError(f"schedule must be 'adaptive' or 'constant', got {schedule!r}")
    return a, max_steps


def _conclusion_run(x: Any, a: Any, steps: int, max_steps: int, seed: int) -> dict[str, Any]:
    import numpy as np

    d, n = x.shape
    pinv = np.linalg.pinv(x)
    target = _logit(x) @ pinv  # phi^-1(X) X^+, the minimum norm solution of A X = phi^-1(X)
    ys = np.random.default_rng(seed + 1000).standard_normal((d, 5))
    ay = a @ ys
    pre = _logit(x)
    off_span = ay - pre @ np.linalg.lstsq(pre, ay, rcond=None)[0]
    sv = np.linalg.svd(a, compute_uv=False)
    return {
        "steps": steps,
        "converged": steps < max_steps,
        "fit": float(np.abs(_sigmoid(a @ x) - x).max()),
        "dist_min_norm": float(np.abs(a - target).max()),
        "rows_off_span": float(np.abs(a @ (np.eye(d) - x @ pinv)).max()),
        "phi_span_residual": float(np.abs(off_span).max() / max(np.abs(ay).max(), 1e-300)),
        "rank_A": int((sv > _RANK_RTOL * sv[0]).sum()),
        "dim_span": int(np.linalg.matrix_rank(x)),
        "n": n,
    }


@register(
    "thm2.conclusion",
    title="Gradient descent on (2) from A=0 reaches phi^-1(X) X^+ (sigmoid)",
    statement="""Theorem 2: for n < d and data satisfying Assumption 1, gradient descent on (2)
    from A(0) = 0 with the adaptive step of Appendix B converges to A(inf) with
    A(inf) x(i) = phi^-1(x(i)), and (as the limit of the linearised problem) to its minimum
    norm solution phi^-1(X) X^+. The paper conjectures the same for a constant step. The
    Corollary's conclusions follow: phi(A x(i)) = x(i) (phi-eigenvectors with phi-eigenvalue 1),
    phi(A y) in the phi-span of X (A y in span(phi^-1(X))), rank A = dim span(X).""",
    method=f"""Numerically (numpy float64), phi = sigmoid, on seeded training sets with
    entries uniform in (0.05, 0.45) (d = 4, n = 2 and d = 6, n = 3; quick: the first). From
    A = 0 we run: the adaptive step of Appendix B with gamma just under the paper's bound
    1/(n L d) (first set only: it is slow), the adaptive step with gamma = 1/lambda_1(S), and
    a constant step 16/lambda_1(S) (16 = 1/max(sigmoid')^2). Each run stops when
    max |phi(A X) - X| < 1e-12. Tolerances: fit {_TOL_FIT:g}, max |A - phi^-1(X) X^+| <=
    {_TOL_A:g}, rows of A off span(X)^T and A y off span(phi^-1(X)) (five random y, relative)
    <= {_TOL_SPAN:g}, rank counted from singular values above {_RANK_RTOL:g} times the
    largest. A run that does not converge within its step budget gives unknown. Started
    from a random nonzero A(0) instead, the run still fits the data but lands off
    the minimum norm solution, and the check fails.""",
    evidence="numeric",
    reference="Theorem 2; Corollary; Appendix B",
    wrong=({"init_scale": 0.1},),
)
def check_conclusion(*, quick: bool = False, init_scale: float = 0.0, seed: int = 0) -> Result:
    """Theorem 2 numerically; ``init_scale > 0`` starts from a random nonzero A(0)."""
    import numpy as np

    instances = CONCLUSION_INSTANCES[:1] if quick else CONCLUSION_INSTANCES
    parts = []
    runs: list[dict[str, Any]] = []
    counterexample = None
    for idx, (name, d, n, data_seed) in enumerate(instances):
        x = _training_set(d, n, data_seed)
        lam1 = float(np.linalg.eigvalsh(x @ x.T)[-1])
        big_l = float((x[:, None, :] / x[None, :, :]).max())  # max_i,j,k x_j(i) / x_k(i)
        schedules = [("adaptive", 1.0 / lam1, 20_000), ("constant", 16.0 / lam1, 60_000)]
        if idx == 0:
            schedules.insert(0, ("adaptive-paper", 0.99 / (n * big_l * d), 60_000))
        a0 = None
        if init_scale:
            a0 = init_scale * np.random.default_rng(seed).standard_normal((d, d))
        for label, gamma, budget in schedules:
            sched = "constant" if label == "constant" else "adaptive"
            a, steps = gradient_descent(x, schedule=sched, gamma=gamma, a0=a0, max_steps=budget)
            run = {"instance": name, "schedule": label, "gamma": gamma,
                   **_conclusion_run(x, a, steps, budget, data_seed)}  # fmt: skip
            runs.append(run)
            text = (
                f"{name}, {label} step {gamma:.3g}: {steps} steps, fit {run['fit']:.1e}, "
                f"|A - phi^-1(X) X^+| {run['dist_min_norm']:.1e}, rank {run['rank_A']} "
                f"(dim span {run['dim_span']})"
            )
            if not run["converged"] or run["fit"] > _TOL_FIT:
                parts.append(Result.unknown(Evidence.NUMERIC, f"{text}: did not converge"))
                continue
            ok = (
                run["dist_min_norm"] <= _TOL_A
                and run["rows_off_span"] <= _TOL_SPAN
                and run["phi_span_residual"] <= _TOL_SPAN
                and run["rank_A"] == run["dim_span"]
            )
            parts.append(Result.verdict(ok, Evidence.NUMERIC, text))
            if not ok and counterexample is None:
                counterexample = run
    extra = {"counterexample": counterexample} if counterexample else {}
    return merge(
        Evidence.NUMERIC,
        parts,
        f"{len(runs)} runs from A = 0 (adaptive and constant steps) fit the data to "
        f"{_TOL_FIT:g} and agree with phi^-1(X) X^+ to {_TOL_A:g}; A y stays in "
        "span(phi^-1(X)) and rank A = dim span(X)",
        "Theorem 2's conclusion is not reproduced",
        runs=runs,
        tolerances={"fit": _TOL_FIT, "min_norm": _TOL_A, "span": _TOL_SPAN,
                    "rank_rtol": _RANK_RTOL},
        **extra,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# thm2.corollary, thm2.corollary-rank (exact)

#: Training sets given by their preimages v(i) = phi^-1(x(i)) (integer rows), phi = sigmoid,
#: so x_j(i) = 1/(1 + e^(-v_j(i))). Each coordinate j keeps one sign across examples
#: (Assumption 1(b)); sigmoid values lie in (0, 1) (Assumption 1(a)).
COROLLARY_INSTANCES: tuple[tuple[str, tuple[tuple[int, ...], ...]], ...] = (
    ("d3-n1", ((-1, -2, -3),)),
    ("d4-n2", ((-1, -2, -1, -3), (-2, -1, -3, -1))),
    ("d4-n2-above-half", ((1, 2, 1, 3), (2, 1, 3, 1))),
    ("d4-n2-mixed-sides", ((-1, 2, -1, 3), (-2, 1, -3, 1))),
    ("d5-n3", ((-1, -2, -1, -2, -2), (-2, -1, -2, -1, -1), (-1, -1, -2, -2, -1))),
    # phi^-1(x(2)) = 2 phi^-1(x(1)): the preimages are collinear, the examples are not
    ("d3-n2-collinear-preimages", ((-1, -2, -3), (-2, -4, -6))),
)
_GENERIC = tuple(name for name, _ in COROLLARY_INSTANCES if "collinear" not in name)
_QUICK_GENERIC = ("d3-n1", "d4-n2", "d4-n2-mixed-sides")


@functools.lru_cache(maxsize=32)
def corollary_facts(preimages: tuple[tuple[int, ...], ...], a_inf_scale: int = 1) -> dict[str, Any]:
    """The Corollary's quantities for ``X = sigmoid(V)``, exactly.

    Entries ``1/(1 + e^(-v))`` are rational functions of ``E = e``. Computations run in the
    field ``Q(E)``; since e is transcendental (Lindemann), a rational function with rational
    coefficients vanishes at ``E = e`` only if it is identically zero, so ranks and
    identities over ``Q(E)`` are exactly those of the real matrices. ``A(inf) = V X^+`` is
    the minimum norm solution of ``A x(i) = v(i)`` (Theorem 2 with Appendix A).

    Every fact is evaluated on the matrix ``A(inf)`` itself (``a_inf_scale`` ≠ 1 scales it: a
    wrong variant that must break ``A(inf) X = V``).
    """
    import sympy as sp
    from sympy.polys.matrices import DomainMatrix

    e = sp.Symbol("E", positive=True)
    field = sp.QQ.frac_field(e)
    n, d = len(preimages), len(preimages[0])
    v = sp.Matrix(preimages).T  # d x n: column i is phi^-1(x(i))
    x = sp.Matrix(d, n, lambda k, i: 1 / (1 + e ** (-v[k, i])))
    xd = DomainMatrix.from_Matrix(x).convert_to(field)
    vd = DomainMatrix.from_Matrix(v).convert_to(field)
    dim_span = xd.rank()
    one_sided = all(len({c > 0 for c in v.row(k)}) == 1 and 0 not in v.row(k) for k in range(d))
    facts: dict[str, Any] = {
        "d": d,
        "n": n,
        "assumption_1": one_sided and n < d,
        "dim_span": dim_span,
        "rank_preimages": vd.rank(),
    }
    if dim_span < n:  # the x(i) are dependent: X^+ X != I (not used by the instances here)
        facts.update(full_column_rank=False)
        return facts
    # A(inf) = V X^+ = W X^T with W = V (X^T X)^-1: its rows are combinations of the x(i)^T
    # and its columns combinations of the columns of V, by construction
    gram = xd.transpose() * xd
    w = vd * gram.inv()
    a_inf = w * xd.transpose()
    if a_inf_scale != 1:
        a_inf = a_inf * DomainMatrix.from_Matrix(sp.eye(d) * a_inf_scale).convert_to(field)
    facts.update(
        full_column_rank=True,
        rank_A_inf=a_inf.rank(),
        # A x(i) = phi^-1(x(i)), i.e. phi(A x(i)) = x(i): phi-eigenvectors with eigenvalue 1
        eigenvectors=(a_inf * xd) == vd,
        # minimum norm: the rows of A(inf) lie in span(X)^T (appending them keeps rank X)
        row_span=xd.hstack(a_inf.transpose()).rank() == dim_span,
        # the columns of A(inf) lie in span(phi^-1(X)): appending them keeps the rank
        phi_span=vd.hstack(a_inf).rank() == facts["rank_preimages"],
    )
    return facts


def _corollary_parts(
    names: tuple[str, ...], rank_target: str, a_inf_scale: int = 1
) -> tuple[list[Result], dict[str, Any] | None]:
    table = dict(COROLLARY_INSTANCES)
    parts = []
    counterexample = None
    for name in names:
        f = corollary_facts(table[name], a_inf_scale)
        if not f["full_column_rank"] or not f["assumption_1"]:
            parts.append(Result.unknown(Evidence.EXACT, f"{name}: outside the checked setting"))
            continue
        want = f["dim_span"] if rank_target == "dim-span" else f["rank_preimages"]
        failed = [
            text
            for text, ok in (
                ("phi(A x(i)) = x(i)", f["eigenvectors"]),
                ("rows of A(inf) in span(X)^T", f["row_span"]),
                ("A y in span(phi^-1(X))", f["phi_span"]),
                (f"rank A(inf) = {rank_target}", f["rank_A_inf"] == want),
            )
            if not ok
        ]
        ranks = (
            f"rank A(inf) = {f['rank_A_inf']}, dim span(X) = {f['dim_span']}, "
            f"rank phi^-1(X) = {f['rank_preimages']}"
        )
        parts.append(
            Result.verdict(
                not failed,
                Evidence.EXACT,
                f"{name}: {ranks}" + (f"; fails {', '.join(failed)}" if failed else ""),
            )
        )
        if failed and counterexample is None:
            sizes = {k: v for k, v in f.items() if not isinstance(v, bool)}
            counterexample = {"instance": name, "preimages": table[name], "failed": failed, **sizes}
    return parts, counterexample


def _corollary_names(names: tuple[str, ...] | None, default: tuple[str, ...]) -> tuple[str, ...]:
    known = dict(COROLLARY_INSTANCES)
    for name in names or ():
        if name not in known:
            raise ValueError(f"unknown instance {name!r}; known: {', '.join(known)}")
    return tuple(names) if names is not None else default


@register(
    "thm2.corollary",
    title="Corollary: rank A = dim span(X), x(i) are phi-eigenvectors, outputs in phi-span(X)",
    statement="""Corollary (Section 2.2): for n < d, under Assumption 1, the limit A(inf) of
    gradient descent from A(0) = 0 satisfies rank A(inf) = dim span(X); the training
    examples are phi-eigenvectors of A(inf) with phi-eigenvalue 1 (phi(A x(i)) = x(i)); and
    phi(A(inf) y) lies in phi-span(X) for every y, i.e. A(inf) y is in span(phi^-1(X)).""",
    method="""Exactly, for phi = sigmoid, on training sets built from integer preimages
    v(i) = phi^-1(x(i)), so x_j(i) = 1/(1 + e^(-v_j(i))) (every coordinate on one side of 1/2:
    Assumption 1). A(inf) is Theorem 2's limit, the minimum norm solution V X^+ of
    A x(i) = v(i) (its convergence is checked numerically in thm2.conclusion). All
    arithmetic is in the field of rational functions of E = e; because e is
    transcendental, ranks and identities there are exactly those of the real matrices. We
    build A(inf) = W X^T with W = V (X^T X)^-1 (so its rows lie in span(X)^T), and check
    A(inf) X = V on the matrix A(inf) itself (so phi(A x(i)) = x(i)), that the rows of
    A(inf) lie in span(X)^T (the minimum norm property), that appending the columns of
    A(inf) to V keeps the rank (A y in span(phi^-1(X)) for every y), and
    rank A(inf) = dim span(X). The default instances have preimages as independent as the
    examples; see thm2.corollary-rank for what happens otherwise.""",
    evidence="exact",
    reference="Corollary; Definitions 1-2; Theorem 2",
    wrong=({"a_inf_scale": 2}, {"instances": ("d3-n2-collinear-preimages",)}),
)
def check_corollary(
    *, quick: bool = False, instances: tuple[str, ...] | None = None, a_inf_scale: int = 1
) -> Result:
    """The Corollary on the named instances (default: those with independent preimages).

    ``a_inf_scale`` ≠ 1 replaces A(inf) by a multiple of it: a wrong variant that must fail.
    """
    names = _corollary_names(instances, _QUICK_GENERIC if quick else _GENERIC)
    parts, counterexample = _corollary_parts(names, "dim-span", a_inf_scale)
    extra = {"counterexample": counterexample} if counterexample else {}
    return merge(
        Evidence.EXACT,
        parts,
        f"exact on {len(names)} training sets: phi(A x(i)) = x(i), A y in span(phi^-1(X)), "
        "rank A(inf) = dim span(X)",
        "the Corollary does not hold as stated",
        **extra,
    )


@register(
    "thm2.corollary-rank",
    title="Precisely, rank A(inf) = rank phi^-1(X), which can be < dim span(X)",
    statement="""The Corollary's rank claim, made precise: since A(inf) = phi^-1(X) X^+ and X^+ maps
    R^d onto R^n when the x(i) are independent, rank A(inf) = rank phi^-1(X). This equals
    dim span(X) only when the preimages phi^-1(x(i)) are as independent as the x(i). The
    paper's step "the x(i) are phi-eigenvectors, hence rank A(inf) >= r" needs that
    condition: with phi^-1(x(2)) = 2 phi^-1(x(1)) (Assumption 1 holds, x(1), x(2) independent)
    rank A(inf) = 1 < 2 = dim span(X).""",
    method="""The same exact computation as thm2.corollary (rational functions of E = e), on
    all instances including d3-n2-collinear-preimages: there the check verifies
    rank A(inf) = rank phi^-1(X) = 1 while dim span(X) = 2 exactly. Checked against the
    paper's wording (rank = dim span(X)) that instance fails: it is the counterexample.""",
    evidence="exact",
    reference="Corollary; Theorem 2",
    wrong=({"claim": "dim-span"},),
    extension=True,
)
def check_corollary_rank(*, quick: bool = False, claim: str = "rank-preimages") -> Result:
    """``claim="rank-preimages"`` (precise) or ``"dim-span"`` (the paper's wording)."""
    if claim not in ("rank-preimages", "dim-span"):
        raise ValueError(f"claim must be 'rank-preimages' or 'dim-span', got {claim!r}")
    names = (*(_QUICK_GENERIC if quick else _GENERIC), "d3-n2-collinear-preimages")
    parts, counterexample = _corollary_parts(names, claim)
    gap = corollary_facts(dict(COROLLARY_INSTANCES)["d3-n2-collinear-preimages"])
    extra = {"counterexample": counterexample} if counterexample else {}
    return merge(
        Evidence.EXACT,
        parts,
        f"exact on {len(names)} training sets: rank A(inf) = rank phi^-1(X) always; on "
        f"d3-n2-collinear-preimages rank A(inf) = {gap['rank_A_inf']} < dim span(X) = "
        f"{gap['dim_span']}, so the Corollary's rank equality needs "
        "rank phi^-1(X) = dim span(X)",
        f"rank A(inf) = {claim} does not hold",
        gap_instance={k: v for k, v in gap.items() if not isinstance(v, bool)},
        **extra,
    )
