"""Theorem 4: kernel-3 linear convolutional autoencoders on s×s images need ≥ s−1 layers.

*At least s − 1 layers are required for memorization (regardless of the number of filters
per layer) in a linear convolutional autoencoder with filters of kernel size 3 applied to
images of size s × s.*

The end-to-end matrix of ``L`` such layers has pattern ``ones(F) ⊗ B^L ⊗ B^L`` with ``B``
the tridiagonal s×s band; entry (output pixel 0, input pixel s²−1) — opposite corners — is
identically zero while ``L < s − 1``, and by Lemma 1 a matrix with a forced zero cannot be
the memorizing projection of an arbitrary image. At ``L = s − 1`` every entry is a nonzero
polynomial (certified by integer witnesses), so the bound is exactly where the forced
zeros end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from symconv import Certificate, Network

from ._kit import prove_claim, size_range
from ._registry import register
from ._result import Evidence, Result

DEFAULT_SIZES = (2, 64)
QUICK_SIZES = (2, 24)


def _s_minus_1(s: int) -> int:
    return s - 1


def _plus_1(depth: Any) -> Any:
    return depth + 1


_RECHECK_MAX_SIZE = 8  # sizes whose certificates are re-verified entry by entry


def _structure_problem(net: Network, s: int, depth: int, filters: int) -> str | None:
    """Why ``net`` is not the network the theorem speaks of (1 → F → … → F → 1, 3×3), if so."""
    from symconv import Conv2d, stack_params

    convs = [c for c in net.layers if isinstance(c, Conv2d)]
    if len(convs) != len(net.layers):
        return f"s={s}, L={depth}: layers {net.layers} are not all convolutions"
    chans = [(c.in_channels, c.out_channels) for c in convs]
    want = [(1 if i == 0 else filters, 1 if i == depth - 1 else filters) for i in range(depth)]
    if chans != want:
        return f"s={s}, L={depth}, F={filters}: built channels {chans}, expected {want}"
    if any(c.kernel != 3 for c in convs):
        return f"s={s}, L={depth}: kernels {[c.kernel for c in convs]}, expected 3"
    weights = sum(c.in_channels * c.out_channels * c.kernel**2 for c in convs)
    if depth >= 2 and weights != stack_params(depth, filters):
        want_w = stack_params(depth, filters)
        return f"s={s}, L={depth}, F={filters}: {weights} weights, expected {want_w}"
    return None


def _certificate_problem(net: Network, cert: Certificate, s: int) -> str | None:
    """Re-verify a certificate independently of the code that produced it.

    The nonzero count must equal that of the sparse boolean product of the layer patterns
    (no Kronecker structure used), and for small s every entry the certificate calls
    witnessed is recomputed: integer weights drawn here, the network evaluated mod the prime
    by the direct sparse path (``network_matrix_mod``), a nonzero residue per entry.
    """
    import numpy as np

    from symconv import Conv2d, network_matrix_mod, network_pattern

    if s > _RECHECK_MAX_SIZE:
        return None
    pattern = network_pattern(net, structured=False)
    nonzeros = int(pattern.sum())
    if cert.nonzeros != nonzeros or cert.forced_zeros != pattern.size - nonzeros:
        return (
            f"s={s}: certificate says {cert.nonzeros} nonzeros / {cert.forced_zeros} forced "
            f"zeros, the independent pattern has {nonzeros} / {pattern.size - nonzeros}"
        )
    if not cert.certified:
        return None
    seen = np.zeros(pattern.shape, dtype=bool)
    for seed in (101, 202, 303):
        rng = np.random.default_rng(seed)
        ws = [
            rng.integers(1, cert.prime, size=(c.out_channels, c.in_channels, c.kernel, c.kernel))
            for c in net.layers
            if isinstance(c, Conv2d)  # the theorem's networks have no other layers
        ]
        seen |= network_matrix_mod(net, ws, cert.prime).toarray() != 0
        if (seen | ~pattern).all():
            break
    if (seen & ~pattern).any():
        return f"s={s}: a structurally zero entry has a nonzero value"
    if not (seen | ~pattern).all():
        return f"s={s}: {int((pattern & ~seen).sum())} entries the certificate witnessed stay 0"
    return None


def _network_failure(
    net: Network,
    cert: Certificate,
    size: int,
    depth: int,
    filters: int,
    forced_zeros: int,
    holds: bool,
) -> dict[str, Any] | None:
    """The failure record of one network; None when it is the theorem's network, its
    certificate holds up, and the claim ``holds`` for it."""
    problem = _structure_problem(net, size, depth, filters) or _certificate_problem(net, cert, size)
    if problem is None and holds and cert.certified:
        return None
    return {"size": size, "filters": filters, "depth": depth, "forced_zeros": forced_zeros,
            "certificate": cert.describe(), "problem": problem}  # fmt: skip


@register(
    "thm4.depth-bound",
    title="Fewer than s-1 kernel-3 layers leave forced zeros, whatever the filters",
    statement="At least s − 1 layers are required for memorization (regardless of the number "
    "of filters per layer) in a linear convolutional autoencoder with filters of kernel size 3 "
    "applied to images of size s × s.",
    method="For every s in the range and every filter count F, build the network with one "
    "layer fewer than the claimed bound (3×3 filters, stride 1, padding 1, 1 → F → … → F → 1 "
    "channels), compute its forced-zero pattern from structure (an entry is zero for all "
    "weights exactly when no path of nonzero weights joins the two pixels; the coefficients "
    "are non-negative so nothing cancels) and certify it with integer witnesses mod a prime. "
    "The claim holds for s when the pattern still has a forced zero, e.g. the top-left output "
    "pixel cannot see the bottom-right input pixel. By Lemma 1 such a network cannot memorize "
    "an arbitrary image.",
    intuition=(
        "Each 3×3 layer widens the reach by one pixel each way, so after L layers an "
        "output pixel sees only input pixels within L steps; the corner-to-corner entry "
        "(top-left output, bottom-right input, s − 1 steps apart) needs s − 1 layers. "
        "More filters add paths, not reach."
    ),
    assumptions=(
        "a linear network: 3×3 filters, stride 1, zero padding 1, no bias, no downsampling",
        "any number F of filters in every hidden layer",
        "'memorize' as in Lemma 1: a forced zero rules out the projection onto a generic image",
        "s − 1 layers are necessary, not sufficient: Table 1's networks at that depth "
        "do not memorize (the paper's heuristic is ⌈s⁴/9⌉ layers)",
    ),
    evidence="exact",
    reference="Theorem 4 (Section 3.1)",
    quick_params={"sizes": QUICK_SIZES},
    wrong=({"claimed": lambda s: s},),
)
def check_depth_bound(
    *,
    quick: bool = False,
    sizes: tuple[int, int] = DEFAULT_SIZES,
    filters: tuple[int, ...] = (1, 16),
    claimed: Callable[[int], int] = _s_minus_1,
) -> Result:
    from symconv import certify, conv_stack, factored_pattern

    bad, covered, vacuous, corners = [], 0, [], True
    for s in size_range(sizes):
        depth = claimed(s) - 1
        if depth < 1:
            vacuous.append(s)  # "at least 1 layer" says nothing
            continue
        for f in filters:
            net = conv_stack(s, depth, filters=f)
            pat = factored_pattern(net)
            assert pat is not None
            cert = certify(net)
            corners &= not pat.entry(0, s * s - 1)  # top-left output ← bottom-right input
            fail = _network_failure(net, cert, s, depth, f, pat.forced_zeros, not pat.full)
            bad += [fail] if fail else []
            covered += 1
    detail = (
        f"for s in {sizes[0]}..{sizes[1]} and F in {list(filters)}: depth claimed(s) − 1 "
        f"leaves forced zeros in all {covered} networks (certified)"
    )
    if corners:
        detail += ", among them the opposite-corner entry (output pixel 0, input pixel s²−1)"
    if vacuous:
        detail += (
            f"; s = {', '.join(map(str, vacuous))} not tested: there the bound is one layer, "
            "and a network with "
            "fewer than one layer does not exist"
        )
    return Result.verdict(
        not bad,
        Evidence.EXACT,
        detail,
        fail_lead="depth claimed(s) − 1 already has no forced zero",
        counterexamples=bad,
    )


@register(
    "thm4.tight",
    title="At depth s-1 every entry is a nonzero polynomial (certified witnesses)",
    statement="The s − 1 bound of Theorem 4 is where the forced zeros end: with s − 1 layers "
    "of 3×3 filters no entry of the end-to-end matrix is forced to zero.",
    method="For every s and filter count F, the depth-(s−1) network's pattern is computed from "
    "structure and every one of its d² = s⁴ entries is certified: integer weights are chosen "
    "(separable per layer, w = a[o,c]·u[p]·v[q]) and the network evaluated mod the prime "
    "33554393; a nonzero residue proves the entry's polynomial is not identically zero. "
    "Entries whose witness vanishes get fresh weights; an entry never witnessed is a failure.",
    intuition=(
        "At depth s − 1 every input pixel is within reach of every output pixel; each "
        "entry is a sum over paths of products of weights with positive coefficients, "
        "so it is a nonzero polynomial, and one integer weight choice per entry (a "
        "witness) certifies it."
    ),
    assumptions=(
        "3×3 filters, stride 1, zero padding 1",
        "full support is necessary for memorization, not sufficient (Table 1)",
    ),
    evidence="exact",
    reference="Theorem 4 (Section 3.1); Appendix D",
    quick_params={"sizes": QUICK_SIZES},
    wrong=({"claimed": lambda s: s - 2},),
    extension=True,  # the paper proves only the lower bound; that s − 1 suffices is ours
)
def check_tight(
    *,
    quick: bool = False,
    sizes: tuple[int, int] = DEFAULT_SIZES,
    filters: tuple[int, ...] = (1, 4),
    claimed: Callable[[int], int] = _s_minus_1,
) -> Result:
    from symconv import certify, conv_stack

    bad, entries = [], 0
    for s in size_range(sizes):
        depth = max(1, claimed(s))
        for f in filters:
            net = conv_stack(s, depth, filters=f)
            cert = certify(net)
            entries += cert.witnessed
            fail = _network_failure(
                net, cert, s, depth, f, cert.forced_zeros, not cert.forced_zeros
            )
            bad += [fail] if fail else []
    detail = (
        f"for s in {sizes[0]}..{sizes[1]}, F in {list(filters)}: at depth claimed(s) every "
        f"entry is certified nonzero ({entries} entries in all; networks checked to have F "
        f"channels; certificates for s ≤ {_RECHECK_MAX_SIZE} re-verified entry by entry)"
    )
    return Result.verdict(
        not bad,
        Evidence.EXACT,
        detail,
        fail_lead="forced zeros remain at the claimed depth",
        counterexamples=bad,
    )


@register(
    "thm4.filters-invariant",
    title="The number of filters does not change the forced-zero pattern",
    statement="Adding filters cannot make up for missing depth: the forced-zero pattern of a "
    "kernel-3 network with F filters per hidden layer is the same as with one filter.",
    method="For small s, every depth up to s and several F, the end-to-end pattern is computed "
    "without using any Kronecker structure (sparse boolean product of the full layer "
    "patterns, all channels included) and compared entry by entry with the single-filter "
    "pattern.",
    intuition=(
        "Filters add parallel paths between the same pixels; whether some path joins "
        "two pixels depends only on the spatial reach, so the pattern is the same for "
        "every F."
    ),
    assumptions=(
        "stride 1, the same kernel in every layer, one input and one output channel",
        "F ≥ 1 filters in every hidden layer",
    ),
    evidence="exact",
    reference="Theorem 4; Corollary (Section 3.1)",
    quick_params={"sizes": (2, 5)},
    wrong=({"claim": "grows"},),
)
def check_filters_invariant(
    *,
    quick: bool = False,
    sizes: tuple[int, int] = (2, 7),
    filters: tuple[int, ...] = (2, 3, 5),
    claim: str = "equal",
) -> Result:
    """``claim="grows"`` (filters strictly enlarge the support somewhere) is the wrong variant."""
    import numpy as np

    from symconv import conv_stack, network_pattern

    differ, same, compared = [], [], 0
    for s in size_range(sizes):
        for depth in range(1, s + 1):
            base = network_pattern(conv_stack(s, depth), structured=False)
            for f in filters:
                net = conv_stack(s, depth, filters=f)
                problem = _structure_problem(net, s, depth, f)
                if problem:  # a network without F channels says nothing about filters
                    return Result.verdict(
                        False, Evidence.EXACT, f"the network does not have F filters: {problem}"
                    )
                other = network_pattern(net, structured=False)
                compared += 1
                if np.array_equal(base, other):
                    same.append({"size": s, "depth": depth, "filters": f, "equal": True})
                else:
                    differ.append(
                        {
                            "size": s,
                            "depth": depth,
                            "filters": f,
                            "entries_differing": int((base != other).sum()),
                        }
                    )
    if claim == "equal":
        return Result.verdict(
            not differ,
            Evidence.EXACT,
            f"{compared} (size, depth, F) patterns equal the single-filter pattern",
            fail_lead="patterns differ",
            counterexamples=differ,
            compared=compared,
        )
    return Result.verdict(
        bool(differ),
        Evidence.EXACT,
        f"filters enlarge the support in {len(differ)} cases"
        if differ
        else f"no filter count changes any pattern in {compared} cases: the claim that "
        "filters enlarge the support is false",
        counterexamples=same,
        compared=compared,
    )


def _band_base_case(radius: int) -> Result:
    """Base case of the band lemma, on instances: one layer's 1D pattern is ``|i − j| ≤ radius``."""
    import numpy as np

    from symconv import Conv2d, axis_pattern

    k = 2 * radius + 1
    base_ok = all(
        bool(
            (
                axis_pattern(Conv2d(1, 1, k), n)
                == (abs(np.subtract.outer(range(n), range(n))) <= radius)
            ).all()
        )
        for n in range(1, 40)
    )
    return Result.verdict(
        base_ok, Evidence.EXACT, "base case: one layer's 1D pattern is the band (n < 40)"
    )


def _absz(x: Any) -> Any:
    """``|x|`` for a z3 integer term."""
    import z3

    return z3.If(x >= 0, x, -x)


def _band_induction(
    ints: tuple[Any, ...], reach: Callable[[Any], Any], radius: int
) -> list[Result]:
    """The induction step of the band lemma, for all integers s, L, i, j (two obligations):
    ``|i − j| ≤ reach(L)`` ⇔ some pixel m in 0..s−1 has ``|i − m| ≤ L`` and ``|m − j| ≤ 1``.
    ``ints`` are z3's integers s, i, j, m, L."""
    import z3

    s, i, j, m, L = ints
    inside = z3.And(0 <= i, i < s, 0 <= j, j < s, L >= 0)
    step = z3.Exists([m], z3.And(0 <= m, m < s, _absz(i - m) <= radius * L, _absz(m - j) <= radius))
    within = _absz(i - j) <= radius * reach(L)
    return [
        prove_claim(
            z3.Implies(z3.And(inside, within), step),
            "band lemma induction step, reach: |i−j| ≤ L+1 ⇒ some m joins i and j",
        ),
        prove_claim(
            z3.Implies(z3.And(inside, step), within),
            "band lemma induction step, no reach beyond: a path through m ⇒ |i−j| ≤ L+1",
        ),
    ]


def _band_threshold(ints: tuple[Any, ...], claimed: Callable[[Any], Any], radius: int) -> Result:
    """For all s ≥ 2, L ≥ 1: every pair 0 ≤ i, j < s has ``|i − j| ≤ L`` ⇔ ``L ≥ claimed(s)``.
    ``ints`` are z3's integers s, i, j, m, L."""
    import z3

    s, i, j, _, L = ints
    full = z3.ForAll(
        [i, j], z3.Implies(z3.And(0 <= i, i < s, 0 <= j, j < s), _absz(i - j) <= radius * L)
    )
    threshold = z3.Implies(z3.And(s >= 2, L >= 1), full == (L >= claimed(s)))
    return prove_claim(threshold, "full pattern ⇔ L ≥ claimed(s)")


@register(
    "thm4.all-sizes",
    title="For every s and depth L: no forced zero iff L >= s-1 (band lemma for all s)",
    statement="For every image size s and depth L, the kernel-3 stack has no forced zero "
    "exactly when L ≥ s − 1.",
    method="What is proved for all sizes: z3 (re-proved by cvc5) shows, for all integers "
    "s, L, i, j, the induction step of the one-axis band lemma — if (B^L)[i,j] ≠ 0 ⇔ "
    "|i−j| ≤ L, then (B^(L+1))[i,j] ≠ 0 ⇔ some m in 0..s−1 has |i−m| ≤ L and |m−j| ≤ 1 ⇔ "
    "|i−j| ≤ L+1 — and that all pairs 0 ≤ i, j < s satisfy |i−j| ≤ L exactly when L ≥ s − 1. "
    "What is checked on instances only: the base case (one layer's one-axis pattern is the "
    "band |i−j| ≤ 1, n < 40), and the two steps that connect the band to the network — that "
    "the pattern of the F-filter two-dimensional stack is ones ⊗ B^L ⊗ B^L, and that an entry "
    "is forced to zero exactly when no path of nonzero weights joins the pixels (nonnegative "
    "path coefficients cannot cancel). These are confirmed exactly by thm4.depth-bound, "
    "thm4.tight and thm4.filters-invariant for the sizes they cover, so the level is exact.",
    intuition=(
        "Per axis, L layers give a band of half-width L; it is all ones exactly when L "
        "≥ s − 1 (the band lemma), and the 2-D pattern is the Kronecker product of two "
        "such bands."
    ),
    assumptions=("3×3 filters, stride 1, zero padding 1; every s ≥ 2 and L ≥ 1",),
    evidence="exact",
    reference="Theorem 4 (Section 3.1)",
    wrong=(
        {"claimed": lambda s: s - 2},
        {"claimed": lambda s: s},
        {"reach": lambda L: L},
        {"reach": lambda L: L + 2},
    ),
    extension=True,
)
def check_all_sizes(
    *,
    quick: bool = False,
    claimed: Callable[[Any], Any] = _s_minus_1,
    reach: Callable[[Any], Any] = _plus_1,
    radius: int = 1,
) -> Result:
    """``claimed(s)`` is applied to z3's integer ``s``: the claimed least full depth;
    ``reach(L)`` is the claimed reach of ``L + 1`` layers (the band lemma says ``L + 1``).

    The induction step is two claims, each its own obligation: *reach* (pixels within
    ``reach(L)`` are joined by a path through some m) and *no reach beyond* (every such path
    stays within ``reach(L)``), the direction the lower bound of Theorem 4 rests on. A
    ``reach`` too small fails the second, one too large the first."""
    import z3

    parts = [_band_base_case(radius)]
    ints = tuple(z3.Ints("s i j m L"))
    parts += _band_induction(ints, reach, radius)
    parts.append(_band_threshold(ints, claimed, radius))
    return Result.combine(
        Evidence.EXACT,
        parts,
        "proved for all s ≥ 2, L ≥ 1 (z3 and cvc5): the one-axis band B^L is |i−j| ≤ L given "
        "its base case, and it is full exactly when L ≥ s − 1; the base case (n < 40), the "
        "reduction of the F-filter 2-D pattern to ones ⊗ B^L ⊗ B^L and 'no path ⇔ forced "
        "zero' are checked on instances, not proved for all sizes",
        fail_lead="the all-sizes argument does not go through",
    )
