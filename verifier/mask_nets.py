"""The networks ``verify masks`` and ``verify depth`` draw and count, and their words.

A stride-1 stack of L k×k layers (Theorem 4), or Section 4's network: one stride-T layer,
the L layers at size s/T, then ×T nearest upsampling (``paperdata.downsampling_net``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from symconv import Network

__all__ = ["inner_bound", "masks_family", "net_words"]


def masks_family(
    size: int, kernel: int, stride: int
) -> tuple[int | None, Callable[[int], Network]]:
    """The least depth without forced zeros, and the network at depth L."""
    from paperdata import downsampling_net
    from symconv import conv_stack, min_full_depth, min_full_depth_of

    if stride == 1:
        return min_full_depth(size, kernel), lambda L: conv_stack(size, L, kernel=kernel)

    def make(depth: int) -> Network:
        return downsampling_net(size, depth, kernel=kernel, stride=stride)

    return min_full_depth_of(make, 2 * size), make


def net_words(depth: int, kernel: int, filters: int, size: int, stride: int) -> str:
    """e.g. '3 layers of 3×3 filters, 8 filters per hidden layer, on 5×5 images'."""
    k = f"{kernel}×{kernel}"

    def n(count: int, word: str) -> str:
        return f"{count} {word}{'' if count == 1 else 's'}"

    if stride == 1:
        net = f"{n(depth, 'layer')} of {k} filters, {n(filters, 'filter')} per hidden layer"
    else:
        net = (
            f"a stride-{stride} {k} layer, {n(depth, 'layer')} at {size // stride}×"
            f"{size // stride}, ×{stride} nearest upsampling"
        )
    return f"{net}, on {size}×{size} images"


def inner_bound(inner: int, kernel: int) -> int | None:
    """Theorem 4's bound for the L layers that work at size s/T: ⌈(s/T−1)/((k−1)/2)⌉, which
    is 0 at s/T = 1 (the stride-T layer alone already reaches every pixel; unlike a plain
    stack, this network is not empty at L = 0)."""
    from symconv import depth_bound

    return 0 if inner == 1 else depth_bound(inner, kernel)
