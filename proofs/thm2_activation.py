"""Theorem 2, Assumption 1(c) and Appendix B's chord bound: the shape of the activation.

Setting (paper, Section 2.2). Examples ``x(1), ..., x(n)`` in ``R^d`` (``n < d``) are the columns
of ``X``; ``phi`` acts entry-wise, ``x_j(i)`` lies in the range of ``phi``, and ``A`` is trained
by gradient descent from ``A(0) = 0`` on

    L(A) = 1/2 * sum_i (x(i) - phi(A x(i)))^T (x(i) - phi(A x(i))).          (2)

**Assumption 1**: (a) ``0 < x_j(i) < 1``; (b) for each ``j`` all ``x_j(i)`` lie on one side
of ``phi(0)``; (c) on the interval between 0 and ``phi^-1(x'_j)`` (``x'_j`` the target of
largest preimage), ``phi`` is strictly convex or concave and monotone, as one of four cases.

Appendix B bounds ``phi`` on that interval by the chord from ``(0, phi(0))`` to
``(phi^-1(x), x)``, which is what lets it linearise the problem (``proofs.thm2_gradient``).

Checks: ``thm2.assumption-c`` (sigmoid and tanh satisfy 1(c); sympy and z3),
``thm2.chord-bound`` (the chord bound of Appendix B, certified with interval arithmetic).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ._kit import prove_claim
from ._registry import register
from ._result import Evidence, Result, Status

__all__ = [
    "ACTIVATIONS",
    "CHORD_TARGETS",
    "certify_chord",
    "check_assumption_c",
    "check_chord_bound",
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
    are the function values, and checks that the polynomials z3 decides are those
    derivatives (each substituted at v = phi(z) minus sympy's derivative of phi simplifies to
    zero). Both functions map R increasingly onto their range, so z in
    the interval corresponds to the value v = phi(z) in an interval of the range, and the
    sign conditions become polynomial inequalities in v, which z3 proves for all real v:
    for the sigmoid, s(1 - s) > 0 and s(1 - s)(1 - 2s) > 0 for 0 < s < 1/2 (convex increasing;
    case 3) and s(1 - s)(1 - 2s) < 0 for 1/2 < s < 1 (concave increasing; case 2); for tanh
    the same with t in (-1, 0) and (0, 1). phi'' vanishes only at z = 0, an endpoint, which
    does not spoil strict convexity on the closed interval. Claiming the opposite
    convexity gives a z3 model, re-checked with Fractions.""",
    intuition=(
        "Sigmoid and tanh bend one way on each side of 0 (convex below, concave above), "
        "so between 0 and a target's preimage they bend only one way: that is "
        "Assumption 1(c)."
    ),
    assumptions=(
        "φ is the sigmoid or tanh",
        "every target lies strictly inside φ's range and differs from φ(0)",
    ),
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
    for name, side, case, (lo, hi), d1, d2, sign in _cases(v):
        claimed = -sign if flip_convexity else sign
        what = (
            f"{name}, {side}: phi' > 0 and phi'' {'>' if claimed > 0 else '<'} 0 for "
            f"phi(z) in ({lo}, {hi})"
        )

        def at_model(m: dict[str, Fraction], name: str = name, side: str = side) -> dict[str, Any]:
            d1v, d2v = _eval_poly(name, m["v"])  # reported; prove() re-checked the claim
            return {"activation": name, "side": side, "v": str(m["v"]),
                    "phi_prime": str(d1v), "phi_second": str(d2v)}  # fmt: skip

        parts.append(
            prove_claim(
                z3.And(d1 > 0, d2 * claimed > 0),
                what + (f" -> case {case}" if claimed == sign else ""),
                assumptions=(v > lo, v < hi),
                timeout_ms=timeout_ms,
                exact=at_model,
            )
        )
    parts += _polynomials_are_derivatives()
    return Result.combine(
        Evidence.PROOF,
        parts,
        "proved: sigmoid and tanh are strictly convex increasing between a negative preimage "
        "and 0 (case 3) and strictly concave increasing between 0 and a positive preimage "
        "(case 2)",
        fail_lead="the claimed convexity does not hold",
    )


def _eval_poly(name: str, v: Fraction) -> tuple[Fraction, Fraction]:
    """phi' and phi'' in terms of the value v = phi(z), exactly (the rows of :func:`_cases`)."""
    row = next(r for r in _cases(v) if r[0] == name)
    return row[4], row[5]


def _phi_sympy(name: str, z: Any) -> Any:
    """The activation as a sympy function of z."""
    import sympy

    return 1 / (1 + sympy.exp(-z)) if name == "sigmoid" else sympy.tanh(z)


def _polynomials_are_derivatives() -> list[Result]:
    """The polynomials z3 decides are the activations' derivatives: for each row of
    :func:`_cases`, ``p_k(phi(z)) - d^k phi / dz^k`` (sympy differentiates phi itself)
    simplifies to 0, k = 1, 2, for the phi with phi(0) = :data:`ACTIVATIONS`' value. A
    wrong polynomial that keeps its sign would otherwise be "proved"."""
    import sympy

    z, v = sympy.Symbol("z", real=True), sympy.Symbol("v")
    parts = []
    for name, side, _case, _range, d1, d2, _sign in _cases(v):
        phi = _phi_sympy(name, z)
        # the function differentiated is the activation: its value at 0 is phi(0)
        at_zero = sympy.Rational(ACTIVATIONS[name]) == phi.subs(z, 0)
        for order, poly in ((1, d1), (2, d2)):
            gap = sympy.sympify(poly).subs(v, phi) - sympy.diff(phi, z, order)
            zero = at_zero and sympy.cancel(gap.rewrite(sympy.exp)) == 0
            text = f"{name}, {side}: phi^({order}) = {sympy.expand(poly)} in v = phi(z)"
            parts.append(
                Result.verdict(zero, Evidence.PROOF, text + " (difference simplifies to 0)")
            )
    return parts


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


@dataclass(frozen=True)
class _ChordGap:
    """``g(u) = sigma (chord(u) - phi(u p))`` on ``u`` in [0, 1], and ``g'``, on intervals."""

    name: str
    p: Any  # the interval enclosing phi^-1(x)
    slope: Any  # x - phi(0), an interval
    sigma: int  # +1: phi convex there (chord above phi); -1: concave

    def g(self, u: Any) -> Any:
        phi0 = _iv_rational(ACTIVATIONS[self.name])
        return self.sigma * (phi0 + self.slope * u - _phi_iv(self.name, u * self.p))

    def dg(self, u: Any) -> Any:
        return self.sigma * (self.slope - self.p * _dphi_iv(self.name, u * self.p))


def _certify_pieces(gap: _ChordGap, max_pieces: int) -> tuple[Status, int]:
    """Bisect [0, 1] until every piece is certified (PASS) or past ``max_pieces`` (UNKNOWN).

    A piece ``[a, b]`` is certified when ``a = 0`` and ``g' > 0`` on it, ``b = 1`` and
    ``g' < 0`` on it, or it is interior and ``g(m) + g'([a, b]) ([a, b] - m) > 0``."""
    stack = [(Fraction(0), Fraction(1))]
    pieces = 0
    while stack:
        a, b = stack.pop()
        pieces += 1
        if pieces > max_pieces:
            return Status.UNKNOWN, pieces
        box = _iv_hull(a, b)
        slope_box = gap.dg(box)
        if a == 0 and slope_box.a > 0:
            continue
        if b == 1 and slope_box.b < 0:
            continue
        if a > 0 and b < 1:
            m = _iv_rational((a + b) / 2)
            if (gap.g(m) + slope_box * (box - m)).a > 0:
                continue
        stack += [(a, (a + b) / 2), ((a + b) / 2, b)]
    return Status.PASS, pieces


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
    gap = _ChordGap(name, p, xi - _iv_rational(phi0), sigma)
    info: dict[str, Any] = {
        "activation": name,
        "x": str(x),
        "preimage": [float(p.a), float(p.b)],
        "case": "convex, phi below the chord" if convex else "concave, phi above the chord",
    }
    mid = gap.g(_iv_rational(Fraction(1, 2)))
    if mid.b < 0:
        z = p / 2
        info.update(
            z=[float(z.a), float(z.b)],
            phi_z=[float(_phi_iv(name, z).a), float(_phi_iv(name, z).b)],
            chord_minus_phi=sorted([float(sigma * mid.a), float(sigma * mid.b)]),
        )
        return Status.FAIL, info
    status, info["pieces"] = _certify_pieces(gap, max_pieces)
    return status, info


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
    intuition=(
        "A convex curve lies below each of its chords and a concave one above: so the "
        "line from (0, φ(0)) to (φ^-1(x), x) bounds φ on the whole interval."
    ),
    assumptions=(
        "φ strictly convex, or strictly concave, between 0 and φ^-1(x) (Assumption 1(c))",
    ),
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
    total = 0
    for name, xs in targets.items():
        for x in xs:
            status, info = certify_chord(name, x, reverse=reverse, max_pieces=max_pieces)
            total += info.get("pieces", 0)
            side = "above" if (x < ACTIVATIONS[name]) != reverse else "below"
            holds = {Status.PASS: True, Status.FAIL: False}.get(status)
            how: dict[bool | None, str] = {
                True: f", {info.get('pieces')} pieces",
                False: " fails at z = phi^-1(x)/2",
            }
            text = f"{name}, x = {x}: chord {side} phi" + how.get(holds, ": not certified")
            cex = info if holds is False else None
            parts.append(Result.verdict(holds, Evidence.EXACT, text, counterexample=cex))
    n = sum(len(xs) for xs in targets.values())
    return Result.combine(
        Evidence.EXACT,
        parts,
        f"certified with interval arithmetic for {n} targets ({total} pieces): phi is below "
        "the chord in the convex case and above it in the concave case, on the whole interval",
        fail_lead="the chord bound is not certified",
        targets={k: [str(x) for x in v] for k, v in targets.items()},
    )
