"""The sympy identities behind ``proof`` verdicts, as source the checks run and export.

Each :class:`Identity` holds a short sympy snippet that defines ``lhs`` and ``rhs``. The check
that rests on it executes exactly that snippet (:func:`evaluate`), and ``verify certificates``
writes it out as a standalone script (:func:`script`) that imports only sympy, re-derives the
identity, prints ``OK <name>`` and exits 0 when ``lhs`` equals ``rhs`` (structurally, or after
expanding and simplifying the difference to zero), and prints the residual and exits 1
otherwise. Because the check and the script share one text, they cannot drift apart.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

#: The decision both the checks and the scripts use: equal, or a difference that expands and
#: simplifies to the scalar 0 or a ``ZeroMatrix``.
HOLDS_SOURCE = '''\
def residual(lhs, rhs):
    """None when lhs == rhs, else the simplified difference (which is not zero)."""
    if lhs == rhs:
        return None
    rest = sp.simplify(sp.expand(lhs - rhs))
    if rest == 0 or getattr(rest, "is_ZeroMatrix", False):
        return None
    return rest
'''

_THM1_SYMBOLS = """\
d = sp.Symbol("d", integer=True, positive=True)
t = sp.Symbol("t", integer=True, nonnegative=True)
gamma = sp.Symbol("gamma", positive=True)
S = sp.MatrixSymbol("S", d, d)
P = sp.MatrixSymbol("P", d, d)  # stands for (I - gamma S)^t in the inductive step
I = sp.Identity(d)
M = I - gamma * S
"""

_CHORD = """\
b, xj, phi0, gamma, bx = sp.symbols("b_j x_j phi0 gamma Bx", real=True)
# the one assumption: x_1 != phi(0), so q = phi(0) - x_1 and p = phi^-1(x_1) are nonzero
q = sp.Symbol("q", real=True, nonzero=True)
p = sp.Symbol("p", real=True, nonzero=True)
x1 = phi0 - q
s = SIGN * q / p  # the chord's slope s_i (SIGN = -1 is the sign the paper prints)
"""

_X = """\
x = sp.Symbol("x", real=True)
sig = 1 / (1 + sp.exp(-x))
th = sp.tanh(x)
"""


@dataclass(frozen=True)
class Identity:
    """One sympy identity: ``source`` defines ``lhs`` and ``rhs`` (``sp`` is sympy)."""

    name: str
    check: str
    statement: str
    source: str
    params: tuple[tuple[str, int], ...] = ()


IDENTITIES: tuple[Identity, ...] = (
    Identity(
        "thm1.gradient",
        "thm1.closed-form",
        "dL/dA = (A - I) X X^T for L(A) = 1/2 tr((AX - X)^T (AX - X)), A d x d, X d x n, "
        "for symbolic sizes d, n",
        """\
d, n = sp.symbols("d n", integer=True, positive=True)
A, X = sp.MatrixSymbol("A", d, d), sp.MatrixSymbol("X", d, n)
R = A * X - X
lhs = (sp.Trace(R.T * R) / 2).diff(A)
rhs = (A - sp.Identity(d)) * X * X.T
""",
    ),
    Identity(
        "thm1.base-case",
        "thm1.closed-form",
        "base case of A(t) = I - (I - gamma S)^(t + OFFSET): I - (I - gamma S)^OFFSET = A(0) = 0 "
        "(the paper's formula has OFFSET = 0)",
        _THM1_SYMBOLS + "lhs = (I - sp.MatPow(M, OFFSET)).doit()\nrhs = sp.ZeroMatrix(d, d)\n",
        (("OFFSET", 0),),
    ),
    Identity(
        "thm1.power-rule",
        "thm1.closed-form",
        "(I - gamma S)^t (I - gamma S) = (I - gamma S)^(t+1) for a symbolic exponent t",
        _THM1_SYMBOLS
        + "lhs = sp.MatMul(sp.MatPow(M, t), M).doit()\nrhs = sp.MatPow(M, t + 1).doit()\n",
    ),
    Identity(
        "thm1.inductive-step",
        "thm1.closed-form",
        "with P = (I - gamma S)^t and A(t) = I - P: I - P M = A(t) + gamma (I - A(t)) S",
        _THM1_SYMBOLS + "lhs = I - P * M\nrhs = (I - P) + gamma * (I - (I - P)) * S\n",
    ),
    Identity(
        "thm1.m-commutes-with-s",
        "thm1.closed-form",
        "M S = S M for M = I - gamma S",
        _THM1_SYMBOLS + "lhs = M * S\nrhs = S * M\n",
    ),
    Identity(
        "thm1.commuting-lemma",
        "thm1.closed-form",
        "(P M) S - S (P M) = (P S - S P) M + P (M S - S M), so P S = S P and M S = S M give "
        "M^(t+1) S = S M^(t+1)",
        _THM1_SYMBOLS
        + "lhs = P * M * S - S * P * M\nrhs = (P * S - S * P) * M + P * (M * S - S * M)\n",
    ),
    Identity(
        "thm2.chord-update",
        "thm2.linearization",
        "with s = (phi(0) - x_1)/p, p = phi^-1(x_1), and gamma_i = gamma/s: the chord update "
        "b_j + gamma_i x_j (-s Bx + phi(0) - x_1) is the gradient descent update "
        "b_j - gamma x_j (Bx - p) of B x = phi^-1(x), assuming x_1 != phi(0) (so s != 0; "
        "the paper's printed sign is SIGN = -1)",
        _CHORD
        + "lhs = b + (gamma / s) * xj * (-s * bx + phi0 - x1)\nrhs = b - gamma * xj * (bx - p)\n",
        (("SIGN", 1),),
    ),
    Identity(
        "thm2.chord-through",
        "thm2.linearization",
        "the chord phi(0) + OFFSET - s z with s = (phi(0) - x_1)/p passes through (p, x_1), "
        "p = phi^-1(x_1), assuming x_1 != phi(0) (Appendix B's chord has OFFSET = 0)",
        _CHORD + "lhs = phi0 + OFFSET - s * p\nrhs = x1\n",
        (("SIGN", 1), ("OFFSET", 0)),
    ),
    Identity(
        "thm2.sigmoid-d1",
        "thm2.assumption-c",
        "sigmoid' = s (1 - s) with s = 1 / (1 + exp(-x))",
        _X + "lhs = sp.diff(sig, x)\nrhs = sig * (1 - sig)\n",
    ),
    Identity(
        "thm2.sigmoid-d2",
        "thm2.assumption-c",
        "sigmoid'' = s (1 - s) (1 - 2 s)",
        _X + "lhs = sp.diff(sig, x, 2)\nrhs = sig * (1 - sig) * (1 - 2 * sig)\n",
    ),
    Identity(
        "thm2.tanh-d1",
        "thm2.assumption-c",
        "tanh' = 1 - t^2 with t = tanh(x)",
        _X + "lhs = sp.diff(th, x)\nrhs = 1 - th**2\n",
    ),
    Identity(
        "thm2.tanh-d2",
        "thm2.assumption-c",
        "tanh'' = -2 t (1 - t^2)",
        _X + "lhs = sp.diff(th, x, 2)\nrhs = -2 * th * (1 - th**2)\n",
    ),
)

_BY_NAME = {i.name: i for i in IDENTITIES}


def get(name: str) -> Identity:
    """The identity called ``name`` (``KeyError`` if there is none)."""
    return _BY_NAME[name]


def _bindings(identity: Identity, overrides: dict[str, int]) -> dict[str, int]:
    values = dict(identity.params)
    unknown = set(overrides) - set(values)
    if unknown:
        raise ValueError(f"{identity.name} has no parameter {sorted(unknown)}")
    values.update(overrides)
    return values


def evaluate(name: str, **params: int) -> tuple[Any, Any, Any]:
    """Run the snippet; return ``(lhs, rhs, residual)``, the residual ``None`` if it holds."""
    import sympy

    identity = get(name)
    namespace: dict[str, Any] = {"sp": sympy, **_bindings(identity, params)}
    exec(HOLDS_SOURCE, namespace)  # fixed source text of this module
    exec(identity.source, namespace)
    lhs, rhs = namespace["lhs"], namespace["rhs"]
    return lhs, rhs, namespace["residual"](lhs, rhs)


def script(name: str, **params: int) -> str:
    """Standalone Python script (imports only sympy) that re-derives identity ``name``."""
    identity = get(name)
    values = _bindings(identity, params)
    statement = "\n".join(textwrap.wrap(identity.statement, 88))
    assigns = "".join(f"{k} = {v!r}\n" for k, v in values.items())
    return (
        f'"""{identity.name} (check {identity.check}): re-derives with sympy\n\n'
        f"{statement}\n\n"
        f'Prints "OK {identity.name}" and exits 0 when it holds; prints the residual and exits 1\n'
        'otherwise."""\n\n'
        "import sys\n\nimport sympy as sp\n\n"
        f"{HOLDS_SOURCE}\n\n"
        f"{assigns}{identity.source}\n"
        "rest = residual(lhs, rhs)\n"
        "if rest is None:\n"
        f'    print("OK {identity.name}")\n'
        "    sys.exit(0)\n"
        f'print("FAIL {identity.name}: residual", rest)\n'
        "sys.exit(1)\n"
    )


def for_checks(check_ids: set[str]) -> list[Identity]:
    """The identities behind the given checks, in registry order."""
    return [i for i in IDENTITIES if i.check in check_ids]
