"""Lemma 1: a single-layer linear autoencoder with a forced zero cannot memorize every input.

Memorizing one example ``v ∈ R^d`` means learning the projection onto it (Theorem 1 with
n = 1, Appendix A)::

    A = v vᵀ / vᵀv,      A_ij = v_i v_j / |v|².

If the architecture forces ``A_ij = 0`` whatever its weights (a *forced zero*, e.g. the zeros
of a convolution layer's matrix, Appendix D), then ``A`` can equal the projection only when
``v_i v_j = 0``: the memorizable inputs lie in the union of the coordinate hyperplanes
``{v_i = 0} ∪ {v_j = 0}``, a set of measure zero. So no such layer memorizes an arbitrary v.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import product
from typing import Any

from ._kit import matrix, matvec, mul, norm2, prove_claim
from ._registry import register
from ._result import Evidence, Result, Status
from ._z3 import find_model

__all__ = ["check_conv_layer", "check_forced_zero", "projection"]

Pair = tuple[int, int]


def projection(v: Sequence[Any]) -> list[list[Fraction]]:
    """The memorizing solution for one example, ``v vᵀ / vᵀv``, exactly (``v ≠ 0``)."""
    (q,) = matrix([v])
    n = norm2(q)
    if n == 0:
        raise ValueError(f"v: must be nonzero (got {list(v)!r})")
    return [[a * b / n for b in q] for a in q]


def _both_hyperplanes(z3: Any) -> Callable[[Any, Any], Any]:
    return lambda vi, vj: z3.Or(vi == 0, vj == 0)


@dataclass
class _Tally:
    """What ``lemma1.forced-zero`` found so far, in the order it was found."""

    witnesses: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    undecided: list[str] = field(default_factory=list)
    proved: int = 0

    def settle_zero_set(
        self, claim: Any, d: int | str, entry: list[Any], where: str, of: str
    ) -> None:
        """(b): prove that the projection's entry vanishes exactly on the claimed set."""
        result = prove_claim(claim, where)
        self.proved += result.status == Status.PASS
        if result.status == Status.FAIL:
            model = result.data["counterexample"]
            self.failures.append({"d": d, "entry": entry, "model": model,
                                  "reason": f"the claimed zero set {of} is wrong; "
                                  f"z3 counterexample {model}"})  # fmt: skip
        elif result.status != Status.PASS:
            self.undecided.append(result.detail)


def _nonzero_entry(
    tally: _Tally, v: list[Any], i: int, j: int, wrongly_compatible: set[Any]
) -> bool:
    """(a): z3 finds v with ``v_i v_j != 0``, and exactly, ``(v vᵀ / vᵀv)_ij = v_i v_j / |v|²``
    is nonzero and memorizes v. False when z3 finds no such v (then (b) is not tried)."""
    d = len(v)
    search = find_model(v[i] * v[j] != 0)
    if search.model is None:
        what = f"d={d}, ({i},{j}): no v with v_i v_j != 0"
        if search.found is False:
            tally.failures.append({"d": d, "entry": [i, j], "reason": what})
        else:
            tally.undecided.append(f"undecided: {what} (z3 could not decide)")
        return False
    (vec,) = matrix([[search.model.get(f"v{m}", "0") for m in range(d)]])  # "3", "-1/2"
    proj = projection(vec)
    entry = proj[i][j]
    memorizes = matvec(proj, vec) == vec
    idempotent = mul(proj, proj) == proj
    exact_ok = entry != 0 and entry == vec[i] * vec[j] / norm2(vec) and memorizes and idempotent
    witness = {"d": d, "entry": [i, j], "v": [str(x) for x in vec], "projection_entry": str(entry)}
    tally.witnesses.append(witness)
    if (i, j) in wrongly_compatible or not exact_ok:
        tally.failures.append(
            {
                **witness,
                "reason": f"the projection for v = {[str(x) for x in vec]} has (i, j) "
                f"entry {entry}, not 0: a forced zero at ({i}, {j}) is incompatible "
                "with memorizing this v",
            }
        )
    return True


def _entries_of_size(
    tally: _Tally, d: int, cond: Callable[[Any, Any], Any], wrongly_compatible: set[Any]
) -> None:
    """(a) and (b) for every entry (i, j) of a d x d matrix, one after the other."""
    import z3

    v = z3.Reals(" ".join(f"v{m}" for m in range(d)))
    norm = z3.Sum([x * x for x in v])
    p = z3.Real("p")
    for i, j in product(range(d), repeat=2):
        if not _nonzero_entry(tally, v, i, j, wrongly_compatible):
            continue
        # (b) the projection's (i, j) entry vanishes exactly on the claimed set
        claim = z3.Implies(z3.And(norm > 0, p * norm == v[i] * v[j]), (p == 0) == cond(v[i], v[j]))
        tally.settle_zero_set(claim, d, [i, j], f"d={d}, ({i},{j})", "of the (i, j) entry")


@register(
    "lemma1.forced-zero",
    title="A forced zero rules out memorizing an arbitrary input (Lemma 1)",
    statement="""A single layer linear autoencoder, represented by a matrix A in R^{d x d} with
    a single forced zero entry, cannot memorize an arbitrary v in R^d: memorizing v means
    A = v v^T / v^T v, which has no zero in a fixed, data-independent entry.""",
    method="""For each dimension d (2, 3, 4) and each entry (i, j): (a) z3 finds a vector v with
    v_i v_j != 0, and the toolkit re-checks outside the solver, in exact fractions, that the
    projection v v^T / v^T v has a nonzero (i, j) entry (equal to v_i v_j / |v|^2) and is
    the memorizing solution (P v = v, P^2 = P); so a matrix with a forced zero at (i, j) is
    not the projection for that v. (b) z3 proves over the reals, for every v and every
    value p: if v != 0 and p |v|^2 = v_i v_j (p is the (i, j) entry of the projection), then
    p = 0 exactly when v_i = 0 or v_j = 0. So the inputs a forced zero at (i, j) still
    allows to be memorized form the union of two coordinate hyperplanes (one when i = j), a
    set of measure zero. The same implication is also proved once for every d, writing
    |v|^2 = v_i^2 + v_j^2 + r (r >= 0 the rest of the sum), for i != j and for i = j.""",
    intuition=(
        "To memorize an arbitrary v a linear map must be the projection v v^T / v^T v, "
        "whose (i, j) entry v_i v_j / |v|² is nonzero for almost every v; a matrix with "
        "a forced zero at (i, j) is never that projection."
    ),
    assumptions=(
        "'memorize v' means: A equals the projection v v^T / v^T v onto span{v} (v is "
        "kept, every other input is sent into span{v}), not merely A v = v",
        "the obvious objection: one 3×3 filter with only its centre tap is the "
        "identity; it has forced zeros everywhere off the diagonal and maps v to v, but "
        "it maps every other image to itself too. It reproduces, it does not memorize: "
        "it is not the projection onto v. Lemma 1 is about the projection onto an "
        "ARBITRARY (generic) input",
        "v is arbitrary: the few v a forced zero still allows (v_i = 0 or v_j = 0) form "
        "a set of measure zero",
    ),
    evidence="proof",
    reference="Lemma 1; Theorem 1 (n = 1)",
    quick_params={"dims": (2, 3)},
    wrong=({"dims": (2,), "zero_set": lambda vi, vj: vi == 0},),
)
def check_forced_zero(
    *,
    quick: bool = False,
    dims: Sequence[int] = (2, 3, 4),
    compatible: Sequence[Pair] = (),
    zero_set: Callable[[Any, Any], Any] | None = None,
) -> Result:
    """Wrong variants: ``compatible`` lists entries claimed to be zero in the projection for
    every nonzero v (the paper: none); ``zero_set(vi, vj)`` is the claimed z3 condition for
    the projection's (i, j) entry to vanish (the paper: ``v_i = 0 or v_j = 0``)."""
    import z3

    cond = zero_set or _both_hyperplanes(z3)
    wrongly_compatible = {tuple(p) for p in compatible}
    tally = _Tally()
    for d in dims:
        _entries_of_size(tally, d, cond, wrongly_compatible)
    # (b) for every d at once: only v_i, v_j and the rest of |v|² (some r >= 0) appear
    vi, vj, r, p = z3.Reals("vi vj r p")
    for label, norm, a, b in (
        ("i != j", vi * vi + vj * vj + r, vi, vj),
        ("i == j", vi * vi + r, vi, vi),
    ):
        claim = z3.Implies(z3.And(r >= 0, norm > 0, p * norm == a * b), (p == 0) == cond(a, b))
        tally.settle_zero_set(claim, "any", [label], f"any d, {label}", f"for every d ({label})")
    return _forced_zero_verdict(tally, dims)


def _forced_zero_verdict(tally: _Tally, dims: Sequence[int]) -> Result:
    """The verdict of ``lemma1.forced-zero``: the first failure, else the first undecided."""
    total = sum(d * d for d in dims)
    data: dict[str, Any] = {
        "dims": list(dims), "entries": total, "proved": tally.proved,
        "witnesses": tally.witnesses[:8],
    }  # fmt: skip
    if tally.failures:
        f = tally.failures[0]
        detail = f"d={f['d']}, entry {tuple(f['entry'])}: {f['reason']}."
    elif tally.undecided:
        detail = tally.undecided[0]
        data["undecided"] = tally.undecided
    else:
        detail = (
            f"for d in {list(dims)} and all {total} entries (i, j): z3 found v with a nonzero "
            "projection entry (re-checked exactly); and z3 proved, for every d (writing |v|^2 = "
            "v_i^2 + v_j^2 + r with r >= 0) and for each listed d entry by entry, that the entry "
            "vanishes only when v_i = 0 or v_j = 0: a forced zero allows memorizing only a "
            "measure-zero set of v."
        )
    holds = False if tally.failures else None if tally.undecided else True
    return Result.verdict(holds, Evidence.PROOF, detail, counterexamples=tally.failures, **data)


@register(
    "lemma1.conv-layer",
    title="No single 3x3 conv layer is the memorizing projection of a generic image",
    statement="""Since single layer single filter convolutional autoencoders have forced zeros,
    Lemma 1 shows that these networks cannot memorize arbitrary inputs.""",
    method="""For s = 3 and 4 the toolkit takes the symbolic matrix of one 3 x 3 convolution
    layer (weights A1..A9, 'same' padding) from symconv and reads off its forced zeros: the
    entries that are the number 0 whatever the weights. For an integer image v (by default
    all ones) it computes the projection v v^T / v^T v exactly and checks that it is nonzero
    at a forced zero, so no choice of A1..A9 makes the layer equal to the projection: the
    layer cannot memorize v.""",
    intuition=(
        "One 3×3 layer joins each output pixel only to its 3×3 neighbourhood, so most "
        "entries of its matrix are forced zeros, while the projection onto a generic "
        "image has no zero entry at all."
    ),
    assumptions=(
        "one layer, one 3×3 filter, 'same' zero padding, s ≥ 3",
        "a generic image v (all ones by default), whose projection v v^T / v^T v has no zero entry",
        "memorize = equal the projection onto v (Lemma 1); the centre-tap identity maps "
        "v to v but is not that projection",
    ),
    evidence="exact",
    reference="Lemma 1; Appendix D",
    wrong=({"sizes": (3,), "images": {3: [1] + [0] * 8}},),
)
def check_conv_layer(
    *,
    quick: bool = False,
    sizes: Sequence[int] = (3, 4),
    images: dict[int, Sequence[int]] | None = None,
) -> Result:
    """``images[s]``: the vectorized s×s image v to test (default all ones)."""
    from symconv import conv_stack, network_matrix_symbolic

    rows: list[dict[str, Any]] = []
    for s in sizes:
        m = network_matrix_symbolic(conv_stack(s, 1))
        zeros = [(i, j) for i in range(m.rows) for j in range(m.cols) if m[i, j] == 0]
        v = list((images or {}).get(s, [1] * (s * s)))
        proj = projection(v)
        hits = [(i, j) for i, j in zeros if proj[i][j] != 0]
        rows.append(
            {
                "size": s,
                "image": v,
                "forced_zeros": len(zeros),
                "forced_zeros_where_projection_nonzero": len(hits),
                "example": None
                if not hits
                else {
                    "entry": list(hits[0]),
                    "projection_entry": str(proj[hits[0][0]][hits[0][1]]),
                },
                "ok": bool(hits),
            }
        )
    bad = [r for r in rows if not r["ok"]]
    if bad:
        r = bad[0]
        detail = (
            f"s={r['size']}, v = {r['image']}: the projection v v^T / v^T v is zero at every "
            f"one of the {r['forced_zeros']} forced zeros, so the forced-zero argument does not "
            "rule out memorizing this v."
        )
    else:
        detail = ", ".join(
            f"s={r['size']}: {r['forced_zeros']} forced zeros, e.g. entry "
            f"{tuple(r['example']['entry'])} where the projection is "
            f"{r['example']['projection_entry']}"
            for r in rows
        )
        detail += "; so no single 3x3 conv layer equals the memorizing projection of these images."
    return Result.verdict(not bad, Evidence.EXACT, detail, counterexamples=bad, cases=rows)
