"""The paper's printed facts, typed once: Tables 1–2 as printed, and the Section 4 network.

Every other module (the audit in ``proofs``, the experiments in ``numerics``) reads the
printed rows and builds the architectures from here, so a correction to a transcribed
number is one edit. The formulas beside them: Section 3.2's heuristic depth ``⌈s⁴/k²⌉`` is
:func:`symconv.heuristic_depth`; :func:`depth_for_params` inverts the parameter count
``k²(2F + (L − 2)F²)`` of :func:`symconv.conv_stack`.
"""

from __future__ import annotations

from typing import NamedTuple

from symconv import Conv2d, Layer, Network, Upsample, stack_params

__all__ = ["TABLE1", "TABLE2", "PrintedRow", "depth_for_params", "downsampling_net"]


class PrintedRow(NamedTuple):
    """One row of Table 1 or 2 exactly as printed (a printed number may be a typo: the
    audit ``verify audit`` says which)."""

    size: int  # s: images are s×s
    train_examples: int
    bound_printed: int  # the printed heuristic ⌈s⁴/9⌉
    layers_printed: int
    filters: int  # per layer
    params_printed: int
    skip: bool = False  # the printed asterisk: skip connections every 10 layers


#: Table 1: 3×3 images, 2 training examples; 2, 5, 8 layers × 1, 16, 128 filters.
TABLE1: tuple[PrintedRow, ...] = (
    PrintedRow(3, 2, 9, 2, 1, 27),
    PrintedRow(3, 2, 9, 2, 16, 2592),
    PrintedRow(3, 2, 9, 2, 128, 149760),
    PrintedRow(3, 2, 9, 5, 1, 45),
    PrintedRow(3, 2, 9, 5, 16, 7200),
    PrintedRow(3, 2, 9, 5, 128, 444672),
    PrintedRow(3, 2, 9, 8, 1, 72),
    PrintedRow(3, 2, 9, 8, 16, 14112),
    PrintedRow(3, 2, 9, 8, 128, 887040),
)

#: Table 2: one filter per layer at the heuristic depth; starred rows have skips.
TABLE2: tuple[PrintedRow, ...] = (
    PrintedRow(2, 1, 2, 3, 1, 27),
    PrintedRow(3, 1, 9, 9, 1, 81),
    PrintedRow(4, 1, 29, 29, 1, 261),
    PrintedRow(5, 1, 70, 70, 1, 630),
    PrintedRow(6, 1, 144, 144, 1, 1296, skip=True),
    PrintedRow(7, 1, 267, 267, 1, 2403, skip=True),
    PrintedRow(3, 3, 9, 10, 1, 90),
    PrintedRow(5, 5, 70, 200, 1, 1800, skip=True),
    PrintedRow(7, 5, 144, 350, 1, 3105, skip=True),
)


def depth_for_params(
    params: int, filters: int = 1, *, kernel: int = 3, max_depth: int = 10_000
) -> int | None:
    """The conv-layer count ``L`` whose :func:`symconv.conv_stack` of ``filters`` k×k
    filters has exactly ``params`` weights (``k²(2F + (L − 2)F²)``, no biases), or ``None``
    when no depth up to ``max_depth`` has that many."""
    for depth in range(1, max_depth + 1):
        n = stack_params(depth, filters, kernel)
        if n == params:
            return depth
        if n > params:
            return None
    return None


def downsampling_net(size: int, depth: int, *, kernel: int = 3, stride: int = 2) -> Network:
    """Section 4's network: a stride-``stride`` k×k conv (s → s/stride), ``depth`` k×k
    layers at that resolution, then nearest upsampling ×``stride`` back to s×s."""
    convs: list[Layer] = [Conv2d(1, 1, kernel) for _ in range(depth)]
    layers = (Conv2d(1, 1, kernel, stride=stride), *convs, Upsample(stride))
    return Network((1, size, size), layers)
