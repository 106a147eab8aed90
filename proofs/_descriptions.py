"""The network descriptions of ``symconv.two-paths``: ``conv_stack`` against the network
written out layer by layer, and descriptions no layer or matrix can have (a zero size, an even
kernel with 'same' padding, a weight of the wrong shape, a prime beyond exact int64
arithmetic, ...) refused with the argument, the value and the reason named."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["REFUSALS", "refusal_problems", "stack_problems"]


def stack_problems() -> list[dict[str, Any]]:
    """``conv_stack`` against the network built layer by layer from its description:
    ``channels → F → … → F → channels``, kernel k, runs of m layers in skip connections
    where a run keeps the channel count."""
    from symconv import Conv2d, Network, Residual, conv_stack, stack_params

    bad = []
    for depth, kernel, filters, channels, skip in ((0, 3, 1, 1, 0), (1, 5, 3, 2, 0),
            (3, 3, 1, 1, 0), (4, 3, 2, 1, 0), (4, 3, 2, 2, 2), (5, 1, 3, 1, 2), (3, 3, 1, 1, 1),
            (6, 3, 2, 2, 4), (3, 3, 2, 1, 5)):  # fmt: skip
        widths = [channels] + [filters] * (depth - 1) + [channels] if depth else [channels]
        convs = [Conv2d(widths[i], widths[i + 1], kernel) for i in range(depth)]
        layers: list[Any] = []
        for start in range(0, depth, skip or max(depth, 1)):
            block = convs[start : start + (skip or depth)]
            keeps = bool(skip) and block[0].in_channels == block[-1].out_channels
            layers += [Residual(tuple(block))] if keeps else block
        want = Network((channels, 5, 5), tuple(layers))
        got = conv_stack(5, depth, kernel=kernel, filters=filters, channels=channels,
                         skip_every=skip)  # fmt: skip
        params = stack_params(depth, filters, kernel, channels)
        if got != want or got.n_params != params or got.depth != depth:
            bad.append({"depth": depth, "kernel": kernel, "filters": filters,
                        "channels": channels, "skip_every": skip, "got": repr(got.layers),
                        "n_params": got.n_params, "stack_params": params})  # fmt: skip
    if conv_stack(5, 2) != Network((1, 5, 5), (Conv2d(), Conv2d())):
        bad.append({"defaults": repr(conv_stack(5, 2))})
    return bad


#: Descriptions no layer can have, with the argument and the message the refusal must name.
REFUSALS: tuple[tuple[str, str], ...] = (
    ("Conv2d(0, 1)", "in_channels: must be a positive integer (got 0)"),
    ("Conv2d(1, 0)", "out_channels: must be a positive integer (got 0)"),
    ("Conv2d(kernel=0)", "kernel: must be a positive integer (got 0)"),
    ("Conv2d(stride=0)", "stride: must be a positive integer (got 0)"),
    ("Conv2d(dilation=0)", "dilation: must be a positive integer (got 0)"),
    ("Conv2d(kernel=2)", "kernel: 'same' padding (k-1)/2 needs an odd kernel size (got 2)"),
    ("Conv2d(padding=-1)", "padding: must be a non-negative integer (got -1)"),
    ("Conv2d(kernel=5, padding=0).out_len(3)",
     "size: too small for kernel 5 with this padding (got 3)"),
    ("Conv2d(2, 1).out_shape((3, 4, 4))", "in_channels: input has 3 channels (got 2)"),
    ("Upsample(0)", "scale: must be a positive integer (got 0)"),
    ("Network((1, 4, 4), (Residual((Conv2d(1, 2),)),))",
     "Residual.body: must keep the input shape (1, 4, 4) (got (2, 4, 4))"),
    ("Network((0, 3, 3), ())", "channels: must be a positive integer (got 0)"),
    ("Network((1, 0, 3), ())", "height: must be a positive integer (got 0)"),
    ("Network((1, 3, 0), ())", "width: must be a positive integer (got 0)"),
    ("conv_stack(0, 1)", "size: must be a positive integer (got 0)"),
    ("conv_stack(3, -1)", "depth: must be a non-negative integer (got -1)"),
    ("conv_stack(3, 1, filters=0)", "filters: must be a positive integer (got 0)"),
    ("conv_stack(3, 1, skip_every=-1)", "skip_every: must be a non-negative integer (got -1)"),
    ("depth_bound(0)", "size: must be a positive integer (got 0)"),
    ("depth_bound(3, 0)", "kernel: must be a positive integer (got 0)"),
    ("depth_bound(3, 4)", "kernel: 'same' padding (k-1)/2 needs an odd kernel size (got 4)"),
    ("heuristic_depth(0)", "size: must be a positive integer (got 0)"),
    ("heuristic_depth(3, 0)", "kernel: must be a positive integer (got 0)"),
    ("min_full_depth(0)", "size: must be a positive integer (got 0)"),
    ("min_full_depth(3, filters=0)", "filters: must be a positive integer (got 0)"),
    ("conv_matrix(np.zeros((1, 1, 3)), (1, 4, 4))",
     "weight.shape: must be (out, in, k, k) (got (1, 1, 3))"),
    ("conv_matrix(np.zeros((1, 1, 3, 2)), (1, 4, 4))",
     "weight.shape: must be (out, in, k, k) (got (1, 1, 3, 2))"),
    ("conv_matrix(np.zeros((2, 1, 3, 3)), (1, 4, 4), Conv2d(1, 1))",
     "weight.shape: layer expects (1, 1, 3, 3) (got (2, 1, 3, 3))"),
    ("network_matrix(conv_stack(3, 2), [np.ones((1, 1, 3, 3))])",
     "weights: network has 2 conv layers (got 1)"),
    ("network_matrix_mod(conv_stack(3, 1), [np.ones((1, 1, 3, 3), np.int64)], 2**26)",
     "prime: must be in 2..2**26-1 for exact int64 arithmetic (got 67108864)"),
    ("network_matrix_mod(conv_stack(3, 1), [np.ones((1, 1, 3, 3), np.int64)], 1)",
     "prime: must be in 2..2**26-1 for exact int64 arithmetic (got 1)"),
    ("network_matrix_mod(conv_stack(3, 2), [np.ones((1, 1, 3, 3), np.int64)], 101)",
     "weights: network has 2 conv layers (got 1)"),
    ("network_matrix_symbolic(conv_stack(9, 1))",
     "size: a dense symbolic matrix is limited to 4096 entries (got (1, 9, 9))"),
    ("network_matrix_symbolic(conv_stack(3, 2), [np.ones((1, 1, 3, 3))])",
     "weights: network has 2 conv layers (got 1)"),
    ("upsample_matrix((1, 2, 2), 0)", "scale: must be a positive integer (got 0)"),
)  # fmt: skip


def refusal_problems() -> list[dict[str, Any]]:
    """Each impossible description must be refused, naming its argument and value."""
    import symconv

    names: dict[str, Any] = {n: getattr(symconv, n) for n in ("Conv2d", "Network", "Residual",
             "Upsample", "conv_stack", "depth_bound", "heuristic_depth", "min_full_depth",
             "conv_matrix", "network_matrix", "network_matrix_mod", "network_matrix_symbolic",
             "upsample_matrix")}  # fmt: skip
    names["np"] = np
    bad = []
    for expr, message in REFUSALS:
        try:
            eval(expr, {}, names)  # the fixed expressions above, nothing from outside
            said = "accepted"
        except symconv.SymconvError as exc:
            said = str(exc)
        if said != message:
            bad.append({"description": expr, "said": said, "expected": message})
    return bad
