"""Theorem 4, the symbolic view: s − 1 layers of 3×3 convolutions are needed on s×s images.

For a linear convolutional autoencoder of depth L (kernel 3, stride 1, padding 1) the
end-to-end matrix is the product of the layer matrices (Appendix D)::

    M = W_L ⋯ W_2 W_1,     M[p, q] = Σ over paths q → … → p of products of weights.

One layer moves information by at most one pixel in each direction, so after L layers the
entry ``M[p, q]`` is the zero polynomial whenever pixels p and q are more than L apart (in
the max-norm). Opposite corners of an s×s image are s − 1 apart, so at depth s − 2 the entry
``M[0, s² − 1]`` is identically zero (a *forced zero*: by Lemma 1 the network cannot memorize
an arbitrary image), whatever the number of filters in the hidden layers; at depth s − 1 every
entry can be nonzero. Theorem 4: at least s − 1 layers are required for memorization.

This module checks that on small sizes with sympy (distinct symbols per layer, A.., B.., C..)
and exact integer witnesses; ``proofs.thm4`` is the structural version for large sizes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._registry import register
from ._result import Evidence, Result

__all__ = ["check_symbolic", "entry_polynomial", "full_support_witness"]

#: A prime below 2**26 (symconv's bound for exact int64 products): a nonzero residue of an
#: integer entry proves the integer entry is nonzero.
PRIME = 67_108_859


def entry_polynomial(size: int, depth: int, i: int, j: int, *, filters: int = 1) -> Any:
    """The expanded sympy polynomial ``M[i, j]`` of the depth-``depth`` kernel-3 network.

    Only row ``i`` is carried through the layers (``e_iᵀ W_L``, then ``· W_{L−1}``, …), so
    the cost is one row of polynomials per layer instead of the whole product.
    """
    import sympy

    from symconv import conv_entries, conv_stack, symbolic_weights

    net = conv_stack(size, depth, filters=filters)
    weights = symbolic_weights(net)
    shapes = net.shapes
    row: dict[int, Any] = {i: sympy.Integer(1)}  # sparse row vector over the current outputs
    for pos in range(depth - 1, -1, -1):
        layer = net.layers[pos]
        r, c, wi = conv_entries(layer, shapes[pos])
        flat = np.asarray(weights[pos]).reshape(-1)
        nxt: dict[int, Any] = {}
        for a, b, k in zip(r.tolist(), c.tolist(), wi.tolist(), strict=True):
            if a in row:
                nxt[b] = nxt.get(b, 0) + row[a] * flat[k]
        row = {b: sympy.expand(e) for b, e in nxt.items()}
        row = {b: e for b, e in row.items() if e != 0}
    return sympy.expand(row.get(j, sympy.Integer(0)))


def full_support_witness(
    size: int, depth: int, *, filters: int = 1, seed: int = 0, tries: int = 8, bound: int = 9
) -> tuple[list[np.ndarray] | None, list[tuple[int, int]]]:
    """Integer weights (entries in [−bound, bound]) for which every entry of ``M`` is nonzero.

    Each try draws weights and computes ``M`` exactly mod :data:`PRIME`; a nonzero residue
    certifies a nonzero integer entry. Returns (weights, []) on success, otherwise
    (None, entries that were zero in every try).
    """
    from symconv import Conv2d, conv_stack, network_matrix_mod

    net = conv_stack(size, depth, filters=filters)
    rng = np.random.default_rng(seed)
    always_zero: set[tuple[int, int]] | None = None
    for _ in range(tries):
        ws = [
            rng.integers(-bound, bound + 1, size=(c.out_channels, c.in_channels, 3, 3))
            for c in net.layers
            if isinstance(c, Conv2d)  # conv_stack builds convolutions only
        ]
        m = network_matrix_mod(net, ws, PRIME).toarray()
        zeros = {(int(a), int(b)) for a, b in zip(*np.nonzero(m == 0), strict=True)}
        if not zeros:
            return ws, []
        always_zero = zeros if always_zero is None else always_zero & zeros
    return None, sorted(always_zero or set())


def _named(size: int, i: int, j: int) -> str:
    return f"M[{i}, {j}] (output pixel {divmod(i, size)} <- input pixel {divmod(j, size)})"


@register(
    "thm4.symbolic",
    title="Depth s-2 leaves a forced zero, depth s-1 has full support (sympy, small s)",
    statement="""At least s - 1 layers are required for memorization (regardless of the number
    of filters per layer) in a linear convolutional autoencoder with filters of kernel size 3
    applied to images of size s x s.""",
    method="""For s = 3, 4, 5, sympy multiplies the layer matrices with a distinct symbol for
    every weight of every layer (A1..A9, B1..B9, ...), carrying only the needed row, and
    finds the entry output pixel 0 <- input pixel s^2 - 1 (opposite corners) is the zero
    polynomial at depth s - 2: a forced zero, so by Lemma 1 the network cannot memorize an
    arbitrary image. The same holds with 2 filters in the hidden layers (s = 4, 5): filters
    do not help. At depth s - 1 integer weights in [-9, 9] are drawn and the whole product is
    computed exactly (modulo a prime below 2^26; a nonzero residue proves a nonzero integer);
    every entry is nonzero, so depth s - 1 has no forced zero and the bound is the exact
    depth at which forced zeros disappear.""",
    intuition=(
        "Multiply the layers' symbolic matrices: at depth s − 2 the corner-to-corner "
        "entry is the polynomial 0, at depth s − 1 every entry is a nonzero polynomial "
        "in the weights."
    ),
    assumptions=(
        "one filter per layer, 3×3, zero padding 1, small s (sympy expands the polynomials)",
    ),
    evidence="exact",
    reference="Theorem 4; Lemma 1; Appendix D",
    quick_params={"sizes": (3, 4), "filter_sizes": (4,)},
    wrong=(
        {"sizes": (3, 4), "filter_sizes": (), "claimed_depth": lambda s: s - 2},
        {"sizes": (3, 4), "filter_sizes": (), "claimed_depth": lambda s: s},
    ),
)
def check_symbolic(
    *,
    quick: bool = False,
    sizes: Sequence[int] = (3, 4, 5),
    filter_sizes: Sequence[int] = (4, 5),
    filters: int = 2,
    claimed_depth: Callable[[int], int] = lambda s: s - 1,
    seed: int = 0,
) -> Result:
    """``claimed_depth(s)``: the claimed least depth without forced zeros (paper: s − 1)."""
    rows: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for s in sizes:
        rows.append(_one_size(s, claimed_depth(s), 1, seed, failures, full=True))
    for s in filter_sizes:
        rows.append(_one_size(s, claimed_depth(s), filters, seed, failures, full=False))
    unknown = [r["undecided"] for r in rows if r.get("undecided")]
    if failures:
        detail = failures[0]["reason"]
    elif unknown:
        detail = unknown[0]
    else:
        detail = "; ".join(_found(r) for r in rows) + "."
    holds = False if failures else None if unknown else True
    return Result.verdict(holds, Evidence.EXACT, detail, counterexamples=failures, cases=rows)


def _found(r: dict[str, Any]) -> str:
    """What one row of :func:`check_symbolic` established, in words."""
    text = f"s={r['size']}, F={r['filters']}: {r['zero_entry']} = 0 at depth {r['depth_below']}"
    if r["full"]:
        text += f", all {r['size'] ** 4} entries nonzero at depth {r['depth']}"
    return text


def _one_size(
    s: int, depth: int, filters: int, seed: int, failures: list[dict[str, Any]], *, full: bool
) -> dict[str, Any]:
    """Forced zero at ``depth − 1`` and (if ``full``) full support at ``depth``."""
    row: dict[str, Any] = {
        "size": s,
        "filters": filters,
        "depth": depth,
        "depth_below": depth - 1,
        "zero_entry": _named(s, 0, s * s - 1),
        "full": full,
    }
    if depth - 1 >= 0:
        _corner_below(row, seed, failures)
    if full:
        _full_support(row, seed, failures)
    return row


def _corner_below(row: dict[str, Any], seed: int, failures: list[dict[str, Any]]) -> None:
    """At depth ``row["depth_below"]`` the corner entry ``M[0, s² − 1]`` is the polynomial 0;
    otherwise a full-support witness there is a failure of the claimed depth."""
    s, filters, depth, below = row["size"], row["filters"], row["depth"], row["depth_below"]
    n = s * s
    poly = entry_polynomial(s, below, 0, n - 1, filters=filters)
    row["entry_below"] = str(poly)
    if poly == 0:
        return
    ws, _ = full_support_witness(s, below, filters=filters, seed=seed)
    if ws is not None:
        failures.append(
            {
                "size": s,
                "filters": filters,
                "depth": below,
                "witness": [w.tolist() for w in ws],
                "reason": f"s={s}, F={filters}: depth {below} already has no forced zero "
                f"(integer weights make all {n * n} entries nonzero), so fewer than the "
                f"claimed {depth} layers suffice for full support",
            }
        )
    else:
        row["undecided"] = (
            f"s={s}: {_named(s, 0, n - 1)} is not zero at depth {below}, "
            "and no full-support witness was found"
        )


def _full_support(row: dict[str, Any], seed: int, failures: list[dict[str, Any]]) -> None:
    """At depth ``row["depth"]`` integer weights make every entry nonzero; an entry that is the
    zero polynomial there is a failure of the claimed depth."""
    s, filters, depth = row["size"], row["filters"], row["depth"]
    ws, zeros = full_support_witness(s, depth, filters=filters, seed=seed)
    if ws is not None:
        row["witness"] = [w.tolist() for w in ws]
        return
    zeros = sorted(zeros, key=lambda e: e != (0, s * s - 1))  # the corner entry first
    forced = [
        (a, b) for a, b in zeros[:4] if entry_polynomial(s, depth, a, b, filters=filters) == 0
    ]
    if forced:
        a, b = forced[0]
        failures.append(
            {
                "size": s,
                "filters": filters,
                "depth": depth,
                "entry": [a, b],
                "reason": f"s={s}: at the claimed depth {depth} the entry "
                f"{_named(s, a, b)} "
                "is identically zero (a forced zero), so the claimed depth does not "
                "remove all forced zeros",
            }
        )
    else:
        row["undecided"] = (
            f"s={s}: no full-support witness at depth {depth} and no "
            "forced zero found among the entries that stayed zero"
        )
