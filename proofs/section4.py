"""Section 4: downsampling trades depth for memorization.

Section 4 argues that downsampling can compensate for depth. With one stride-2 3×3 layer
from s×s to (s/2)×(s/2), L stride-1 layers there and nearest-neighbour upsampling back, the
forced zeros disappear at ``L = s/2 − 1``: half the ``s − 1`` layers Theorem 4 needs without
downsampling.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from ._kit import size_range
from ._registry import register
from ._result import Evidence, Result


def _half(s: int) -> int:
    return s // 2 - 1


@register(
    "sec4.downsampling-depth",
    title="One stride-2 layer halves the depth needed to remove forced zeros",
    statement="Downsampling can compensate for depth (Section 4): after one stride-2 layer, "
    "s/2 − 1 further 3×3 layers (then upsampling) leave no forced zero on s × s images, "
    "against s − 1 layers without downsampling.",
    method="For each even s, the network stride-2 conv → L conv layers → ×2 nearest "
    "upsampling is built for L = 0, 1, …; its pattern is computed from structure (a "
    "Kronecker product of small factors, strides and upsampling included) and the least L "
    "with no forced zero is compared with the claim; the full pattern at that L is "
    "certified with integer witnesses.",
    intuition=(
        "After a stride-2 layer the image is half as wide, so opposite corners are s/2 "
        "− 1 pixels apart and each 3×3 layer still covers one of them; the ×2 "
        "upsampling copies each pixel to a 2×2 block and adds no forced zero."
    ),
    assumptions=(
        "one stride-2 3×3 layer, then L 3×3 layers at size s/2, then ×2 nearest upsampling",
        "even s; full support is necessary for memorization, not sufficient",
    ),
    evidence="exact",
    reference="Section 4",
    quick_params={"max_size": 32},
    wrong=({"claimed": lambda s: s - 1}, {"claimed": lambda s: s // 2 - 2}),
    extension=True,
)
def check_downsampling_depth(
    *, quick: bool = False, max_size: int = 64, claimed: Callable[[int], int] = _half
) -> Result:
    from paperdata import downsampling_net
    from symconv import certify, min_full_depth_of

    bad = []
    sizes = [s for s in size_range((4, max_size)) if s % 2 == 0]
    for s in sizes:
        got = min_full_depth_of(partial(downsampling_net, s), s)
        cert = certify(downsampling_net(s, got)) if got is not None else None
        if got != claimed(s) or cert is None or not cert.certified or cert.forced_zeros:
            bad.append({"size": s, "computed": got, "claimed": claimed(s)})
    return Result.verdict(
        not bad,
        Evidence.EXACT,
        f"for even s in 4..{max_size}: least depth after one stride-2 layer = s/2 − 1 "
        f"(certified), against s − 1 without downsampling",
        fail_lead="least depth after downsampling differs from the claim",
        counterexamples=bad,
    )
