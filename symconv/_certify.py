"""Certificates for forced-zero patterns: exact witnesses, no floating point.

*Structural zeros are identically zero*: such an entry has no path from input to output,
so its polynomial is the empty sum (see ``_patterns``).

*Structural nonzeros are not identically zero*: evaluate the network at integer weights
modulo a prime ``p``. The value of an integer polynomial at integers, reduced mod ``p``, is
zero whenever the polynomial is identically zero; a nonzero residue therefore proves the
entry is a nonzero polynomial. A vanishing residue proves nothing (it happens with
probability about ``degree/p``) and the certificate retries with new weights.

For networks of convolutions and upsamplings the witness weights are chosen separable,
``w[o, c, p, q] = a[o, c]·u[p]·v[q]``: each layer's matrix is then exactly
``A ⊗ U ⊗ V`` and the network's value is ``(ΠA) ⊗ (ΠU) ⊗ (ΠV)`` mod p, so a 4096×4096
product is certified from three small ones (p prime: a product of residues is nonzero iff
every factor is). Other networks (skip connections) are evaluated as sparse products mod p.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._layers import Conv2d, Network, Upsample
from ._matrices import _conv_layers, network_matrix_mod, tap_slices
from ._patterns import factored_pattern, network_pattern

__all__ = ["PRIME", "Certificate", "certify"]

#: The largest prime below 2**25: residues multiply exactly in int64.
PRIME = 33_554_393


@dataclass(frozen=True)
class Certificate:
    """The outcome of certifying a network's pattern against exact witnesses."""

    nonzeros: int  # structurally nonzero entries
    witnessed: int  # of those, shown to be nonzero polynomials by the witness
    contradicted: int  # structural zeros where the witness is nonzero (a pattern bug)
    forced_zeros: int
    prime: int
    seed: int  # seed of the weights that witnessed every entry
    method: str  # "kronecker" or "sparse"
    tries: int

    @property
    def certified(self) -> bool:
        return self.witnessed == self.nonzeros and self.contradicted == 0

    def describe(self) -> str:
        state = "certified" if self.certified else "NOT certified"
        return (
            f"{state}: {self.witnessed}/{self.nonzeros} nonzero entries witnessed by integer "
            f"weights mod {self.prime} (seed {self.seed}, {self.method}), "
            f"{self.forced_zeros} forced zeros, {self.contradicted} contradictions"
        )


def _axis_apply(layer: Conv2d, taps: np.ndarray, mat: np.ndarray, prime: int) -> np.ndarray:
    """``U @ mat`` mod p for ``U[i', i] = Σ_p u[p]·[i = i'·t − pad + p·dil]``, in O(k·n²):
    the band is applied as ``k`` shifted row slices instead of a dense product."""
    n_in = mat.shape[0]
    n_out = layer.out_len(n_in)
    out = np.zeros((n_out, mat.shape[1]), dtype=np.int64)
    # residues below 2**25: k terms of at most 2**50 each stay far below 2**63 for k < 2**12,
    # so one reduction after the taps suffices
    reduce_every = max(1, (2**62) // (prime * prime))
    for p in range(layer.kernel):
        io, ii = tap_slices(n_in, n_out, p, layer.stride, layer.pad, layer.dilation)
        out[io] += taps[p] * mat[ii]
        if (p + 1) % reduce_every == 0:
            out %= prime
    return out % prime


def _matmul_mod(a: np.ndarray, b: np.ndarray, prime: int) -> np.ndarray:
    """Exact ``a @ b mod prime`` for residues below 2**25, in chunks that cannot overflow."""
    n = a.shape[1]
    step = max(1, (2**62) // (prime * prime))
    if n <= step:
        return (a @ b) % prime
    acc = np.zeros((a.shape[0], b.shape[1]), dtype=np.int64)
    for k in range(0, n, step):
        acc = (acc + a[:, k : k + step] @ b[k : k + step]) % prime
    return acc


def _kronecker_values(
    net: Network, rng: np.random.Generator, prime: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c, h, w = net.in_shape
    ch = np.eye(c, dtype=np.int64)
    rows = np.eye(h, dtype=np.int64)
    cols = np.eye(w, dtype=np.int64)
    shape = net.in_shape
    for layer in net.layers:
        _, h_in, w_in = shape
        if isinstance(layer, Conv2d):
            a = rng.integers(1, prime, (layer.out_channels, layer.in_channels), dtype=np.int64)
            u = rng.integers(1, prime, layer.kernel, dtype=np.int64)
            v = rng.integers(1, prime, layer.kernel, dtype=np.int64)
            ch = _matmul_mod(a, ch, prime)
            rows = _axis_apply(layer, u, rows, prime)
            cols = _axis_apply(layer, v, cols, prime)
        elif isinstance(layer, Upsample):  # identity on channels, 0/1 along each axis
            rows = rows[np.arange(h_in * layer.scale) // layer.scale]
            cols = cols[np.arange(w_in * layer.scale) // layer.scale]
        else:
            raise TypeError(f"no Kronecker form for {type(layer).__name__}")
        shape = layer.out_shape(shape)
    return ch, rows, cols


def certify(net: Network, *, seed: int = 0, tries: int = 5, prime: int = PRIME) -> Certificate:
    """Certify the forced-zero pattern of ``net`` entry by entry (see the module text)."""
    f = factored_pattern(net)
    last: Certificate | None = None
    for t in range(tries):
        rng = np.random.default_rng([seed, t])
        if f is not None:
            vals = _kronecker_values(net, rng, prime)
            pats = (f.channels, f.rows, f.cols)
            nz = [v != 0 for v in vals]
            witnessed = int(np.prod([int((p & z).sum()) for p, z in zip(pats, nz, strict=True)]))
            evaluated = int(np.prod([int(z.sum()) for z in nz]))
            contradicted = evaluated - witnessed
            nonzeros, forced, method = f.nonzeros, f.forced_zeros, "kronecker"
        else:
            pattern = network_pattern(net)
            weights = [
                rng.integers(1, prime, (c.out_channels, c.in_channels, c.kernel, c.kernel))
                for c in _conv_layers(net.layers)
            ]
            value = network_matrix_mod(net, weights, prime).toarray() != 0
            witnessed = int((pattern & value).sum())
            contradicted = int((~pattern & value).sum())
            nonzeros = int(pattern.sum())
            forced, method = int(pattern.size - nonzeros), "sparse"
        last = Certificate(nonzeros, witnessed, contradicted, forced, prime, t, method, t + 1)
        if last.certified or contradicted:
            return last
    assert last is not None
    return last
