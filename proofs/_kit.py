"""The check toolkit: what the check modules share, so each of them is its claim and its
computation.

- **Exact matrices** over the rationals (:data:`FracMatrix`, lists of ``Fraction`` rows; the
  sizes in the checks are tiny): :func:`matrix`, :func:`identity`, :func:`add`, :func:`mul`,
  :func:`power`, :func:`transpose`, :func:`matvec`, :func:`gram`, :func:`norm2`, and by
  Gaussian elimination :func:`rank`, :func:`det`, :func:`solve`.
- **Named instances**: :func:`instance_names` picks the training sets a check runs on,
  :func:`instance_part` is the sub-result of one.
- **Sizes**: :func:`size_range`, the inclusive ranges ``a..b`` the structural checks sweep.
- **Solver claims**: :func:`prove_claim` proves a claim with :func:`proofs._z3.prove` (vacuity
  guard, exact re-check of a counterexample, second solver) and turns the verdict into a
  :class:`~proofs.Result`; a counterexample model is read back as Fractions
  (:func:`fraction_model`) and recomputed exactly on the claim by the check.

Results themselves are built with :meth:`Result.verdict` and :meth:`Result.combine`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from typing import Any

from ._result import Evidence, Result, Status

__all__ = [
    "FracMatrix",
    "add",
    "det",
    "fraction_model",
    "gram",
    "identity",
    "instance_names",
    "instance_part",
    "matrix",
    "matvec",
    "mul",
    "norm2",
    "power",
    "prove_claim",
    "rank",
    "size_range",
    "solve",
    "transpose",
]

FracMatrix = list[list[Fraction]]


# --------------------------------------------------------------------------------------------
# exact matrices


def matrix(rows: Iterable[Iterable[Any]]) -> FracMatrix:
    """``rows`` (integers, Fractions, strings like ``"1/2"``) as a Fraction matrix."""
    return [[Fraction(v) for v in row] for row in rows]


def identity(d: int) -> FracMatrix:
    return [[Fraction(int(i == j)) for j in range(d)] for i in range(d)]


def add(a: FracMatrix, b: FracMatrix, scale: Fraction = Fraction(1)) -> FracMatrix:
    """``a + scale * b``."""
    return [
        [x + scale * y for x, y in zip(ra, rb, strict=True)] for ra, rb in zip(a, b, strict=True)
    ]


def norm2(v: Iterable[Fraction]) -> Fraction:
    """``vᵀv``."""
    return sum((a * a for a in v), Fraction(0))


def _dot(u: Iterable[Fraction], v: Iterable[Fraction]) -> Fraction:
    return sum((a * b for a, b in zip(u, v, strict=True)), Fraction(0))


def matvec(m: FracMatrix, v: Sequence[Fraction]) -> list[Fraction]:
    return [_dot(row, v) for row in m]


def transpose(m: Sequence[Sequence[Fraction]]) -> FracMatrix:
    return [list(c) for c in zip(*m, strict=True)]


def mul(a: FracMatrix, b: FracMatrix) -> FracMatrix:
    bt = transpose(b)
    return [[_dot(row, col) for col in bt] for row in a]


def gram(m: FracMatrix) -> FracMatrix:
    """``m mᵀ``."""
    return [[_dot(r, q) for q in m] for r in m]


def power(a: FracMatrix, t: int) -> FracMatrix:
    """``a^t`` for ``t >= 0``."""
    out = identity(len(a))
    for _ in range(t):
        out = mul(out, a)
    return out


def _echelon(m: Sequence[Sequence[Fraction]]) -> tuple[FracMatrix, list[int], int]:
    """Row echelon form by Gaussian elimination over Q: (rows, pivot columns, row swaps)."""
    rows = [list(r) for r in m]
    pivots: list[int] = []
    swaps = 0
    for col in range(len(rows[0]) if rows else 0):
        top = len(pivots)
        piv = next((r for r in range(top, len(rows)) if rows[r][col] != 0), None)
        if piv is None:
            continue
        if piv != top:
            rows[top], rows[piv] = rows[piv], rows[top]
            swaps += 1
        p = rows[top]
        for r in range(top + 1, len(rows)):
            if rows[r][col] != 0:
                f = rows[r][col] / p[col]
                rows[r] = [a - f * b for a, b in zip(rows[r], p, strict=True)]
        pivots.append(col)
    return rows, pivots, swaps


def rank(m: Sequence[Sequence[Fraction]]) -> int:
    return len(_echelon(m)[1])


def det(m: FracMatrix) -> Fraction:
    """Determinant of a square matrix."""
    rows, pivots, swaps = _echelon(m)
    if len(pivots) < len(m):
        return Fraction(0)
    out = Fraction(-1 if swaps % 2 else 1)
    for i in range(len(m)):
        out *= rows[i][i]
    return out


def solve(m: FracMatrix, b: Sequence[Fraction]) -> list[Fraction] | None:
    """One solution of ``m y = b`` (free variables 0), or None when there is none."""
    n = len(m[0])
    rows, pivots, _ = _echelon([[*row, rhs] for row, rhs in zip(m, b, strict=True)])
    if pivots and pivots[-1] == n:  # a row 0 = nonzero
        return None
    y = [Fraction(0)] * n
    for i in reversed(range(len(pivots))):
        c = pivots[i]
        y[c] = (rows[i][n] - _dot(rows[i][c + 1 : n], y[c + 1 :])) / rows[i][c]
    return y


# --------------------------------------------------------------------------------------------
# instances and sizes


def instance_names(
    names: Sequence[str] | None, known: Iterable[str], default: Sequence[str]
) -> tuple[str, ...]:
    """The instances to run: ``names`` when given (each must be ``known``), else ``default``."""
    if names is None:
        return tuple(default)
    known = list(known)
    for name in names:
        if name not in known:
            raise ValueError(f"unknown instance {name!r}; known: {', '.join(known)}")
    return tuple(names)


def instance_part(
    evidence: Evidence, name: str, detail: str, failed: Sequence[str], **record: Any
) -> Result:
    """One instance's sub-result: a fail when ``failed`` names any fact of the claim; the
    counterexample is then the instance, the facts that failed and its ``record``."""
    cex = {"instance": name, "failed": list(failed), **record} if failed else None
    return Result.verdict(not failed, evidence, detail, counterexample=cex)


def size_range(sizes: tuple[int, int]) -> range:
    """Inclusive range ``a..b`` of image sizes."""
    a, b = sizes
    return range(a, b + 1)


# --------------------------------------------------------------------------------------------
# solver claims


def fraction_model(model: dict[str, str] | None) -> dict[str, Fraction] | None:
    """z3 model values as Fractions; None when a value is not rational (e.g. ``1.41?``).

    Entries that are not variable names (z3's interpretation of division by zero, ``/0``)
    are skipped.
    """
    if model is None:
        return None
    out: dict[str, Fraction] = {}
    for k, v in model.items():
        if not k.isidentifier():
            continue
        try:
            out[k] = Fraction(v)
        except (ValueError, ZeroDivisionError):
            return None
    return out


def prove_claim(
    claim: Any,
    what: str,
    *,
    assumptions: tuple[Any, ...] = (),
    timeout_ms: int | None = None,
    exact: Callable[[dict[str, Fraction]], dict[str, Any]] | None = None,
) -> Result:
    """Prove ``assumptions ⇒ claim`` for all values (:func:`proofs._z3.prove`), as a result.

    ``pass`` needs every solver in use to say unsat; a counterexample is ``fail`` only after
    ``prove`` substituted it into the claim under test. With ``exact``, the model is read as
    Fractions and ``exact`` recomputes the claim's quantities there (the counterexample the
    result reports); a model that is not rational, or lacks a value ``exact`` needs, leaves
    the claim undecided, never failed.
    """
    from . import _z3

    v = _z3.prove(claim, assumptions=assumptions, timeout_ms=timeout_ms, what=what)
    result = _z3.verdict_result(v, what)
    if v.status != Status.FAIL or exact is None:
        return result
    model = fraction_model(v.model)
    try:
        found = None if model is None else exact(model)
    except KeyError:
        found = None
    if found is None:
        return Result.verdict(None, Evidence.PROOF, f"{what}: z3 model {v.model} not rational")
    at = ", ".join(f"{k} = {x}" for k, x in found.items())
    return Result.verdict(
        False,
        Evidence.PROOF,
        f"does not hold: {what}; counterexample {at} (re-checked exactly)",
        counterexample=found,
    )
