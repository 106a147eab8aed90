"""The mathematics of linear convolutional networks, exactly.

Layers as matrices (symbolic with sympy, numeric with scipy.sparse, modular with integers),
their products, the entries forced to zero whatever the weights, and the depth at which
those zeros disappear (Theorem 4 of *Memorization in Overparameterized Autoencoders*:
kernel-3 networks on s×s images need at least s−1 layers).
"""

from ._certify import PRIME, Certificate, certify
from ._depth import depth_bound, heuristic_depth, min_full_depth, min_full_depth_of, stack_params
from ._errors import SymconvError
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
from ._patterns import (
    FactoredPattern,
    axis_pattern,
    factored_pattern,
    network_pattern,
    pattern_is_full,
)
from ._trace import TorchPattern, UnsupportedOpError, export_model, from_torch, load_program
from ._trace_report import model_mask_report
from ._trace_witness import TRACE_PRIME

__all__ = [
    "PRIME",
    "TRACE_PRIME",
    "Certificate",
    "Conv2d",
    "FactoredPattern",
    "Layer",
    "Network",
    "Residual",
    "SymconvError",
    "TorchPattern",
    "UnsupportedOpError",
    "Upsample",
    "axis_pattern",
    "certify",
    "conv_entries",
    "conv_matrix",
    "conv_stack",
    "depth_bound",
    "export_model",
    "factored_pattern",
    "from_torch",
    "heuristic_depth",
    "layer_symbols",
    "load_program",
    "min_full_depth",
    "min_full_depth_of",
    "model_mask_report",
    "network_matrix",
    "network_matrix_mod",
    "network_matrix_symbolic",
    "network_pattern",
    "pattern_is_full",
    "random_weights",
    "stack_params",
    "symbolic_weights",
    "upsample_matrix",
]
