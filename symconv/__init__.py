"""The mathematics of linear convolutional networks, exactly.

Layers as matrices (symbolic with sympy, numeric with scipy.sparse, modular with integers),
their products, the entries forced to zero whatever the weights, and the depth at which
those zeros disappear (Theorem 4 of *Memorization in Overparameterized Autoencoders*:
kernel-3 networks on s×s images need at least s−1 layers).
"""

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

__all__ = [
    "Conv2d",
    "Layer",
    "Network",
    "Residual",
    "SymconvError",
    "Upsample",
    "conv_entries",
    "conv_matrix",
    "conv_stack",
    "layer_symbols",
    "network_matrix",
    "network_matrix_mod",
    "network_matrix_symbolic",
    "random_weights",
    "symbolic_weights",
    "upsample_matrix",
]
