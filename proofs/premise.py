"""Section 3.1's premise: a single 3×3 convolution layer has forced zeros (s ≥ 3).

Appendix D's matrix for one 3×3 filter on a 3×3 image has zeros in fixed places; in
general output pixel (i, j) sees only inputs within one row and one column, so an s×s
image gives ``(3s − 2)²`` nonzero entries out of ``s⁴`` and ``s⁴ − (3s − 2)²`` forced zeros,
a positive number exactly when ``s ≥ 3``. By Lemma 1, a matrix with a forced zero cannot be
the memorizing projection of an arbitrary image: this is why the single-filter layer of
Theorem 3 learns a full-rank map rather than memorizing.
"""

from __future__ import annotations

from ._kit import size_range
from ._registry import register
from ._result import Evidence, Result


@register(
    "premise.single-layer",
    title="One 3x3 conv layer has s^4 - (3s-2)^2 forced zeros: some for every s >= 3",
    statement="A single layer single filter convolutional autoencoder has forced zeros in its "
    "matrix, so by Lemma 1 it cannot memorize arbitrary inputs (Section 3.1, Appendix D); "
    "this holds for images of size 3 × 3 or larger.",
    method="For each s the single-layer pattern is computed from the layer's structure, its "
    "number of forced zeros compared with the count s⁴ − (3s − 2)² (each output pixel sees a "
    "3×3 window clipped at the border: Σ over rows of the clipped widths, squared), and the "
    "pattern certified with integer witnesses. Sizes 1 and 2 must have none, sizes "
    "3 and up must have some.",
    intuition=(
        "Output pixel (r, c) sees only input rows r−1..r+1 and columns c−1..c+1; per "
        "axis that is a band with 3s − 2 ones, so (3s − 2)² of the s⁴ entries are "
        "reachable and the rest are forced zeros."
    ),
    assumptions=(
        "one 3×3 filter, stride 1, zero padding 1",
        "s ≥ 3 (a 2×2 image lies inside every 3×3 window, so s = 2 has none)",
    ),
    evidence="exact",
    reference="Section 3.1; Lemma 1; Appendix D",
    quick_params={"max_size": 32},
    wrong=({"min_size": 2}, {"min_size": 4}),
)
def check_single_layer(*, quick: bool = False, min_size: int = 3, max_size: int = 64) -> Result:
    from symconv import certify, conv_stack

    bad = []
    for s in size_range((1, max_size)):
        cert = certify(conv_stack(s, 1))
        expected = s**4 - (3 * s - 2) ** 2 if s >= 2 else 0
        has_zeros = cert.forced_zeros > 0
        if cert.forced_zeros != expected or has_zeros != (s >= min_size) or not cert.certified:
            bad.append(
                {
                    "size": s,
                    "forced_zeros": cert.forced_zeros,
                    "formula": expected,
                    "certificate": cert.describe(),
                }
            )
    return Result.verdict(
        not bad,
        Evidence.EXACT,
        f"for s in 1..{max_size}: forced zeros = s⁴ − (3s − 2)² (certified), positive exactly "
        f"for s ≥ {min_size}; e.g. s = 3: 32 of 81 entries, as in Appendix D",
        fail_lead="the single-layer zero count disagrees with the claim",
        counterexamples=bad,
    )
