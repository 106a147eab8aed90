"""Theorem 1 and Appendix A: linear single layer fully connected autoencoders memorize.

Setting (paper, Section 2.1). Training examples ``x(1), ..., x(n)`` in ``R^d`` with ``n < d``
are the columns of ``X``; the autoencoder is a matrix ``A`` trained by gradient descent on

    L(A) = 1/2 * sum_i (x(i) - A x(i))^T (x(i) - A x(i))                      (1)

from ``A(0) = 0``. With ``S = sum_i x(i) x(i)^T = X X^T`` the gradient is ``(A - I) S``, so

    A(t+1) = A(t) + gamma (I - A(t)) S,          A(t) = I - (I - gamma S)^t     (Appendix A)

and for ``0 < gamma < 1/lambda_1`` (``lambda_1`` the largest eigenvalue of ``S``)

    A(inf) = Q diag(I_r, 0) Q^T = X X^+,         r = rank S = dim span(X),

the orthogonal projection onto ``span(X)``. **Theorem 1**: ``rank A(inf) = dim span(X)``, the
training examples are eigenvectors of ``A(inf)`` with eigenvalue 1, and ``A(inf) y`` lies in
``span(X)`` for every ``y``.

Checks: ``thm1.closed-form`` (the recurrence and its closed form), ``thm1.step-size`` (when
``I - gamma S`` contracts on ``span(X)``), ``thm1.min-norm`` (the limit and the theorem's
conclusions, exactly on integer data).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ._kit import (
    FracMatrix,
    add,
    fraction_model,
    identity,
    instance_names,
    instance_part,
    matrix,
    mul,
    power,
    prove_claim,
    transpose,
)
from ._registry import register
from ._result import Evidence, Result
from ._thm1_limit import min_norm_facts
from ._z3 import find_model

__all__ = [
    "INSTANCES",
    "check_closed_form",
    "check_min_norm",
    "check_step_size",
    "gd_iterates",
    "min_norm_facts",
]

#: Integer training sets (rows of each entry are the examples x(i)), d <= 6 and n < d.
#: Named for readable output; several are rank deficient on purpose.
INSTANCES: tuple[tuple[str, tuple[tuple[int, ...], ...]], ...] = (
    ("d3-n1", ((1, 2, 2),)),
    ("d4-n2", ((1, 0, 2, -1), (0, 1, 1, 3))),
    ("d5-n3-rank2", ((1, 2, 0, -1, 3), (2, -1, 1, 0, 1), (3, 1, 1, -1, 4))),
    ("d4-n3-rank1", ((1, -2, 0, 3), (2, -4, 0, 6), (-1, 2, 0, -3))),
    ("d6-n4-duplicate", ((1, 0, 0, 2, 1, -1), (0, 3, 1, 0, -2, 1), (1, 0, 0, 2, 1, -1),
                         (2, 1, -1, 0, 0, 1))),
    ("d6-n5", ((1, 1, 0, 0, 0, 2), (0, 1, 1, 0, 0, -1), (0, 0, 1, 1, 0, 1),
               (0, 0, 0, 1, 1, 3), (1, 0, 0, 0, 1, 0))),
)  # fmt: skip

_QUICK_INSTANCES = ("d3-n1", "d5-n3-rank2", "d4-n3-rank1")
_ALL_INSTANCES = tuple(name for name, _ in INSTANCES)


def _covariance(examples: tuple[tuple[int, ...], ...]) -> FracMatrix:
    """``S = sum_i x(i) x(i)^T = X X^T`` with the examples as the columns of ``X``."""
    x_cols = matrix(examples)  # n x d: row i is x(i)
    return mul(transpose(x_cols), x_cols)


def _safe_step(s: FracMatrix) -> Fraction:
    """A rational step ``gamma = 1/(trace S + 1) < 1/lambda_1`` (``lambda_1 <= trace S``)."""
    return Fraction(1, int(sum(s[i][i] for i in range(len(s)))) + 1)


def gd_iterates(s: FracMatrix, gamma: Fraction, steps: int) -> list[FracMatrix]:
    """``A(0) = 0, ..., A(steps)`` of gradient descent on (1): ``A <- A - gamma (A - I) S``."""
    d = len(s)
    a = [[Fraction(0)] * d for _ in range(d)]
    out = [a]
    for _ in range(steps):
        grad = mul(add(a, identity(d), Fraction(-1)), s)
        a = add(a, grad, -gamma)
        out.append(a)
    return out


# --------------------------------------------------------------------------------------------
# thm1.closed-form


def _symbolic_closed_form(exponent_offset: int = 0) -> list[Result]:
    """Induction over t with sympy matrix symbols of symbolic size d.

    The claim is ``A(t) = I - M^(t + exponent_offset)`` with ``M = I - gamma S``; the paper's
    formula has offset 0. The inductive step does not depend on the offset, the base case does.
    Each step is an identity of :mod:`proofs._identities`, the text ``verify certificates``
    exports as a standalone sympy script.
    """
    from ._identities import evaluate

    parts: list[Result] = []
    # base case: A(0) = 0 must equal I - (I - gamma S)^(0 + offset)
    base, _, rest = evaluate("thm1.base-case", OFFSET=exponent_offset)
    parts.append(
        Result.verdict(
            rest is None,
            Evidence.PROOF,
            f"base case: I - (I - gamma S)^{exponent_offset} = {base}"
            + ("" if rest is None else ", not A(0) = 0"),
        )
    )
    # M^t * M is M^(t+1) for a symbolic exponent t (sympy's power rule for one base)
    combined, _, rest = evaluate("thm1.power-rule")
    parts.append(
        Result.verdict(rest is None, Evidence.PROOF, f"(I - gamma S)^t (I - gamma S) = {combined}")
    )
    # inductive step with P = M^t: I - P M  ==  (I - P) + gamma (I - (I - P)) S
    step = evaluate("thm1.inductive-step")[2]
    parts.append(
        Result.verdict(
            step is None,
            Evidence.PROOF,
            "inductive step I - M^t M = A(t) + gamma (I - A(t)) S (difference expands to "
            f"{0 if step is None else step})",
        )
    )
    # the commuting lemma: M S = S M, and P S = S P  =>  (P M) S = S (P M)
    ms = evaluate("thm1.m-commutes-with-s")[2]
    lemma = evaluate("thm1.commuting-lemma")[2]
    parts.append(
        Result.verdict(
            ms is None and lemma is None,
            Evidence.PROOF,
            "(I - gamma S)^t commutes with S: M S - S M expands to "
            f"{0 if ms is None else ms}, and (PM)S - S(PM) = (PS - SP)M + P(MS - SM) "
            f"(difference {0 if lemma is None else lemma})",
        )
    )
    return parts


def _symbolic_gradient(d: int = 3, n: int = 2) -> Result:
    """dL/dA = (A - I) S for loss (1), entry by entry, with symbolic A and x(i)."""
    import sympy as sp

    a = sp.Matrix(d, d, lambda k, c: sp.Symbol(f"a{k + 1}{c + 1}"))
    xs = [sp.Matrix(d, 1, lambda k, _, i=i: sp.Symbol(f"x{k + 1}_{i + 1}")) for i in range(n)]
    loss = sum(((x - a * x).T * (x - a * x))[0] for x in xs) / 2
    s = sum((x * x.T for x in xs), sp.zeros(d, d))
    grad = sp.Matrix(d, d, lambda k, c: sp.diff(loss, a[k, c]))
    diff = (grad - (a - sp.eye(d)) * s).applyfunc(sp.expand)
    entrywise = diff == sp.zeros(d, d)
    # for symbolic sizes: matrix calculus on A (d x d) and X (d x n), S = X X^T
    from ._identities import evaluate

    general = evaluate("thm1.gradient")[2] is None
    return Result.verdict(
        entrywise and general,
        Evidence.PROOF,
        "dL/dA = (A - I) S for loss (1): for symbolic sizes d, n by sympy's matrix calculus "
        f"on A (d x d), X (d x n) with S = X X^T, and entry by entry at d={d}, n={n}"
        + ("" if entrywise and general else " — does not simplify to 0"),
    )


def _closed_form_instances(
    names: tuple[str, ...], steps: int, exponent_offset: int
) -> list[Result]:
    parts: list[Result] = []
    table = dict(INSTANCES)
    for name in names:
        s = _covariance(table[name])
        d = len(s)
        gamma = _safe_step(s)
        m = add(identity(d), s, -gamma)
        bad: dict[str, Any] | None = None
        for t, a in enumerate(gd_iterates(s, gamma, steps)):
            closed = add(identity(d), power(m, t + exponent_offset), Fraction(-1))
            if a != closed:
                bad = {
                    "instance": name,
                    "gamma": str(gamma),
                    "t": t,
                    "gradient_descent": [[str(v) for v in row] for row in a],
                    "closed_form": [[str(v) for v in row] for row in closed],
                }
                break
        parts.append(
            Result.verdict(
                bad is None,
                Evidence.EXACT,
                f"{name}: A(t) = I - (I - gamma S)^(t+{exponent_offset}) for t <= {steps}"
                if bad is None
                else f"{name}: gradient descent and I - (I - gamma S)^(t+{exponent_offset}) "
                f"differ at t = {bad['t']} (gamma = {gamma})",
                counterexample=bad,
            )
        )
    return parts


@register(
    "thm1.closed-form",
    title="Gradient descent from A(0)=0 is A(t) = I - (I - gamma S)^t",
    statement="""For the loss (1) the gradient is (A - I) S with S = sum_i x(i) x(i)^T, so
    gradient descent with step gamma is A(t+1) = A(t) + gamma (I - A(t)) S. Started at
    A(0) = 0 its iterates are A(t) = I - (I - gamma S)^t for every t >= 0.""",
    method="""The gradient formula dL/dA = (A - I) S is derived for symbolic sizes d and n
    by sympy's matrix calculus (A a d x d and X a d x n matrix symbol, loss
    tr((AX - X)^T (AX - X))/2, S = X X^T), and cross-checked entry by entry at d = 3, n = 2.
    Then a proof by induction for
    matrices of every size d, with sympy matrix symbols:
    the base case A(0) = I - (I - gamma S)^0 = 0, and the inductive step: writing
    M = I - gamma S and P = M^t, the identity I - P M = (I - P) + gamma (I - (I - P)) S
    expands to zero without any commutation, and M^t M = M^(t+1). We also prove that
    (I - gamma S)^t commutes with S (M S = S M, then induction), which is what lets the
    paper diagonalise both in the same eigenbasis Q. Then, exactly (Fractions) on integer
    training sets, the first iterates of actual gradient descent (gradient (A - I) S) are
    compared entry by entry with the closed form.""",
    intuition=(
        "With A(0) = 0 the error I − A(t) is multiplied by I − γS at every step, so "
        "after t steps it is (I − γS)^t."
    ),
    assumptions=(
        "loss (1): ½ Σ_i ‖x(i) − A x(i)‖² for a single linear layer A ∈ R^{d×d}",
        "gradient descent with a constant step γ, started at A(0) = 0",
    ),
    evidence="proof",
    reference="Theorem 1; Appendix A",
    wrong=({"exponent_offset": 1},),
)
def check_closed_form(
    *,
    quick: bool = False,
    exponent_offset: int = 0,
    steps: int | None = None,
    instances: tuple[str, ...] | None = None,
) -> Result:
    """Theorem 1 / Appendix A: ``A(t) = I - (I - gamma S)^(t + exponent_offset)``.

    ``exponent_offset = 0`` is the paper's formula; any other value is a wrong variant that
    must fail at some iterate.
    """
    if exponent_offset < 0:
        raise ValueError(f"exponent_offset must be >= 0 (a matrix power), got {exponent_offset}")
    steps = steps if steps is not None else (3 if quick else 5)
    names = instance_names(
        instances, dict(INSTANCES), _QUICK_INSTANCES if quick else _ALL_INSTANCES
    )
    parts = [_symbolic_gradient(), *_symbolic_closed_form(exponent_offset)]
    return Result.combine(
        Evidence.PROOF,
        parts + _closed_form_instances(names, steps, exponent_offset),
        "gradient (A - I) S proved for symbolic d and n (matrix calculus); closed form proved by "
        "induction for every d and t (base case, inductive step, M^t S = S M^t); "
        f"gradient descent equals the closed form exactly on {len(names)} integer "
        f"training sets for t = 0..{steps}",
        fail_lead=f"A(t) = I - (I - gamma S)^(t+{exponent_offset}) does not describe gradient "
        "descent",
    )


# --------------------------------------------------------------------------------------------
# thm1.step-size


def _witness_at_two_over_lambda1(timeout_ms: int) -> tuple[Result, dict[str, Any]]:
    """A z3 model with ``gamma = 2/lambda_1``, re-checked with Fractions: ``1 - gamma lambda_1``
    is not in ``(-1, 1)``. The part, and the witness as data (empty when none is rational)."""
    import z3

    lam1, g = z3.Reals("lam1 gamma")
    search = find_model(
        lam1 > 0, g * lam1 == 2, z3.Not(z3.And(1 - g * lam1 > -1, 1 - g * lam1 < 1)),
        timeout_ms=timeout_ms,
    )  # fmt: skip
    fm = fraction_model(search.model)
    if fm is None or not (fm["lam1"] > 0 and fm["gamma"] * fm["lam1"] == 2):
        found = {True: "not rational", False: "none exists", None: "undecided"}[search.found]
        text = f"no rational witness at gamma = 2/lambda_1 ({found})"
        return Result.verdict(None, Evidence.EXACT, text), {}
    val = 1 - fm["gamma"] * fm["lam1"]
    part = Result.verdict(
        not (-1 < val < 1),
        Evidence.EXACT,
        f"witness lambda_1 = {fm['lam1']}, gamma = {fm['gamma']}: 1 - gamma lambda_1 = "
        f"{val}, not in (-1, 1) (re-checked with Fractions)",
    )
    witness = {"lam1": str(fm["lam1"]), "gamma": str(fm["gamma"]), "factor": str(val)}
    return part, {"witness_at_2_over_lambda1": witness}


@register(
    "thm1.step-size",
    title="0 < gamma < 1/lambda_1 makes I - gamma S contract on span(X)",
    statement="""Appendix A: if gamma < 1/lambda_1 (lambda_1 the largest eigenvalue of S) then
    (I - gamma Lambda)^t -> diag(0_r, I_(d-r)), so A(t) -> Q diag(I_r, 0) Q^T. That is: for every
    eigenvalue 0 < lambda <= lambda_1 of S and 0 < gamma < 1/lambda_1, 0 <= 1 - gamma lambda < 1.
    (The zero eigenvalues give the factor 1 and stay out of A(inf).)""",
    method="""z3 proves, for all real lambda, lambda_1, gamma, that 0 < lambda <= lambda_1 and
    0 < gamma < 1/lambda_1 imply 0 <= 1 - gamma lambda < 1 (the negation is unsatisfiable).
    It also proves the exact condition: for lambda > 0, |1 - gamma lambda| < 1 holds if and
    only if 0 < gamma < 2/lambda, so the paper's bound is sufficient with room to spare; and
    that at gamma = 2/lambda_1 the factor for lambda = lambda_1 is -1, so the contraction
    fails there (z3 gives a concrete model, which is re-checked with Fractions). A wrong
    step bound gamma < factor/lambda_1 with factor > 1 yields a z3 counterexample.""",
    intuition=(
        "I − γS scales each eigen-direction of S by 1 − γλ; with 0 < γλ < 1 that factor "
        "lies in [0, 1), so those directions die out, and the directions with λ = 0 "
        "(outside span(X)) are left alone."
    ),
    assumptions=(
        "S = Σ_i x(i) x(i)^T: symmetric positive semidefinite, largest eigenvalue λ_1 > 0",
        "a constant step 0 < γ < 1/λ_1",
    ),
    evidence="proof",
    reference="Appendix A",
    wrong=({"step_bound_factor": 3},),
)
def check_step_size(
    *, quick: bool = False, step_bound_factor: int = 1, timeout_ms: int = 10_000
) -> Result:
    """Appendix A: ``0 < gamma < factor/lambda_1  =>  0 <= 1 - gamma lambda < 1``."""
    import z3

    lam, lam1, g = z3.Reals("lam lam1 gamma")
    factor = z3.RealVal(step_bound_factor)
    hyp = (lam > 0, lam <= lam1, g > 0, g * lam1 < factor)
    claim = z3.And(1 - g * lam >= 0, 1 - g * lam < 1)
    what = (
        f"0 < lambda <= lambda_1, 0 < gamma < {step_bound_factor}/lambda_1 "
        "=> 0 <= 1 - gamma lambda < 1"
    )

    def at_model(m: dict[str, Fraction]) -> dict[str, Any]:
        lv, l1, gv = m.get("lam", Fraction(0)), m.get("lam1", Fraction(0)), m["gamma"]
        return {"lam": str(lv), "lam1": str(l1), "gamma": str(gv),
                "one_minus_gamma_lam": str(1 - gv * lv)}  # fmt: skip

    parts = [prove_claim(claim, what, assumptions=hyp, timeout_ms=timeout_ms, exact=at_model)]

    # the exact condition |1 - gamma lambda| < 1 <=> 0 < gamma < 2/lambda  (lambda > 0)
    q = 1 - g * lam
    parts.append(
        prove_claim(
            z3.And(q > -1, q < 1) == z3.And(g > 0, g * lam < 2),
            "for lambda > 0: |1 - gamma lambda| < 1 <=> 0 < gamma < 2/lambda",
            assumptions=(lam > 0,),
            timeout_ms=timeout_ms,
        )
    )

    # at gamma = 2/lambda_1 the factor for lambda_1 is -1: no contraction (for all lambda_1 > 0)
    parts.append(
        prove_claim(
            1 - g * lam1 == -1,
            "gamma = 2/lambda_1 gives 1 - gamma lambda_1 = -1",
            assumptions=(lam1 > 0, g * lam1 == 2),
            timeout_ms=timeout_ms,
        )
    )
    witness, data = _witness_at_two_over_lambda1(timeout_ms)
    parts.append(witness)
    return Result.combine(
        Evidence.PROOF,
        parts,
        "proved: gamma < 1/lambda_1 gives 0 <= 1 - gamma lambda < 1 on every nonzero "
        "eigenvalue; the exact contraction condition is gamma < 2/lambda_1, and at "
        "gamma = 2/lambda_1 it fails (factor -1)",
        fail_lead=f"not established with the step bound gamma < {step_bound_factor}/lambda_1",
        **data,
    )


# --------------------------------------------------------------------------------------------
# thm1.min-norm


_FACT_TEXT = {
    "formula_equals_pinv": "Q diag(I_r, 0) Q^T = X X^+",
    "idempotent": "A(inf)^2 = A(inf)",
    "symmetric": "A(inf)^T = A(inf)",
    "examples_eigenvalue_1": "A(inf) X = X",
    "columns_in_span": "column space of A(inf) inside span(X)",
    "rank_claim": "rank A(inf) = dim span(X)",
    "kernel_fixed": "(I - gamma S) fixes ker S",
    "iterates_split": "A(t) = A(inf) - (I - gamma S)^t A(inf)",
}


@register(
    "thm1.min-norm",
    title="The limit is X X^+: rank = dim span(X), outputs in span(X)",
    statement="""Theorem 1: for n < d and A(0) = 0, gradient descent on (1) converges to
    A(inf) = Q diag(I_r, 0) Q^T (the minimum norm solution), so rank A(inf) = dim span(X),
    every training example is an eigenvector of A(inf) with eigenvalue 1, and
    A(inf) y lies in span(X) for every y in R^d.""",
    method="""Exactly, with sympy rationals, on a fixed list of integer training sets
    (d <= 6, n < d, several rank deficient). The paper's Q diag(I_r, 0) Q^T is computed without
    eigenvectors: S is diagonalisable, so its minimal polynomial is x q(x) with q(0) != 0,
    and I - q(S)/q(0) is exactly the projector onto the eigenvectors with nonzero
    eigenvalue. We check that it equals X X^+ (sympy's exact pseudo-inverse), that it is
    an orthogonal projection (A^2 = A, A^T = A), that A X = X (each x(i) an eigenvector
    with eigenvalue 1), that appending its columns to X does not raise the rank (so A y
    is in span(X) for every y), and that its rank is dim span(X). Finally,
    A(t) = A(inf) - (I - gamma S)^t A(inf) and I - gamma S fixes ker S exactly, so the
    limit of A(t) = I - (I - gamma S)^t is A(inf) once 0 <= 1 - gamma lambda < 1 on the
    nonzero eigenvalues (thm1.step-size).""",
    intuition=(
        "Gradient descent from zero only ever moves A within the directions the "
        "training examples span, so it ends at the projection onto span(X): it copies "
        "every training example and sends every input into their span."
    ),
    assumptions=(
        "n < d training examples (the overparameterized case)",
        "A(0) = 0 and 0 < γ < 1/λ_1 (thm1.step-size)",
    ),
    evidence="exact",
    reference="Theorem 1; Appendix A",
    wrong=({"claimed_rank_offset": 1}, {"claimed_rank_offset": -1}),
)
def check_min_norm(
    *,
    quick: bool = False,
    claimed_rank_offset: int = 0,
    instances: tuple[str, ...] | None = None,
) -> Result:
    """Theorem 1 exactly on integer instances; ``claimed_rank_offset != 0`` is a wrong claim."""
    table = dict(INSTANCES)
    instances = instance_names(
        instances, dict(INSTANCES), _QUICK_INSTANCES if quick else _ALL_INSTANCES
    )
    parts = []
    for name in instances:
        facts = min_norm_facts(table[name], claimed_rank_offset=claimed_rank_offset)
        bad = [text for key, text in _FACT_TEXT.items() if not facts[key]]
        sizes = {k: v for k, v in facts.items() if not isinstance(v, bool)}
        parts.append(
            instance_part(
                Evidence.EXACT,
                name,
                f"{name}: rank A(inf) = {facts['rank_A_inf']} = dim span(X)"
                if not bad
                else f"{name} (dim span(X) = {facts['dim_span']}, rank A(inf) = "
                f"{facts['rank_A_inf']}, claimed {facts['dim_span'] + claimed_rank_offset}): "
                f"fails {', '.join(bad)}",
                bad,
                examples=table[name],
                **sizes,
            )
        )
    return Result.combine(
        Evidence.EXACT,
        parts,
        f"exact on {len(instances)} integer training sets: the paper's Q diag(I_r, 0) Q^T "
        "equals X X^+, an orthogonal projection of rank dim span(X) fixing every x(i)",
        fail_lead="Theorem 1's conclusion does not hold as checked",
    )
