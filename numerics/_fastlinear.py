"""Deep single-filter linear conv nets (Table 2's networks) as a chain of dense matrices
in numpy: the arithmetic of the trainer's numpy backend (:mod:`numerics._trainer`).

A single-filter conv layer with kernel ``k`` and 'same' padding on an ``s×s`` image is a
``d×d`` matrix (``d = s²``) whose entries are its ``k²`` weights or zero (Appendix D).
symconv's :func:`symconv.conv_entries` gives the (row, column, weight) table, so all ``L``
layer matrices are one scatter of the ``L×k²`` weights. A skip connection every ``m`` layers
makes the factor ``I + M_{j+m−1}…M_j``, and the network is the product of its factors.

:class:`NumpyChain` is that chain for ``B`` nets at once (forward, backward, weight
gradients on preallocated buffers: a step is a few hundred small BLAS calls, no autograd
graph, no per-layer module dispatch); the trainer's
:class:`numerics._trainer.ChainMembers` trains ``B`` members with it and
:func:`numerics._trainer.optimizer_step`, the one numpy update (torch's SGD and Adam
formulas). It computes the same function as :func:`numerics._nets.build_model` on the same
:class:`symconv.Network` with the same weights (tests compare forward and gradients to
1e-12 in float64); Adam and gradient descent act elementwise, so training the stacked
``L×k²`` weights follows the same trajectory as torch training the ``L`` conv layers
(tests: 1e-10 relative).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symconv import Conv2d, Network, Residual, conv_entries

__all__ = ["GATHER_MAX", "NumpyChain", "chain_matrices", "fast_supported"]

#: The weight gradients gather the matrix entries while their ``(L·B, E, n)`` temporaries
#: hold at most this many values (and the scatter writes the entries one by one while the
#: ``L·B·E`` entries are at most this many); beyond it, shifted sums and diagonal views.
GATHER_MAX = 20_000


def _layout(net: Network) -> list[tuple[str, int, int]] | None:
    """The factors of ``net`` as ``("conv", first, 1)`` or ``("skip", first, length)``,
    or ``None`` when ``net`` is not a chain of 1→1 same-shape convolutions."""
    shape = net.in_shape
    if shape[0] != 1:
        return None
    factors: list[tuple[str, int, int]] = []
    pos = 0
    kernel: int | None = None

    def ok(layer: object) -> bool:
        nonlocal kernel
        if not isinstance(layer, Conv2d):
            return False
        if layer.in_channels != 1 or layer.out_channels != 1 or layer.out_shape(shape) != shape:
            return False
        if kernel is None:
            kernel = layer.kernel
        return layer.kernel == kernel

    for layer in net.layers:
        if isinstance(layer, Residual):
            if not layer.body or not all(ok(b) for b in layer.body):
                return None
            factors.append(("skip", pos, len(layer.body)))
            pos += len(layer.body)
        elif ok(layer):
            factors.append(("conv", pos, 1))
            pos += 1
        else:
            return None
    # every conv must share the same entry table (same kernel, padding, stride, dilation)
    convs = _convs(net)
    if convs and any(c != convs[0] for c in convs):
        return None
    return factors


def _convs(net: Network) -> list[Conv2d]:
    out: list[Conv2d] = []
    for layer in net.layers:
        if isinstance(layer, Residual):
            out.extend(b for b in layer.body if isinstance(b, Conv2d))
        elif isinstance(layer, Conv2d):
            out.append(layer)
    return out


def fast_supported(net: Network) -> bool:
    """True when ``net`` is a chain of single-filter same-shape convs (with or without
    skip connections): the networks of Table 2."""
    return _layout(net) is not None and net.depth > 0


# ---------------------------------------------------------------------------------------
# The pure-numpy trainer (CPU): forward chain, loss, backward chain, weight gradients and
# the optimizer update, all on preallocated numpy buffers.


def _shift_table(
    rows: np.ndarray, cols: np.ndarray, widx: np.ndarray, shape: tuple[int, int], k2: int
) -> np.ndarray | None:
    """``(k², 2)`` offsets ``δ_k`` with ``col = row + δ_k`` (in pixel coordinates) for every
    entry holding weight ``k``, when each weight's entries are exactly the in-bounds pixels
    shifted by ``δ_k`` (a stride-1 'same' convolution); otherwise ``None``."""
    h, w = shape
    ri, rj = np.divmod(rows, w)
    ci, cj = np.divmod(cols, w)
    out = np.zeros((k2, 2), dtype=np.int64)
    for k in range(k2):
        sel = widx == k
        di, dj = np.unique(ci[sel] - ri[sel]), np.unique(cj[sel] - rj[sel])
        if di.size != 1 or dj.size != 1:
            return None
        out[k] = di[0], dj[0]
        if int(sel.sum()) != (h - abs(int(di[0]))) * (w - abs(int(dj[0]))):
            return None
    return out


def _check_chain(net: Network) -> list[tuple[str, int, int]]:
    """The factors of ``net`` (see :func:`_layout`); a ``ValueError`` naming ``net`` when it
    is not a chain of single-filter same-shape convolutions."""
    layout = _layout(net)
    if layout is None or net.depth == 0:
        raise ValueError(
            "net: the fast path needs a chain of single-filter same-shape convolutions "
            f"(got {net!r:.120})"
        )
    return layout


class NumpyChain:
    """``B`` deep single-filter linear conv nets of one architecture (the members of a seed
    ensemble; ``B = 1`` for one net) as ``L`` dense ``d×d`` layer matrices each (numpy).

    Buffers carry the member index second: layer matrices ``(L, B, d, d)``, layer inputs
    ``(L+1, B, d, n)`` (images as columns), output gradients ``(L, B, d, n)``, weight
    gradients ``(L, B, k²)``. Layer ``l``'s matrix holds its ``k²`` weights at the entries
    symconv's :func:`symconv.conv_entries` lists (Appendix D), written by one scatter per
    step (for a large stride-1 'same' conv, ``k²`` copies into strided diagonal views); the
    transposes are views. The forward pass is a loop of products ``A[l+1] = M_l A[l]``
    (``np.dot`` for one member, one batched ``np.matmul`` for several); a skip block adds
    its input to its body's output. The backward pass runs the transposed chain into the
    output gradients ``G[l]`` (the first layer's input gradient is not needed and not
    formed). The weight gradient is

        ``∂L/∂w_(l,b)[k] = Σ_(n,i,j) G_(l,b)[n, i, j] · A_(l,b)[n, i + δ_k]``

    with the ``L·B`` (layer, member) pairs as ``L·B`` layers of one chain: one gather of
    the matrix entries ``Σ_n G[r_e, n]·A[c_e, n]`` summed per weight (segment sums) while
    its ``(L·B, E, n)`` temporaries are small (at most :data:`GATHER_MAX` values, measured
    by ``benchmarks/bench_table2.py``), beyond that, for a stride-1 'same' convolution
    (``δ_k`` the pixel offset of weight ``k``), ``k²`` multiply-sums on zero-padded images.
    """

    def __init__(self, net: Network, n: int, batch: int = 1) -> None:
        layout = _check_chain(net)
        conv = _convs(net)[0]
        _, h, w = net.in_shape
        B, L, d, k2 = batch, net.depth, h * w, conv.kernel * conv.kernel
        r, c, wi = conv_entries(conv, net.in_shape)
        self.layout, self.shape = layout, (h, w)
        self.depth, self.batch, self.d, self.k2, self.n = L, B, d, k2, n
        self.pos = (r * d + c).astype(np.intp)
        self.widx = wi.astype(np.intp)
        self.rows, self.cols = r.astype(np.intp), c.astype(np.intp)
        e = r.size
        shifts = _shift_table(r, c, wi, (h, w), k2)
        # chosen per member (not per batch): a member's arithmetic, and so its rounding,
        # is the same whether it trains alone or beside others
        self.grad_method = "shift" if shifts is not None and L * e * n > GATHER_MAX else "gather"
        LB = L * B
        self.mats = np.zeros((L, B, d, d))
        self._mflat = self.mats.reshape(LB, d * d)
        self.acts = np.zeros((L + 1, B, d, n))  # acts[l]: layer l's input; acts[L]: output
        self.grads = np.zeros((L, B, d, n))  # grads[l]: the loss gradient at layer l's output
        self.gw = np.zeros((L, B, k2))
        self._gw2 = self.gw.reshape(LB, k2)
        self._tmp = np.zeros((B, d, n))
        self._g2 = self.grads.reshape(LB, d, n)
        self._a2 = self.acts[:L].reshape(LB, d, n)
        if self.grad_method == "gather":
            # the entries grouped by weight, so that each weight's gradient is one segment
            # sum (np.add.reduceat, row by row: no BLAS call whose rounding depends on B)
            order = np.argsort(wi, kind="stable")
            self.rows, self.cols = self.rows[order], self.cols[order]
            starts = np.searchsorted(wi[order], np.arange(k2))
            # a weight with no entry (a kernel wider than the image) has gradient 0
            self._present = np.flatnonzero(np.diff(np.append(starts, e)) > 0)
            self._starts = starts[self._present]
            self._pe = np.zeros((LB, e))
            self._ge = np.zeros((LB, e, n))
            self._ae = np.zeros((LB, e, n))
        else:
            assert shifts is not None
            pad = int(np.abs(shifts).max())
            self._apad = np.zeros((LB, h + 2 * pad, w + 2 * pad, n))
            self._inner = self._apad[:, pad : pad + h, pad : pad + w, :]
            self._a4 = self.acts[:L].reshape(LB, h, w, n)
            self._shifted = [
                self._apad[:, pad + di : pad + di + h, pad + dj : pad + dj + w, :]
                for di, dj in shifts
            ]
            self._g4 = self.grads.reshape(LB, h, w, n)
            self._gwt = np.zeros((k2, LB))
        # the scatter: one fancy-index assignment while the L·B·E entries are few (measured:
        # cheaper below ~2e4), beyond that k² copies into strided diagonal views
        big = L * B * e > GATHER_MAX
        self._diagonals = self._diagonal_views(shifts) if shifts is not None and big else None
        self._program()

    def _diagonal_views(self, shifts: np.ndarray) -> list[np.ndarray]:
        """For a stride-1 'same' conv, weight ``k`` sits at ``M[(i, j), (i+δi, j+δj)]`` for
        the in-bounds pixels: one strided ``(L·B, h−|δi|, w−|δj|)`` view of the matrices
        per weight, so the scatter is ``k²`` broadcast copies without index arrays."""
        h, w = self.shape
        d, item = self.d, self.mats.itemsize
        flat = self.mats.reshape(-1)
        views = []
        for di, dj in shifts:
            i0, j0 = max(0, -int(di)), max(0, -int(dj))
            start = i0 * (w * d + w) + j0 * (d + 1) + int(di) * w + int(dj)
            views.append(
                np.lib.stride_tricks.as_strided(
                    flat[start:],
                    shape=(self.depth * self.batch, h - abs(int(di)), w - abs(int(dj))),
                    strides=(d * d * item, (w * d + w) * item, (d + 1) * item),
                    writeable=True,
                )
            )
        return views

    def _program(self) -> None:
        """Precompute the forward and backward passes as lists of ``(f, a, b, out)`` calls
        ``f(a, b, out=out)`` on views of the buffers: the per-step loop is nothing else."""
        # one batched np.matmul per product, also for one member: each member's product is
        # the same BLAS call whatever the batch, so its trajectory does not depend on it
        mul: Any = np.matmul
        m, mt = list(self.mats), [x.transpose(0, 2, 1) for x in self.mats]
        a, g, tmp = list(self.acts), list(self.grads), self._tmp
        add = np.add
        fwd: list[tuple[Any, np.ndarray, np.ndarray, np.ndarray]] = []
        bwd: list[tuple[Any, np.ndarray, np.ndarray, np.ndarray]] = []
        for kind, first, length in self.layout:
            last = first + length - 1
            if kind == "conv":
                fwd.append((mul, m[first], a[first], a[first + 1]))
            else:
                for i in range(first, last):
                    fwd.append((mul, m[i], a[i], a[i + 1]))
                fwd.append((mul, m[last], a[last], tmp))
                fwd.append((add, tmp, a[first], a[last + 1]))
        for kind, first, length in reversed(self.layout):
            last = first + length - 1
            if kind == "conv":
                if first > 0:
                    bwd.append((mul, mt[first], g[first], g[first - 1]))
            else:
                for i in range(last, first, -1):
                    bwd.append((mul, mt[i], g[i], g[i - 1]))
                if first > 0:
                    bwd.append((mul, mt[first], g[first], tmp))
                    bwd.append((add, tmp, g[last], g[first - 1]))
        self._fwd, self._bwd = fwd, bwd

    def set_weights(self, weight: np.ndarray) -> None:
        """Write the ``(L, k²)`` (or ``(L, B, k²)``) weights into the layer matrices."""
        w2 = weight.reshape(-1, self.k2)
        if self._diagonals is None:
            self._mflat[:, self.pos] = w2[:, self.widx]
            return
        for k, view in enumerate(self._diagonals):
            np.copyto(view, w2[:, k, None, None])

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The outputs ``(B, d, n)`` for images as columns ``x`` ``(B, d, n)``: a view of the
        activation buffer, overwritten by the next call."""
        np.copyto(self.acts[0], x)
        for f, a, b, out in self._fwd:
            f(a, b, out=out)
        return self.acts[-1]

    def backward(self) -> np.ndarray:
        """The ``(L, B, k²)`` weight gradients for the output gradient in ``grads[-1]``,
        after :meth:`forward` (a view of a buffer, overwritten by the next call)."""
        for f, a, b, out in self._bwd:
            f(a, b, out=out)
        if self.grad_method == "gather":
            np.take(self._g2, self.rows, axis=1, out=self._ge)
            np.take(self._a2, self.cols, axis=1, out=self._ae)
            np.einsum("len,len->le", self._ge, self._ae, out=self._pe)
            if self._present.size == self.k2:
                np.add.reduceat(self._pe, self._starts, axis=1, out=self._gw2)
            else:
                self._gw2[:] = 0.0
                self._gw2[:, self._present] = np.add.reduceat(self._pe, self._starts, axis=1)
        else:
            np.copyto(self._inner, self._a4)
            ein, g4, gwt = np.einsum, self._g4, self._gwt
            for k, view in enumerate(self._shifted):
                ein("lijn,lijn->l", g4, view, out=gwt[k])
            np.copyto(self._gw2, gwt.T)
        return self.gw


def chain_matrices(net: Network, weights: np.ndarray) -> np.ndarray:
    """The end-to-end ``d×d`` matrices ``(B, d, d)`` of ``B`` members with weights
    ``(B, L, k²)``: the basis images through the chain (column ``j`` is ``f(e_j)``)."""
    w = np.ascontiguousarray(np.asarray(weights, dtype=np.float64).transpose(1, 0, 2))
    chain = NumpyChain(net, net.in_shape[1] * net.in_shape[2], batch=w.shape[1])
    chain.set_weights(w)
    with np.errstate(over="ignore", invalid="ignore"):  # a diverged member: inf/nan entries
        return chain.forward(
            np.broadcast_to(np.eye(chain.d), (w.shape[1], chain.d, chain.d))
        ).copy()
