"""A fast, exact form of deep single-filter linear conv nets (Table 2's networks).

A single-filter conv layer with kernel ``k`` and 'same' padding on an ``s×s`` image is a
``d×d`` matrix (``d = s²``) whose entries are its ``k²`` weights or zero (Appendix D).
symconv's :func:`symconv.conv_entries` gives the (row, column, weight) table, so all ``L``
layer matrices are one scatter of the ``L×k²`` weights. A skip connection every ``m`` layers
makes the factor ``I + M_{j+m−1}…M_j``, and the network is the product of its factors.

Three forms, one function:

* :class:`ChainTrainer` (CPU, numpy only): the forward chain of ``d×d`` by ``d×n``
  products, the loss, the backward chain, the weight gradients (``k²`` shifted
  multiply-sums over all layers at once) and torch's Adam/SGD update
  (:func:`optimizer_step`), all on preallocated numpy buffers (:class:`NumpyChain`). A step
  is a few hundred small BLAS calls and nothing else: no autograd graph, no per-layer
  module dispatch. The same chain built for ``B`` nets at once trains the seeds of a Table
  2 row together (:func:`numerics._ensemble.train_chain_ensemble`).
* :class:`FastLinearChain` with ``strategy="chain"`` (a torch module, CPU): the same numpy
  chain inside a ``torch.autograd.Function``, for torch losses and optimizers.
* :class:`FastLinearChain` with ``strategy="tree"`` (GPU): the product of the factors by a
  balanced tree of batched matmuls, ``⌈log₂ L⌉`` kernel launches instead of ``L``
  convolutions; the end-to-end matrix ``P`` comes with every step.

Each computes the same function as :func:`numerics._nets.build_model` on the same
:class:`symconv.Network` with the same weights (tests compare forward and gradients to
1e-12 in float64); Adam and gradient descent act elementwise, so training the stacked
``L×k²`` weight tensor follows the same trajectory as training the ``L`` conv weights
(tests: the numpy trainer against torch's optimizers on the conv model, 1e-10 relative).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from symconv import Conv2d, Network, Residual, conv_entries

if TYPE_CHECKING:
    import torch

__all__ = [
    "ChainTrainer",
    "FastLinearChain",  # noqa: F822 (built lazily: needs torch)
    "NumpyChain",
    "check_optimizer",
    "fast_supported",
    "optimizer_step",
    "tree_product",
]


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


def tree_product(mats: torch.Tensor) -> torch.Tensor:
    """``F[n−1] @ … @ F[1] @ F[0]`` for ``mats`` of shape ``(..., n, d, d)``, by a balanced
    tree of batched matmuls (``⌈log₂ n⌉`` of them); batch dimensions are kept."""
    import torch

    while mats.shape[-3] > 1:
        n = mats.shape[-3]
        if n % 2:
            last = mats[..., -1:, :, :]
            mats = mats[..., :-1, :, :]
            pairs = torch.matmul(mats[..., 1::2, :, :], mats[..., 0::2, :, :])
            mats = torch.cat([pairs, last], dim=-3)
        else:
            mats = torch.matmul(mats[..., 1::2, :, :], mats[..., 0::2, :, :])
    return mats[..., 0, :, :]


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
    """A deep single-filter linear conv net as ``L`` dense ``d×d`` layer matrices (numpy),
    for one net or for ``batch`` nets of the same architecture at once (the members of a
    seed ensemble, :mod:`numerics._ensemble`).

    Buffers carry the member index second: layer matrices ``(L, B, d, d)``, layer inputs
    ``(L+1, B, d, n)`` (images as columns), output gradients ``(L, B, d, n)``, weight
    gradients ``(L, B, k²)`` (``B = 1`` for one net). Layer ``l``'s matrix holds its ``k²``
    weights at the entries symconv's :func:`symconv.conv_entries` lists (Appendix D),
    written by one scatter per step (for a large stride-1 'same' conv, ``k²`` copies into
    strided diagonal views); the transposes are views. The forward pass is a loop of products
    ``A[l+1] = M_l A[l]`` (``np.dot`` for one member, one batched ``np.matmul`` for
    several); a skip block adds its input to its body's output. The backward pass runs the
    transposed chain into the output gradients ``G[l]`` (the first layer's input gradient is
    not needed and not formed). The weight gradient is

        ``∂L/∂w_(l,b)[k] = Σ_(n,i,j) G_(l,b)[n, i, j] · A_(l,b)[n, i + δ_k]``

    for a stride-1 'same' convolution (``δ_k`` the pixel offset of weight ``k``), with the
    ``L·B`` (layer, member) pairs as ``L·B`` layers of one chain: ``k²`` multiply-sums on
    zero-padded images (``"shift"``), or one product with the stacked shifted windows
    (``"window"``); for any conv, one gather of the matrix entries ``Σ_n G[r_e, n]·A[c_e, n]``
    summed per weight by a 0/1 matmul (``"gather"``), or the full outer products
    ``G·Aᵀ`` read at the entries (``"outer"``). ``"auto"``: gather while its temporaries
    are small, shift beyond.

    Without ``batch`` the methods take and give one net's arrays: weights ``(L, k²)``,
    images ``(d, n)``; with ``batch = B`` they carry the member index (``(L, B, k²)``,
    ``(B, d, n)``).
    """

    GRAD_METHODS = ("auto", "shift", "window", "gather", "outer")

    def __init__(
        self, net: Network, n: int, *, batch: int | None = None, grad_method: str = "auto"
    ) -> None:
        layout = _check_chain(net)
        if grad_method not in self.GRAD_METHODS:
            raise ValueError(
                f"grad_method: must be one of {', '.join(self.GRAD_METHODS)} (got {grad_method!r})"
            )
        conv = _convs(net)[0]
        _, h, w = net.in_shape
        B = 1 if batch is None else batch
        L, d, k2 = net.depth, h * w, conv.kernel * conv.kernel
        r, c, wi = conv_entries(conv, net.in_shape)
        self.layout, self.shape, self._one = layout, (h, w), batch is None
        self.depth, self.batch, self.d, self.k2, self.n = L, B, d, k2, n
        self.pos = (r * d + c).astype(np.intp)
        self.widx = wi.astype(np.intp)
        self.rows, self.cols = r.astype(np.intp), c.astype(np.intp)
        e = r.size
        self.select = np.zeros((e, k2))
        self.select[np.arange(e), wi] = 1.0
        shifts = _shift_table(r, c, wi, (h, w), k2)
        if grad_method == "auto":
            # measured (benchmarks/bench_table2.py): the gather's (L·B, E, n) temporaries win
            # while they are small; beyond ~2e4 values the k² shifted sums are cheaper
            grad_method = "shift" if shifts is not None and L * B * e * n > 20_000 else "gather"
        if grad_method in ("shift", "window") and shifts is None:
            raise ValueError(f"grad_method: {grad_method!r} needs a stride-1 'same' convolution")
        self.grad_method = grad_method
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
        if grad_method in ("gather", "outer"):
            self._pe = np.zeros((LB, e))
            if grad_method == "gather":
                self._ge = np.zeros((LB, e, n))
                self._ae = np.zeros((LB, e, n))
            else:
                self._gm = np.zeros((LB, d, d))
                self._gmflat = self._gm.reshape(LB, d * d)
                self._aT = self._a2.transpose(0, 2, 1)
        else:
            assert shifts is not None
            pad = int(np.abs(shifts).max())
            self._apad = np.zeros((LB, h + 2 * pad, w + 2 * pad, n))
            self._inner = self._apad[:, pad : pad + h, pad : pad + w, :]
            self._a4 = self.acts[:L].reshape(LB, h, w, n)
            if grad_method == "shift":
                self._shifted = [
                    self._apad[:, pad + di : pad + di + h, pad + dj : pad + dj + w, :]
                    for di, dj in shifts
                ]
                self._g4 = self.grads.reshape(LB, h, w, n)
                self._gwt = np.zeros((k2, LB))
            else:
                side = 2 * pad + 1
                # windows[l, a, b] = the layer input shifted by (a − pad, b − pad)
                self._windows = np.lib.stride_tricks.sliding_window_view(
                    self._apad, (h, w), axis=(1, 2)
                ).transpose(0, 1, 2, 4, 5, 3)
                self._wbuf = np.zeros((LB, side, side, h, w, n))
                self._wflat = self._wbuf.reshape(LB, side * side, d * n)
                self._gflat = self.grads.reshape(LB, d * n)
                self._gwin = np.zeros((LB, side * side))
                self._order = ((shifts[:, 0] + pad) * side + shifts[:, 1] + pad).astype(np.intp)
        # the scatter: one fancy-index assignment while the L·B·E entries are few (measured:
        # cheaper below ~2e4), beyond that k² copies into strided diagonal views
        big = L * B * e > 20_000
        self._diagonals = self._diagonal_views(shifts) if shifts is not None and big else None
        # what forward / backward give back: one net's arrays without the member index
        self._out = self.acts[-1, 0] if self._one else self.acts[-1]
        self._gw_out = self.gw[:, 0] if self._one else self.gw
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
        if self.batch == 1:  # one member: 2-d views and np.dot (the least call overhead)
            mul: Any = np.dot
            m = [x[0] for x in self.mats]
            mt = [x.T for x in m]
            a, g, tmp = [x[0] for x in self.acts], [x[0] for x in self.grads], self._tmp[0]
        else:
            mul = np.matmul
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
        """The output ``(d, n)`` (``(B, d, n)``) for images ``x`` as columns ``(d, n)``
        (``(B, d, n)``): a view of the activation buffer, overwritten by the next call."""
        np.copyto(self.acts[0], x)
        for f, a, b, out in self._fwd:
            f(a, b, out=out)
        return self._out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """``(L, k²)`` (``(L, B, k²)``) weight gradients for the output gradient
        ``grad_out`` (``(d, n)``, ``(B, d, n)``), after :meth:`forward` (a view of a
        buffer, overwritten by the next call)."""
        np.copyto(self.grads[-1], grad_out)
        return self.backward_from_buffer()

    def backward_from_buffer(self) -> np.ndarray:
        """:meth:`backward` with the output gradient already in ``grads[-1]``."""
        for f, a, b, out in self._bwd:
            f(a, b, out=out)
        if self.grad_method == "gather":
            np.take(self._g2, self.rows, axis=1, out=self._ge)
            np.take(self._a2, self.cols, axis=1, out=self._ae)
            np.einsum("len,len->le", self._ge, self._ae, out=self._pe)
            np.dot(self._pe, self.select, out=self._gw2)
        elif self.grad_method == "outer":
            np.matmul(self._g2, self._aT, out=self._gm)
            np.take(self._gmflat, self.pos, axis=1, out=self._pe)
            np.dot(self._pe, self.select, out=self._gw2)
        elif self.grad_method == "window":
            np.copyto(self._inner, self._a4)
            np.copyto(self._wbuf, self._windows)
            np.einsum("lkx,lx->lk", self._wflat, self._gflat, out=self._gwin)
            np.take(self._gwin, self._order, axis=1, out=self._gw2)
        else:
            np.copyto(self._inner, self._a4)
            ein, g4, gwt = np.einsum, self._g4, self._gwt
            for k, view in enumerate(self._shifted):
                ein("lijn,lijn->l", g4, view, out=gwt[k])
            np.copyto(self._gw2, gwt.T)
        return self._gw_out

    def input_grad(self) -> np.ndarray:
        """The loss gradient at the net's input ``(d, n)`` (``(B, d, n)``), after
        :meth:`backward`."""
        kind, _, length = self.layout[0]
        g = np.matmul(self.mats[0].transpose(0, 2, 1), self.grads[0])
        if kind == "skip":
            g += self.grads[length - 1]
        return g[0] if self._one else g


def optimizer_step(
    optimizer: str,
    g: np.ndarray,
    w: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    t: np.ndarray,
    *,
    lr: float,
    step: int,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
) -> None:
    """One update of the weights ``w`` in place from their gradient ``g``, with torch's
    formulas (elementwise, so any stack of weights follows each weight's own trajectory):

    * ``"sgd"``: ``w ← w − lr·g`` (``torch.optim.SGD``, no momentum);
    * ``"adam"``: ``torch.optim.Adam`` (no weight decay), ``step`` counting from 1:
      ``m ← m + (1−β₁)(g − m)``, ``v ← β₂v + (1−β₂)g²``,
      ``w ← w − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + eps)``.

    ``m`` and ``v`` are Adam's moments, ``t`` scratch space; all of ``w``'s shape."""
    if optimizer == "sgd":
        np.multiply(g, -lr, out=t)
        w += t
        return
    b1, b2 = betas
    np.subtract(g, m, out=t)  # torch's lerp: m + (1 − β₁)(g − m)
    t *= 1 - b1
    m += t
    v *= b2
    np.multiply(g, g, out=t)
    t *= 1 - b2
    v += t
    step_size = lr / (1 - b1**step)
    np.sqrt(v, out=t)
    t /= (1 - b2**step) ** 0.5
    t += eps
    np.divide(m, t, out=t)
    t *= -step_size
    w += t


class ChainTrainer:
    """Training of a deep single-filter linear conv net on the CPU in numpy alone.

    One step: scatter the ``L×k²`` weights into the layer matrices, the forward chain, the
    loss ``mean((y − x)²)`` over pixels and images (torch's ``((y−x)**2).mean()``), its
    gradient ``2(y − x)/N``, the backward chain and the weight gradients
    (:class:`NumpyChain`), then :func:`optimizer_step` on the stacked weights (``"sgd"``
    or ``"adam"``, torch's formulas).

    Both act elementwise, so training the stacked weights follows the same trajectory as
    torch training the ``L`` conv layers (tests: 1e-10 relative after many steps).
    """

    def __init__(
        self,
        net: Network,
        weights: Any,
        x: np.ndarray,
        *,
        optimizer: str,
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        grad_method: str = "auto",
    ) -> None:
        check_optimizer(optimizer)
        x = np.asarray(x, dtype=np.float64)
        n = x.shape[0]
        self.chain = NumpyChain(net, n, grad_method=grad_method)
        self.weight = np.array(
            [np.asarray(v, dtype=np.float64).ravel() for v in weights], dtype=np.float64
        ).reshape(self.chain.depth, self.chain.k2)
        self.x = np.ascontiguousarray(x.reshape(n, -1).T)  # images as columns (d, n)
        self.optimizer, self.lr, self.betas, self.eps = optimizer, float(lr), betas, eps
        self.steps = 0
        self._scale = 2.0 / self.x.size
        self._resid = self.chain.grads[-1, 0]  # y − x lives where the backward pass starts
        self._m = np.zeros_like(self.weight)
        self._v = np.zeros_like(self.weight)
        self._t = np.zeros_like(self.weight)
        self._flat_r = self._resid.reshape(-1)

    def loss(self) -> float:
        """The loss at the current weights (forward pass; keeps what backward needs)."""
        self.chain.set_weights(self.weight)
        y = self.chain.forward(self.x)
        np.subtract(y, self.x, out=self._resid)
        r = self._flat_r
        return float(np.dot(r, r)) / r.size

    def update(self) -> None:
        """One optimizer step from the state :meth:`loss` left (its gradient, then the
        update of the weights)."""
        np.multiply(self._resid, self._scale, out=self._resid)
        g = self.chain.backward_from_buffer()
        self.steps += 1
        optimizer_step(
            self.optimizer, g, self.weight, self._m, self._v, self._t, lr=self.lr,
            step=self.steps, betas=self.betas, eps=self.eps,
        )  # fmt: skip

    def step(self) -> float:
        """One training step; returns the loss before it."""
        value = self.loss()
        self.update()
        return value

    def train(self, *, target: float, cap: int, callback: Any = None) -> tuple[float, int]:
        """Steps until the loss is below ``target``, not finite, or ``cap`` steps were taken
        (the loss is checked before each step); ``callback(steps, loss)`` every 100 steps.
        Returns (final loss, steps taken)."""
        it = 0
        while True:
            value = self.loss()
            if value < target or not math.isfinite(value) or it >= cap:
                return value, it
            self.update()
            it += 1
            if callback is not None and it % 100 == 0:
                callback(it, value)

    def conv_weights(self) -> list[np.ndarray]:
        """Weights in symconv order, shape ``(1, 1, k, k)`` each."""
        k = round(self.chain.k2**0.5)
        return [self.weight[i].reshape(1, 1, k, k).copy() for i in range(self.chain.depth)]


def check_optimizer(optimizer: str) -> None:
    """A ``ValueError`` naming ``optimizer`` unless it is ``"adam"`` or ``"sgd"``."""
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer: must be adam or sgd (got {optimizer!r})")


def _choose(strategy: str, device: str) -> str:
    if strategy not in ("auto", "tree", "chain"):
        raise ValueError(f"strategy: must be auto, tree or chain (got {strategy!r})")
    if strategy != "auto":
        return strategy
    # measured (benchmarks/bench_table2.py): on a CPU the numpy chain of matrix-vector
    # products wins at every Table 2 size; a GPU prefers the tree's few large launches.
    return "chain" if device == "cpu" else "tree"


@lru_cache(maxsize=1)
def _torch_module() -> type[torch.nn.Module]:
    import torch

    class _Chain(torch.autograd.Function):
        """``Y = net(X)`` by :class:`NumpyChain` (a loop of numpy matrix products on the
        CPU) with its hand-written backward; float64 inside, the caller's dtype outside.

        Forward saves the weights and the activations, since another forward may reuse the
        chain's buffers before this backward runs.
        """

        @staticmethod
        def forward(ctx: Any, weight: torch.Tensor, x: torch.Tensor, module: Any) -> torch.Tensor:
            chain = module._np_chain(x.shape[1])
            w = weight.detach().numpy().astype(np.float64)
            chain.set_weights(w)
            y = chain.forward(x.detach().numpy()).astype(np.float64, copy=True)
            ctx.module, ctx.w, ctx.acts = module, w, chain.acts.copy()
            return torch.from_numpy(y).to(x.dtype)

        @staticmethod
        def backward(
            ctx: Any, grad: torch.Tensor
        ) -> tuple[torch.Tensor, torch.Tensor | None, None]:
            chain = ctx.module._np_chain(grad.shape[1])
            chain.set_weights(ctx.w)
            np.copyto(chain.acts, ctx.acts)
            gw = chain.backward(grad.detach().numpy()).copy()
            gx = None
            if ctx.needs_input_grad[1]:
                gx = torch.from_numpy(chain.input_grad().copy()).to(grad.dtype)
            return torch.from_numpy(gw).to(grad.dtype), gx, None

    class FastLinearChain(torch.nn.Module):
        """The network ``net`` as one ``L×k²`` weight tensor and a product of matrices.

        ``forward(x)`` takes images ``(n, 1, s, s)`` like the conv model; ``matrix()`` is the
        end-to-end ``d×d`` matrix. ``strategy``: ``"tree"`` (a balanced tree of batched
        matmuls: few, large kernels; best on a GPU and for small images), ``"chain"`` (a loop
        of matrix-vector products with a hand-written backward: least arithmetic; best on a
        CPU) or ``"auto"`` (chosen by device).
        """

        # buffers (index tensors that follow the module to its device)
        widx: torch.Tensor
        pos: torch.Tensor
        plain_idx: torch.Tensor
        skip_idx: torch.Tensor
        order: torch.Tensor

        def __init__(self, net: Network, weights: Any = None, *, strategy: str = "auto") -> None:
            super().__init__()
            layout = _check_chain(net)
            self.net = net
            self.strategy = strategy
            _choose(strategy, "cpu")  # validates the name
            conv = _convs(net)[0]
            _, h, w = net.in_shape
            d = h * w
            k2 = conv.kernel * conv.kernel
            r, c, wi = conv_entries(conv, net.in_shape)
            self.d, self.k2, self.depth = d, k2, net.depth
            self.register_buffer("widx", torch.from_numpy(wi.astype(np.int64)), False)
            self.register_buffer("pos", torch.from_numpy((r * d + c).astype(np.int64)), False)
            self._np_chains: dict[int, NumpyChain] = {}
            init = torch.zeros(net.depth, k2, dtype=torch.float64)
            if weights is not None:
                init = torch.stack(
                    [torch.as_tensor(np.asarray(v), dtype=torch.float64).ravel() for v in weights]
                )
            self.weight = torch.nn.Parameter(init)
            plain = [f[1] for f in layout if f[0] == "conv"]
            skips = [f for f in layout if f[0] == "skip"]
            m = max((f[2] for f in skips), default=0)
            # skip bodies padded with identity factors to a common length m
            idx = np.full((len(skips), m), net.depth, dtype=np.int64)  # depth -> identity
            for b, (_, first, length) in enumerate(skips):
                idx[b, :length] = np.arange(first, first + length)
            order = np.zeros(len(layout), dtype=np.int64)  # factor -> row of cat(plain, skip)
            ip = isk = 0
            for i, f in enumerate(layout):
                if f[0] == "conv":
                    order[i] = ip
                    ip += 1
                else:
                    order[i] = len(plain) + isk
                    isk += 1
            self.register_buffer("plain_idx", torch.tensor(plain, dtype=torch.long), False)
            self.register_buffer("skip_idx", torch.from_numpy(idx), False)
            self.register_buffer("order", torch.from_numpy(order), False)
            self.has_skip = bool(skips)

        def dense(self, weight: torch.Tensor) -> torch.Tensor:
            """``(L, d, d)``: each layer's matrix, a gather of its weights (Appendix D)."""
            flat = weight.new_zeros(self.depth, self.d * self.d)
            flat = flat.index_copy(1, self.pos, weight[:, self.widx])
            return flat.reshape(self.depth, self.d, self.d)

        def _np_chain(self, n: int) -> NumpyChain:
            """The numpy chain (with its buffers) for batches of ``n`` images."""
            if n not in self._np_chains:
                self._np_chains[n] = NumpyChain(self.net, n)
            return self._np_chains[n]

        def matrix(self) -> torch.Tensor:
            """The end-to-end ``d×d`` matrix ``P`` (differentiable), by the tree product."""
            mats = self.dense(self.weight)
            if not self.has_skip:
                return tree_product(mats)
            eye = torch.eye(self.d, dtype=mats.dtype, device=mats.device)
            padded = torch.cat([mats, eye[None]], 0)
            body = tree_product(padded[self.skip_idx])  # (blocks, d, d)
            factors = torch.cat([mats[self.plain_idx], body + eye], 0)[self.order]
            return tree_product(factors)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            n = x.shape[0]
            flat = x.reshape(n, -1)
            how = _choose(self.strategy, str(self.weight.device))
            if how == "tree" or self.weight.device.type != "cpu":
                return (flat @ self.matrix().T).reshape(x.shape)
            y = _Chain.apply(self.weight, flat.T.contiguous(), self)
            return y.T.reshape(x.shape)

        def conv_weights(self) -> list[np.ndarray]:
            """Weights in symconv order, shape ``(1, 1, k, k)`` each (float64 numpy)."""
            k = round(self.k2**0.5)
            w = self.weight.detach().to("cpu", torch.float64).numpy()
            return [w[i].reshape(1, 1, k, k).copy() for i in range(self.depth)]

    return FastLinearChain


def __getattr__(name: str) -> Any:
    if name == "FastLinearChain":  # built lazily so importing this module needs no torch
        return _torch_module()
    raise AttributeError(name)
