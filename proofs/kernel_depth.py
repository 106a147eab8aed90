"""Beyond kernel 3: the least depth without forced zeros for any odd kernel (Section 3.1).

For k×k filters with padding (k−1)/2 each layer lets a pixel reach ``r = (k−1)/2`` rows and
columns further, so ``L`` layers reach ``rL`` and the forced zeros disappear exactly at
``L = ⌈(s − 1)/r⌉`` — Theorem 4's ``s − 1`` for ``k = 3``.
"""

from __future__ import annotations

from collections.abc import Callable
from math import ceil
from typing import Any

from ._kit import size_range
from ._registry import register
from ._result import Evidence, Result


def _formula(s: int, k: int) -> int:
    r = (k - 1) // 2
    return 1 if s == 1 else max(1, ceil((s - 1) / r))


@register(
    "kernel.depth-formula",
    title="Least depth without forced zeros is ceil((s-1)/((k-1)/2)) for odd kernels k",
    statement="Generalizing Theorem 4: with k×k filters and padding (k − 1)/2 on s × s images, "
    "the forced zeros disappear exactly at depth ⌈(s − 1)/((k − 1)/2)⌉ (s − 1 for k = 3).",
    method="For each odd k and each s, the least depth is computed from structure (not from "
    "the formula): one layer's pattern along an axis is a band whose rows are intervals, and "
    "stacking layers composes the interval endpoints; the depth is the number of steps for "
    "the corner pixels to reach the opposite corners. It is compared with the formula, and "
    "at the formula's depth (and one layer less) the full pattern is certified with "
    "integer witnesses for the smaller sizes.",
    intuition=(
        "A k×k layer widens the reach by (k − 1)/2 pixels each way, so covering the s − "
        "1 steps between opposite corners takes ⌈(s − 1)/((k − 1)/2)⌉ layers."
    ),
    assumptions=("odd k ≥ 3, zero padding (k − 1)/2, stride 1 (k = 1 never reaches a neighbour)",),
    evidence="exact",
    reference="Theorem 4 (generalized to kernel k)",
    quick_params={"max_size": 32},
    wrong=(
        {"formula": lambda s, k: max(1, -(-(s - 1) // (k - 1)))},
        {"formula": lambda s, k: _formula(s, k) + 1},
    ),
    extension=True,
)
def check_depth_formula(
    *,
    quick: bool = False,
    kernels: tuple[int, ...] = (3, 5, 7, 9, 11),
    max_size: int = 128,
    certify_up_to: int = 24,
    formula: Callable[[int, int], int] = _formula,
) -> Result:
    from symconv import certify, conv_stack, min_full_depth

    bad: list[dict[str, Any]] = []
    n = 0
    for k in kernels:
        for s in size_range((1, max_size)):
            got = min_full_depth(s, k)
            want = formula(s, k)
            n += 1
            if got != want:
                bad.append({"kernel": k, "size": s, "computed": got, "formula": want})
                continue
            if s <= certify_up_to:
                full = certify(conv_stack(s, got, kernel=k))
                short = certify(conv_stack(s, got - 1, kernel=k)) if got > 1 else None
                if (
                    full.forced_zeros
                    or not full.certified
                    or (short is not None and s > 1 and short.forced_zeros == 0)
                ):
                    bad.append(
                        {"kernel": k, "size": s, "computed": got, "certificate": full.describe()}
                    )
    return Result.verdict(
        not bad,
        Evidence.EXACT,
        f"computed least depth equals the formula for {n} (kernel, size) pairs, k in "
        f"{list(kernels)}, s in 1..{max_size}; certified at s ≤ {certify_up_to}",
        fail_lead="the formula disagrees with the computed depth",
        counterexamples=bad,
    )
