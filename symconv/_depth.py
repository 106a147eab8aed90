"""The depth at which forced zeros disappear (Theorem 4 and its generalization).

For ``L`` layers of k×k filters, stride 1, padding (k−1)/2 on s×s images, the pattern of
the network is ``ones ⊗ B^L ⊗ B^L`` where ``B`` is the s×s band of half-width
``r = (k−1)/2`` (see ``_patterns``): the number of filters only changes the all-ones channel
factor. ``B^L`` is full exactly when every pixel reaches every other in ``L`` steps of at
most ``r``, so the least full depth is ``⌈(s−1)/r⌉`` — ``s−1`` for 3×3 filters, the bound
of Theorem 4 (the paper proves it is necessary; the certificates show it is also the exact
threshold for the zero pattern).

:func:`min_full_depth` computes the least depth from the structure, not from the formula:
rows of a conv's 1D pattern are intervals ``[lo(i), hi(i)]`` with ``lo``, ``hi``
non-decreasing and consecutive rows overlapping, and such interval patterns compose by
composing the endpoint maps; ``B^L`` is full iff ``lo^L(s−1) = 0`` and ``hi^L(0) = s−1``
(the band is symmetric: one walk decides).
A dilated stack is never full beyond one pixel (each tap moves a pixel by a multiple of the
dilation); other architectures (strides, upsampling) go through :func:`min_full_depth_of`.
"""

from __future__ import annotations

from collections.abc import Callable
from math import ceil

import numpy as np

from ._errors import SymconvError, check_positive_int
from ._layers import Conv2d, Network
from ._patterns import pattern_is_full

__all__ = [
    "depth_bound",
    "heuristic_depth",
    "min_full_depth",
    "min_full_depth_of",
    "stack_params",
]


def depth_bound(size: int, kernel: int = 3) -> int | None:
    """``⌈(s−1)/r⌉`` with ``r = (k−1)/2`` (at least 1): Theorem 4's ``s−1`` for ``k = 3``.

    ``None`` when no depth removes the zeros (a 1×1 kernel on an image larger than 1×1).
    """
    check_positive_int("size", size)
    check_positive_int("kernel", kernel)
    if kernel % 2 == 0:
        raise SymconvError("kernel", kernel, "'same' padding (k-1)/2 needs an odd kernel size")
    r = (kernel - 1) // 2
    if size == 1:
        return 1
    if r == 0:
        return None
    return max(1, ceil((size - 1) / r))


def heuristic_depth(size: int, kernel: int = 3) -> int:
    """Section 3.2's heuristic ``⌈s⁴/k²⌉``: single-filter layers needed to match the ``s⁴``
    parameters of a fully connected layer on s×s images (``⌈s⁴/9⌉`` for 3×3 filters)."""
    check_positive_int("size", size)
    check_positive_int("kernel", kernel)
    return -(-(size**4) // (kernel * kernel))


def stack_params(depth: int, filters: int = 1, kernel: int = 3, channels: int = 1) -> int:
    """Weights of ``conv_stack``: ``k²(c·F + (L−2)·F² + F·c)`` for L ≥ 2 (no biases)."""
    if depth == 0:
        return 0
    if depth == 1:
        return kernel * kernel * channels * channels
    return kernel * kernel * (2 * channels * filters + (depth - 2) * filters * filters)


def _steps(f: np.ndarray, start: int, target: int) -> int | None:
    """Iterations of ``x ↦ f[x]`` from ``start`` until ``target``; None if the walk does not
    get there within ``len(f) − 1`` steps (it stalls or cycles: a walk that reaches the
    target visits each pixel at most once)."""
    x = start
    for n in range(len(f)):
        if x == target:
            return n
        x = int(f[x])
    return None


def min_full_depth(
    size: int, kernel: int = 3, *, filters: int = 1, dilation: int = 1
) -> int | None:
    """The least depth ``L ≥ 1`` of ``conv_stack(size, L, kernel, filters)`` (with this
    dilation) whose end-to-end matrix has no forced zero; ``None`` if no depth has none.

    Stride 1, dilation 1: row ``i`` of the 1D pattern is the interval
    ``[lo(i), hi(i)] = [i − r, i + r]`` clipped to the image (``r = (k−1)/2``), and such
    patterns compose by composing the endpoint maps, so ``B^L`` is full iff
    ``lo^L(s−1) = 0`` and ``hi^L(0) = s−1``. The band is symmetric (``lo`` is ``hi``
    mirrored, ``lo(i) = s−1−hi(s−1−i)``), so both walks have the same length: the answer is
    the number of steps of ``i ↦ hi(i)`` from 0 to s−1 (at least 1; ``None`` when the walk
    stalls, as for k = 1 on s > 1). Dilation ``d ≥ 2``: every tap moves a pixel by a
    multiple of ``d``, so pixel ``i`` never reaches ``i + 1`` and no depth is full beyond a
    single pixel (1 at s = 1, else ``None``).

    The channel factor is all-ones for any number of filters, so ``filters`` cannot change
    the answer; it is accepted (and checked) to make that visible.
    """
    check_positive_int("size", size)
    check_positive_int("filters", filters)
    layer = Conv2d(1, 1, kernel, dilation=dilation)  # validates the kernel and dilation
    if dilation > 1:
        return 1 if size == 1 else None
    hi = np.minimum(np.arange(size) - layer.pad + kernel - 1, size - 1)
    steps = _steps(hi, 0, size - 1)
    return None if steps is None else max(1, steps)


def min_full_depth_of(make: Callable[[int], Network], max_depth: int) -> int | None:
    """The least ``L`` in ``0..max_depth`` with ``make(L)`` (a Network) free of forced zeros.

    For architectures with strides or upsampling, e.g. ``make = lambda L: Network(...)``.
    """
    for depth in range(max_depth + 1):
        if pattern_is_full(make(depth)):
            return depth
    return None
