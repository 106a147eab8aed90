"""Corollary of Theorem 4: two kernel-3 layers cannot memorize 4×4 images or larger.

*A 2-layer linear convolutional autoencoder with filters of kernel size 3 and stride 1 for
the hidden representation cannot memorize images of size 4 × 4 or larger, independently of
the number of filters.*

Two 3×3 layers let each output pixel see inputs at most 2 rows and 2 columns away; on a 4×4
image the corners are 3 apart, so the end-to-end matrix has forced zeros and, by Lemma 1,
is not the memorizing projection of an arbitrary image. On 3×3 images two layers already
reach everything, so 4 is the smallest size the corollary can name.
"""

from __future__ import annotations

from ._kit import size_range
from ._registry import register
from ._result import Evidence, Result


@register(
    "cor.depth2",
    title="Two 3x3 layers cannot memorize 4x4 images or larger, for any number of filters",
    statement="A 2-layer linear convolutional autoencoder with filters of kernel size 3 and "
    "stride 1 for the hidden representation cannot memorize images of size 4 × 4 or larger, "
    "independently of the number of filters.",
    method="For each size from 4 up and each filter count F (1, 16, 128), the 2-layer "
    "network 1 → F → 1 is built, its forced-zero pattern computed from structure and "
    "certified with integer witnesses; the claim holds when a forced zero remains (then "
    "Lemma 1 applies). Sizes 1 to 3 are checked to be fully supported, which shows "
    "the size 4 in the corollary cannot be lowered.",
    intuition=(
        "Two 3×3 layers reach two pixels each way; on a 4×4 image opposite corners are "
        "three apart, so the corner-to-corner entry is a forced zero for every number "
        "of filters."
    ),
    assumptions=("linear, 3×3 filters, stride 1, zero padding 1, s ≥ 4, any F",),
    evidence="exact",
    reference="Corollary of Theorem 4 (Section 3.1)",
    quick_params={"max_size": 24},
    wrong=({"min_size": 3}, {"min_size": 5}),
)
def check_depth2(
    *,
    quick: bool = False,
    min_size: int = 4,
    max_size: int = 64,
    filters: tuple[int, ...] = (1, 16, 128),
) -> Result:
    from symconv import certify, conv_stack

    bad = []
    for s in size_range((min_size, max_size)):
        for f in filters:
            cert = certify(conv_stack(s, 2, filters=f))
            if cert.forced_zeros == 0 or not cert.certified:
                bad.append({"size": s, "filters": f, "certificate": cert.describe()})
    sharp = {s: certify(conv_stack(s, 2)).forced_zeros == 0 for s in range(1, min_size)}
    # the size is sharp: below it two layers have full support (else the claim is too weak)
    bad += [{"size": s, "filters": 1, "full_support": False} for s, ok in sharp.items() if not ok]
    return Result.verdict(
        not bad,
        Evidence.EXACT,
        f"2 layers leave forced zeros for every s in {min_size}..{max_size} and F in "
        f"{list(filters)} (certified); sizes {sorted(sharp)} are fully supported at depth 2",
        fail_lead="2 layers already have full support",
        counterexamples=bad,
        full_below_min_size=sharp,
    )
