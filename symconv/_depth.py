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
composing the endpoint maps; ``B^L`` is full iff ``lo^L(s−1) = 0`` and ``hi^L(0) = s−1``.
Patterns that are not interval patterns (dilation, strides) use boolean powers instead.
"""

from __future__ import annotations

from collections.abc import Callable
from math import ceil

import numpy as np

from ._errors import SymconvError, check_positive_int
from ._layers import Conv2d, Network
from ._patterns import axis_pattern, pattern_is_full

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


def _interval_maps(b: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(lo, hi)`` when ``b`` is an interval pattern that composes by endpoints, else None."""
    n_out, n_in = b.shape
    if n_out != n_in or not b.any(axis=1).all():
        return None
    lo = b.argmax(axis=1)
    hi = n_in - 1 - b[:, ::-1].argmax(axis=1)
    width = b.sum(axis=1)
    if (
        np.any(width != hi - lo + 1)  # gaps inside a row
        or np.any(np.diff(lo) < 0)
        or np.any(np.diff(hi) < 0)
        or np.any(lo[1:] > hi[:-1] + 1)  # consecutive rows must overlap or touch
    ):
        return None
    return lo, hi


def _steps(f: np.ndarray, start: int, target: int) -> int | None:
    """Iterations of ``x ↦ f[x]`` from ``start`` until ``target``; None if it stalls."""
    x, n = start, 0
    while x != target:
        y = int(f[x])
        if y == x:
            return None
        x, n = y, n + 1
    return n


def min_full_depth(
    size: int, kernel: int = 3, *, filters: int = 1, dilation: int = 1, max_depth: int | None = None
) -> int | None:
    """The least depth ``L ≥ 1`` of ``conv_stack(size, L, kernel, filters)`` (with this
    dilation) whose end-to-end matrix has no forced zero; ``None`` if none up to
    ``max_depth`` (default ``4·size``) or never.

    The channel factor is all-ones for any number of filters, so ``filters`` cannot change
    the answer; it is accepted (and checked) to make that visible.
    """
    check_positive_int("size", size)
    check_positive_int("filters", filters)
    layer = Conv2d(1, 1, kernel, dilation=dilation)  # validates the kernel
    b: np.ndarray | None = None
    maps: tuple[np.ndarray, np.ndarray] | None
    if dilation == 1:
        # taps are consecutive: row i' of the 1D pattern is the interval
        # [i' − pad, i' − pad + k − 1] clipped to the image, read off without the dense band
        i = np.arange(size)
        maps = (
            np.clip(i - layer.pad, 0, size - 1),
            np.clip(i - layer.pad + kernel - 1, 0, size - 1),
        )
    else:
        b = axis_pattern(layer, size)
        maps = _interval_maps(b)
    if maps is not None:
        lo, hi = maps
        a = _steps(lo, size - 1, 0)
        c = _steps(hi, 0, size - 1)
        if a is None or c is None:
            return None
        return max(1, a, c)
    assert b is not None
    limit = max_depth if max_depth is not None else 4 * size
    power = b.copy()
    for depth in range(1, limit + 1):
        if power.all():
            return depth
        power = (b.astype(np.float32) @ power.astype(np.float32)) > 0
    return None


def min_full_depth_of(make: Callable[[int], Network], max_depth: int) -> int | None:
    """The least ``L`` in ``0..max_depth`` with ``make(L)`` (a Network) free of forced zeros.

    For architectures with strides or upsampling, e.g. ``make = lambda L: Network(...)``.
    """
    for depth in range(max_depth + 1):
        if pattern_is_full(make(depth)):
            return depth
    return None
