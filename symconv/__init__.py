"""The mathematics of linear convolutional networks, exactly.

Layers as matrices (symbolic with sympy, numeric with scipy.sparse, modular with integers),
their products, the entries forced to zero whatever the weights, and the depth at which
those zeros disappear (Theorem 4 of *Memorization in Overparameterized Autoencoders*:
kernel-3 networks on s×s images need at least s−1 layers).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._errors import ArgumentError, SymconvError, shown

if TYPE_CHECKING:
    from ._atomic import write_atomic
    from ._certify import PRIME, Certificate, certify
    from ._depth import (
        depth_bound,
        heuristic_depth,
        min_full_depth,
        min_full_depth_of,
        stack_params,
    )
    from ._figure import mask_figure, mask_gif
    from ._layers import Conv2d, Layer, Network, Residual, Upsample, conv_stack
    from ._matrices import (
        conv_entries,
        conv_matrix,
        layer_symbols,
        network_matrix,
        network_matrix_mod,
        network_matrix_symbolic,
        random_weights,
        symbolic_weights,
        upsample_matrix,
    )
    from ._paper import TABLE1, TABLE2, PrintedRow, depth_for_params, downsampling_net
    from ._patterns import (
        FactoredPattern,
        axis_pattern,
        factored_pattern,
        network_pattern,
        pattern_is_full,
    )
    from ._png import write_png

# The rest loads on first use (PEP 562), so that importing the error class (the command
# line does, for every command) does not import numpy.
_LAZY: dict[str, str] = {
    "write_atomic": "._atomic",
    "mask_figure": "._figure",
    "mask_gif": "._figure",
    "write_png": "._png",
    "PRIME": "._certify",
    "Certificate": "._certify",
    "certify": "._certify",
    "depth_bound": "._depth",
    "heuristic_depth": "._depth",
    "min_full_depth": "._depth",
    "min_full_depth_of": "._depth",
    "stack_params": "._depth",
    "Conv2d": "._layers",
    "Layer": "._layers",
    "Network": "._layers",
    "Residual": "._layers",
    "Upsample": "._layers",
    "conv_stack": "._layers",
    "conv_entries": "._matrices",
    "conv_matrix": "._matrices",
    "layer_symbols": "._matrices",
    "network_matrix": "._matrices",
    "network_matrix_mod": "._matrices",
    "network_matrix_symbolic": "._matrices",
    "random_weights": "._matrices",
    "symbolic_weights": "._matrices",
    "upsample_matrix": "._matrices",
    "TABLE1": "._paper",
    "TABLE2": "._paper",
    "PrintedRow": "._paper",
    "depth_for_params": "._paper",
    "downsampling_net": "._paper",
    "FactoredPattern": "._patterns",
    "axis_pattern": "._patterns",
    "factored_pattern": "._patterns",
    "network_pattern": "._patterns",
    "pattern_is_full": "._patterns",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "PRIME",
    "TABLE1",
    "TABLE2",
    "ArgumentError",
    "Certificate",
    "Conv2d",
    "FactoredPattern",
    "Layer",
    "Network",
    "PrintedRow",
    "Residual",
    "SymconvError",
    "Upsample",
    "axis_pattern",
    "certify",
    "conv_entries",
    "conv_matrix",
    "conv_stack",
    "depth_bound",
    "depth_for_params",
    "downsampling_net",
    "factored_pattern",
    "heuristic_depth",
    "layer_symbols",
    "mask_figure",
    "mask_gif",
    "min_full_depth",
    "min_full_depth_of",
    "network_matrix",
    "network_matrix_mod",
    "network_matrix_symbolic",
    "network_pattern",
    "pattern_is_full",
    "random_weights",
    "shown",
    "stack_params",
    "symbolic_weights",
    "upsample_matrix",
    "write_atomic",
    "write_png",
]
