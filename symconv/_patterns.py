"""Forced-zero patterns: which entries of a network's matrix are zero whatever the weights.

Every entry of the end-to-end matrix of a linear network is a polynomial in the weights
whose coefficients are non-negative integers: a sum, over the paths from the input pixel to
the output pixel, of the product of the weights met on the way (skip connections and
upsampling contribute coefficients 1). Such a polynomial is identically zero exactly when
there is no path, so the boolean product of the layers' patterns *is* the forced-zero
pattern — no cancellation can hide a path.

Structure makes this fast. For a network of convolutions and upsamplings the pattern of
one layer is a Kronecker product ``channels ⊗ rows ⊗ columns`` of three small boolean
matrices (a conv's 1D pattern is banded: ``T[i', i] = 1`` iff ``i = i'·t − pad + p·dil`` for
some tap ``p``), and by the mixed-product rule the pattern of the whole network is the
Kronecker product of the three products. A 64×64 image's 4096×4096 pattern is then three
products of at most 64×64 matrices. Skip connections break the factorization; such
networks use a sparse boolean product instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

from ._layers import Conv2d, Layer, Network, Residual, Shape, Upsample
from ._matrices import conv_entries, tap_slices, taps_1d, upsample_entries

__all__ = [
    "FactoredPattern",
    "axis_pattern",
    "factored_pattern",
    "network_pattern",
    "pattern_is_full",
]


def axis_pattern(layer: Conv2d | Upsample, n_in: int) -> np.ndarray:
    """The 1D boolean pattern ``(n_out, n_in)`` of a layer along one image axis."""
    if isinstance(layer, Upsample):
        n_out = n_in * layer.scale
        t = np.zeros((n_out, n_in), dtype=bool)
        t[np.arange(n_out), np.arange(n_out) // layer.scale] = True
        return t
    n_out = layer.out_len(n_in)
    t = np.zeros((n_out, n_in), dtype=bool)
    for p in range(layer.kernel):
        io, ii = taps_1d(n_in, n_out, p, layer.stride, layer.pad, layer.dilation)
        t[io, ii] = True
    return t


def _axis_apply(layer: Conv2d | Upsample, mat: np.ndarray) -> np.ndarray:
    """``axis_pattern(layer) @ mat`` in the boolean semiring, as k shifted row slices."""
    n_in = mat.shape[0]
    if isinstance(layer, Upsample):
        return mat[np.arange(n_in * layer.scale) // layer.scale]
    n_out = layer.out_len(n_in)
    out = np.zeros((n_out, mat.shape[1]), dtype=bool)
    for p in range(layer.kernel):
        io, ii = tap_slices(n_in, n_out, p, layer.stride, layer.pad, layer.dilation)
        out[io] |= mat[ii]
    return out


@dataclass(frozen=True)
class FactoredPattern:
    """``pattern = channels ⊗ rows ⊗ cols`` (boolean Kronecker product)."""

    channels: np.ndarray
    rows: np.ndarray
    cols: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        a, b, c = self.channels.shape, self.rows.shape, self.cols.shape
        return (a[0] * b[0] * c[0], a[1] * b[1] * c[1])

    @property
    def nonzeros(self) -> int:
        return int(self.channels.sum()) * int(self.rows.sum()) * int(self.cols.sum())

    @property
    def forced_zeros(self) -> int:
        r, c = self.shape
        return r * c - self.nonzeros

    @property
    def full(self) -> bool:
        return bool(self.channels.all() and self.rows.all() and self.cols.all())

    def dense(self) -> np.ndarray:
        return np.kron(self.channels, np.kron(self.rows, self.cols)).astype(bool)

    def entry(self, out_index: int, in_index: int) -> bool:
        """Whether entry (output ``out_index``, input ``in_index``) is not forced to zero."""
        (_, h2, w2), (_, h, w) = self._spatial()
        oc, orem = divmod(out_index, h2 * w2)
        ic, irem = divmod(in_index, h * w)
        return bool(
            self.channels[oc, ic]
            and self.rows[orem // w2, irem // w]
            and self.cols[orem % w2, irem % w]
        )

    def _spatial(self) -> tuple[Shape, Shape]:
        return (
            (self.channels.shape[0], self.rows.shape[0], self.cols.shape[0]),
            (self.channels.shape[1], self.rows.shape[1], self.cols.shape[1]),
        )


def factored_pattern(net: Network) -> FactoredPattern | None:
    """The Kronecker factors of the network's pattern; ``None`` with skip connections."""
    c, h, w = net.in_shape
    ch = np.eye(c, dtype=bool)
    rows = np.eye(h, dtype=bool)
    cols = np.eye(w, dtype=bool)
    shape: Shape = net.in_shape
    for layer in net.layers:
        if isinstance(layer, Residual):
            return None
        if isinstance(layer, Conv2d):  # every output channel sees every input channel
            ch = np.repeat(ch.any(axis=0, keepdims=True), layer.out_channels, axis=0)
        rows = _axis_apply(layer, rows)
        cols = _axis_apply(layer, cols)
        shape = layer.out_shape(shape)
    return FactoredPattern(ch, rows, cols)


def _sparse_pattern(layers: tuple[Layer, ...], shape: Shape, mat: sp.csr_matrix) -> tuple:
    import scipy.sparse as sp

    for layer in layers:
        if isinstance(layer, (Conv2d, Upsample)):
            if isinstance(layer, Conv2d):
                r, c, _ = conv_entries(layer, shape)
            else:
                r, c = upsample_entries(layer, shape)
            out = layer.out_shape(shape)
            m = sp.csr_matrix(
                (np.ones(r.size, dtype=np.float32), (r, c)),
                shape=(int(np.prod(out)), int(np.prod(shape))),
            )
            mat = m @ mat
            shape = out
        else:
            body, _ = _sparse_pattern(layer.body, shape, mat)
            mat = (mat + body).tocsr()
        mat.data[:] = 1.0  # boolean semiring: keep support, forget counts
    return mat, shape


def network_pattern(net: Network, *, structured: bool = True) -> np.ndarray:
    """The dense boolean forced-zero pattern (``True`` = not identically zero).

    ``structured=False`` forces the sparse boolean product of the full layer patterns,
    which assumes nothing about Kronecker structure (an independent computation).
    """
    if structured:
        f = factored_pattern(net)
        if f is not None:
            return f.dense()
    import scipy.sparse as sp

    eye = sp.identity(net.in_dim, dtype=np.float32, format="csr")
    mat, _ = _sparse_pattern(net.layers, net.in_shape, eye)
    return mat.toarray() > 0


def pattern_is_full(net: Network) -> bool:
    """Whether no entry of the end-to-end matrix is forced to zero."""
    f = factored_pattern(net)
    if f is not None:
        return f.full
    return bool(network_pattern(net).all())
