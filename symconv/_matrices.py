"""Layers as exact matrices acting on vectorized images (Appendix D of the paper).

A convolution layer is the matrix ``M`` with ``M @ vec(x) = vec(conv2d(x, w))``;
its entries are weights or zero, and where the zeros sit does not depend on the weights.
For one 3×3 filter on a 3×3 image (Appendix D), with weights ``A1..A9`` row-major::

    A5 A6 0  A8 A9 0  0  0  0
    A4 A5 A6 A7 A8 A9 0  0  0
    ...

Every matrix is built from one table of (row, column, weight index) triples, so the numeric
(scipy.sparse), modular (integers mod p), symbolic (sympy) and boolean forms agree by
construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

from ._errors import SymconvError
from ._layers import Conv2d, Layer, Network, Residual, Shape, Upsample

__all__ = [
    "conv_entries",
    "conv_matrix",
    "layer_symbols",
    "network_matrix",
    "network_matrix_mod",
    "network_matrix_symbolic",
    "random_weights",
    "symbolic_weights",
    "tap_slices",
    "taps_1d",
    "upsample_entries",
    "upsample_matrix",
]

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@lru_cache(maxsize=4096)
def taps_1d(n_in: int, n_out: int, p: int, stride: int, pad: int, dil: int) -> tuple:
    """Pairs ``(i_out, i_in)`` with ``i_in = i_out·stride − pad + p·dil`` inside the image."""
    i_out = np.arange(n_out)
    i_in = i_out * stride - pad + p * dil
    m = (i_in >= 0) & (i_in < n_in)
    return i_out[m], i_in[m]


@lru_cache(maxsize=4096)
def tap_slices(n_in: int, n_out: int, p: int, stride: int, pad: int, dil: int) -> tuple:
    """:func:`taps_1d` as two slices ``(out, in)``: the valid ``i_out`` are consecutive and
    their ``i_in`` step by ``stride``, so a tap moves rows as views rather than copies."""
    first = max(0, -(-(pad - p * dil) // stride))  # least i_out with i_in >= 0
    last = min(n_out, (n_in - 1 + pad - p * dil) // stride + 1)  # past the largest
    if last <= first:
        return slice(0, 0), slice(0, 0)
    start = first * stride - pad + p * dil
    return slice(first, last), slice(start, start + (last - first - 1) * stride + 1, stride)


@lru_cache(maxsize=256)
def conv_entries(layer: Conv2d, in_shape: Shape) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, cols, weight flat index into ``w.reshape(-1)`` of shape (O, C, k, k))."""
    c_in, h, w = in_shape
    o_n, h2, w2 = layer.out_shape(in_shape)
    k = layer.kernel
    rows, cols, widx = [], [], []
    grid_o, grid_c = np.meshgrid(np.arange(o_n), np.arange(c_in), indexing="ij")
    oc_o, oc_c = grid_o.ravel(), grid_c.ravel()
    for p in range(k):
        ro, ri = taps_1d(h, h2, p, layer.stride, layer.pad, layer.dilation)
        for q in range(k):
            co, ci = taps_1d(w, w2, q, layer.stride, layer.pad, layer.dilation)
            out_pix = (ro[:, None] * w2 + co[None, :]).ravel()
            in_pix = (ri[:, None] * w + ci[None, :]).ravel()
            if out_pix.size == 0:
                continue
            rows.append((oc_o[:, None] * (h2 * w2) + out_pix[None, :]).ravel())
            cols.append((oc_c[:, None] * (h * w) + in_pix[None, :]).ravel())
            flat = ((oc_o * c_in + oc_c) * k + p) * k + q
            widx.append(np.repeat(flat, out_pix.size))
    if not rows:
        e = np.zeros(0, dtype=np.int64)
        return e, e, e
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(widx)


@lru_cache(maxsize=256)
def upsample_entries(layer: Upsample, in_shape: Shape) -> tuple[np.ndarray, np.ndarray]:
    c, h, w = in_shape
    s = layer.scale
    cc, ii, jj = np.meshgrid(np.arange(c), np.arange(h * s), np.arange(w * s), indexing="ij")
    rows = (cc * (h * s * w * s) + ii * (w * s) + jj).ravel()
    cols = (cc * (h * w) + (ii // s) * w + (jj // s)).ravel()
    return rows, cols


def _shape_of(layer: Conv2d, in_shape: Shape) -> tuple[int, int]:
    c, h, w = layer.out_shape(in_shape)
    return c * h * w, in_shape[0] * in_shape[1] * in_shape[2]


def conv_matrix(weight: np.ndarray, in_shape: Shape, layer: Conv2d | None = None) -> sp.csr_matrix:
    """The sparse matrix of ``conv2d(x, weight, stride, padding, dilation)`` on ``in_shape``.

    ``weight`` has torch's layout ``(out_channels, in_channels, k, k)``; without ``layer``
    the convolution is stride 1 with 'same' padding.
    """
    weight = np.asarray(weight)
    if weight.ndim != 4 or weight.shape[2] != weight.shape[3]:
        raise SymconvError("weight.shape", weight.shape, "must be (out, in, k, k)")
    if layer is None:
        layer = Conv2d(weight.shape[1], weight.shape[0], weight.shape[2])
    expect = (layer.out_channels, layer.in_channels, layer.kernel, layer.kernel)
    if weight.shape != expect:
        raise SymconvError("weight.shape", weight.shape, f"layer expects {expect}")
    import scipy.sparse as sp

    r, c, wi = conv_entries(layer, tuple(in_shape))
    return sp.csr_matrix((weight.reshape(-1)[wi], (r, c)), shape=_shape_of(layer, in_shape))


def upsample_matrix(in_shape: Shape, scale: int, dtype: Any = np.float64) -> sp.csr_matrix:
    """The 0/1 matrix of nearest-neighbour upsampling (the paper's Algorithm 2, unpadded)."""
    import scipy.sparse as sp

    layer = Upsample(scale)
    r, c = upsample_entries(layer, tuple(in_shape))
    c_, h, w = in_shape
    shape = (c_ * h * w * scale * scale, c_ * h * w)
    return sp.csr_matrix((np.ones(r.size, dtype=dtype), (r, c)), shape=shape)


def _conv_layers(layers: Sequence[Layer]) -> list[Conv2d]:
    out: list[Conv2d] = []
    for layer in layers:
        if isinstance(layer, Conv2d):
            out.append(layer)
        elif isinstance(layer, Residual):
            out.extend(_conv_layers(layer.body))
    return out


def random_weights(
    net: Network, rng: np.random.Generator | int = 0, *, scale: float = 1.0
) -> list[np.ndarray]:
    """Standard-normal weights (times ``scale``), one array per conv layer in order."""
    rng = np.random.default_rng(rng)
    return [
        scale * rng.standard_normal((c.out_channels, c.in_channels, c.kernel, c.kernel))
        for c in _conv_layers(net.layers)
    ]


def _apply(
    layers: Sequence[Layer],
    shape: Shape,
    weights: list[Any],
    pos: int,
    mat: sp.csr_matrix,
    dtype: Any,
    mod: int | None,
) -> tuple[sp.csr_matrix, Shape, int]:
    """Left-multiply ``mat`` by the layers' matrices in turn (reducing mod ``mod``)."""
    import scipy.sparse as sp

    for layer in layers:
        if isinstance(layer, Conv2d):
            r, c, wi = conv_entries(layer, shape)
            w = np.asarray(weights[pos]).reshape(-1)
            m = sp.csr_matrix((w[wi].astype(dtype), (r, c)), shape=_shape_of(layer, shape))
            pos += 1
            mat = m @ mat
            shape = layer.out_shape(shape)
        elif isinstance(layer, Upsample):
            mat = upsample_matrix(shape, layer.scale, dtype) @ mat
            shape = layer.out_shape(shape)
        else:
            body, _, pos = _apply(layer.body, shape, weights, pos, mat, dtype, mod)
            mat = (mat + body).tocsr()
        if mod is not None:
            mat.data %= mod
            mat.eliminate_zeros()
    return mat, shape, pos


def _check_weights(net: Network, weights: Sequence[Any]) -> None:
    """One weight array per conv layer of ``net``, or a :class:`SymconvError`."""
    n_conv = len(_conv_layers(net.layers))
    if len(weights) != n_conv:
        raise SymconvError("weights", len(weights), f"network has {n_conv} conv layers")


def network_matrix(net: Network, weights: list[np.ndarray]) -> sp.csr_matrix:
    """The end-to-end matrix of a linear network (sparse; ``.toarray()`` for dense)."""
    _check_weights(net, weights)
    import scipy.sparse as sp

    eye = sp.identity(net.in_dim, dtype=np.float64, format="csr")
    mat, _, _ = _apply(net.layers, net.in_shape, list(weights), 0, eye, np.float64, None)
    return mat.tocsr()


def network_matrix_mod(net: Network, weights: list[np.ndarray], prime: int) -> sp.csr_matrix:
    """The end-to-end matrix with integer weights, every entry reduced mod ``prime``.

    Exact: products of two residues below 2**26 and their row sums stay far below 2**63.
    """
    if not 2 <= prime < 2**26:
        raise SymconvError("prime", prime, "must be in 2..2**26-1 for exact int64 arithmetic")
    _check_weights(net, weights)
    import scipy.sparse as sp

    ws = [np.asarray(w, dtype=np.int64) % prime for w in weights]
    eye = sp.identity(net.in_dim, dtype=np.int64, format="csr")
    mat, _, _ = _apply(net.layers, net.in_shape, ws, 0, eye, np.int64, prime)
    return mat.tocsr()


def layer_symbols(layer: Conv2d, index: int = 0, name: str | None = None) -> np.ndarray:
    """Symbols for one conv layer's weights, in an array of shape ``(O, C, k, k)``.

    Layer ``index`` 0 uses ``A``, 1 uses ``B``, …; a single filter's weights are
    ``A1..A{k²}`` row-major (the paper's names); with several channels the name carries
    ``[out,in]`` (1-based), e.g. ``B5[2,1]``.
    """
    import sympy

    if name is None:
        name = _LETTERS[index] if index < len(_LETTERS) else f"W{index + 1}_"
    o_n, c_n, k = layer.out_channels, layer.in_channels, layer.kernel
    arr = np.empty((o_n, c_n, k, k), dtype=object)
    single = o_n == 1 and c_n == 1
    for o in range(o_n):
        for c in range(c_n):
            for p in range(k):
                for q in range(k):
                    n = p * k + q + 1
                    label = f"{name}{n}" if single else f"{name}{n}[{o + 1},{c + 1}]"
                    arr[o, c, p, q] = sympy.Symbol(label)
    return arr


def symbolic_weights(net: Network) -> list[np.ndarray]:
    """One symbol array per conv layer: ``A…`` for the first, ``B…`` for the second, …"""
    return [layer_symbols(c, i) for i, c in enumerate(_conv_layers(net.layers))]


_SYMBOLIC_LIMIT = 4096  # entries of a dense symbolic matrix


def network_matrix_symbolic(net: Network, weights: list[np.ndarray] | None = None) -> Any:
    """The end-to-end matrix as a sympy Matrix (small sizes only), entries expanded."""
    import sympy

    if net.in_dim * net.out_dim > _SYMBOLIC_LIMIT or any(
        np.prod(s) ** 2 > _SYMBOLIC_LIMIT for s in net.shapes
    ):
        raise SymconvError(
            "size", net.in_shape, f"a dense symbolic matrix is limited to {_SYMBOLIC_LIMIT} entries"
        )
    if weights is None:
        weights = symbolic_weights(net)
    _check_weights(net, weights)

    def run(layers: Sequence[Layer], shape: Shape, pos: int, mat: Any) -> tuple[Any, Shape, int]:
        for layer in layers:
            if isinstance(layer, Conv2d):
                r, c, wi = conv_entries(layer, shape)
                rows, cols = _shape_of(layer, shape)
                m = sympy.zeros(rows, cols)
                w = np.asarray(weights[pos]).reshape(-1)
                for a, b, k in zip(r.tolist(), c.tolist(), wi.tolist(), strict=True):
                    m[a, b] = w[k]
                pos += 1
                mat = m * mat
                shape = layer.out_shape(shape)
            elif isinstance(layer, Upsample):
                u = sympy.Matrix(upsample_matrix(shape, layer.scale, np.int64).toarray())
                mat = u * mat
                shape = layer.out_shape(shape)
            else:
                body, _, pos = run(layer.body, shape, pos, mat)
                mat = mat + body
        return mat, shape, pos

    mat, _, _ = run(net.layers, net.in_shape, 0, sympy.eye(net.in_dim))
    return mat.applyfunc(sympy.expand)
