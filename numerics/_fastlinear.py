"""A fast, exact form of deep single-filter linear conv nets (Table 2's networks).

A single-filter conv layer with kernel ``k`` and 'same' padding on an ``s×s`` image is a
``d×d`` matrix (``d = s²``) whose entries are its ``k²`` weights or zero (Appendix D).
symconv's :func:`symconv.conv_entries` gives the (row, column, weight) table, so all ``L``
layer matrices are one scatter of the ``L×k²`` weights. A skip connection every ``m`` layers
makes the factor ``I + M_{j+m−1}…M_j``, and the network is the product of its factors.

Three forms, one function:

* :class:`ChainTrainer` (CPU, numpy only; Table 2 trains with it): the forward chain of
  ``d×d`` by ``d×n`` products, the loss, the backward chain, the weight gradients (``k²``
  shifted multiply-sums over all layers at once) and torch's Adam/SGD update, all on
  preallocated numpy buffers (:class:`NumpyChain`). A step is a few hundred small BLAS
  calls and nothing else: no autograd graph, no per-layer module dispatch.
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
from typing import Any

import numpy as np

from symconv import Conv2d, Network, Residual, conv_entries

__all__ = [
    "ChainTrainer",
    "FastLinearChain",  # noqa: F822 (built lazily: needs torch)
    "NumpyChain",
    "fast_supported",
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


def tree_product(mats):  # type: ignore[no-untyped-def]
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


class NumpyChain:
    """A deep single-filter linear conv net as ``L`` dense ``d×d`` layer matrices (numpy).

    Layer ``l``'s matrix holds its ``k²`` weights at the entries symconv's
    :func:`symconv.conv_entries` lists (Appendix D), written into one preallocated
    ``(L, d, d)`` array by a single scatter per step; the transposes are views. The forward
    pass is a loop of matrix-matrix products ``A[l+1] = M_l A[l]`` on images stored as
    columns (``(d, n)``), each layer's input kept in one ``(L+1, d, n)`` buffer; a skip
    block adds its input to its body's output. The backward pass runs the transposed chain
    into an ``(L, d, n)`` buffer of output gradients ``G[l]`` (the first layer's input
    gradient is not needed and not formed). The weight gradient is

        ``∂L/∂w_l[k] = Σ_(n,i,j) G_l[n, i, j] · A_l[n, i + δ_k]``

    for a stride-1 'same' convolution (``δ_k`` the pixel offset of weight ``k``): ``k²``
    multiply-sums over all layers at once on zero-padded images ("shift"); otherwise, and
    where it is cheaper for small nets, one gather of the ``L×E`` matrix entries
    ``Σ_n G_l[r_e, n]·A_l[c_e, n]`` summed per weight by a 0/1 matmul ("gather").
    """

    def __init__(self, net: Network, n: int, *, grad_method: str = "auto") -> None:
        layout = _layout(net)
        if layout is None or net.depth == 0:
            raise ValueError(
                "net: the fast path needs a chain of single-filter same-shape convolutions "
                f"(got {net!r:.120})"
            )
        if grad_method not in ("auto", "shift", "gather"):
            raise ValueError(f"grad_method: must be auto, shift or gather (got {grad_method!r})")
        conv = _convs(net)[0]
        _, h, w = net.in_shape
        L, d, k2 = net.depth, h * w, conv.kernel * conv.kernel
        r, c, wi = conv_entries(conv, net.in_shape)
        self.net, self.layout = net, layout
        self.depth, self.d, self.k2, self.n, self.shape = L, d, k2, n, (h, w)
        self.pos = (r * d + c).astype(np.intp)
        self.widx = wi.astype(np.intp)
        self.rows, self.cols = r.astype(np.intp), c.astype(np.intp)
        e = r.size
        self.select = np.zeros((e, k2))
        self.select[np.arange(e), wi] = 1.0
        shifts = _shift_table(r, c, wi, (h, w), k2)
        if grad_method == "auto":
            # measured (benchmarks/bench_table2.py): the gather's (L, E, n) temporaries win
            # while they are small; beyond ~2e4 values the k² shifted sums are cheaper
            grad_method = "shift" if shifts is not None and L * e * n > 20_000 else "gather"
        if grad_method == "shift" and shifts is None:
            raise ValueError("grad_method: 'shift' needs a stride-1 'same' convolution")
        self.grad_method = grad_method

        self.mats = np.zeros((L, d, d))
        self._mflat = self.mats.reshape(L, d * d)
        self.acts = np.zeros((L + 1, d, n))  # acts[l]: layer l's input; acts[L]: the output
        self.grads = np.zeros((L, d, n))  # grads[l]: the loss gradient at layer l's output
        self.gw = np.zeros((L, k2))
        self._tmp = np.zeros((d, n))
        if grad_method == "gather":
            self._ge = np.zeros((L, e, n))
            self._ae = np.zeros((L, e, n))
            self._pe = np.zeros((L, e))
        else:
            pad = int(np.abs(shifts).max())
            self._pad = pad
            self._apad = np.zeros((L, h + 2 * pad, w + 2 * pad, n))
            self._inner = self._apad[:, pad : pad + h, pad : pad + w, :]
            self._shifted = [
                self._apad[:, pad + di : pad + di + h, pad + dj : pad + dj + w, :]
                for di, dj in shifts
            ]
            self._g4 = self.grads.reshape(L, h, w, n)
            self._a4 = self.acts[:L].reshape(L, h, w, n)
            self._gwt = np.zeros((k2, L))
        self._program()

    def _program(self) -> None:
        """Precompute the forward and backward passes as lists of ``(f, a, b, out)`` calls
        ``f(a, b, out=out)`` on views of the buffers: the per-step loop is nothing else."""
        dot, add = np.dot, np.add
        m, mt = list(self.mats), [x.T for x in self.mats]
        a, g, tmp = list(self.acts), list(self.grads), self._tmp
        fwd: list[tuple[Any, np.ndarray, np.ndarray, np.ndarray]] = []
        bwd: list[tuple[Any, np.ndarray, np.ndarray, np.ndarray]] = []
        for kind, first, length in self.layout:
            last = first + length - 1
            if kind == "conv":
                fwd.append((dot, m[first], a[first], a[first + 1]))
            else:
                for i in range(first, last):
                    fwd.append((dot, m[i], a[i], a[i + 1]))
                fwd.append((dot, m[last], a[last], tmp))
                fwd.append((add, tmp, a[first], a[last + 1]))
        for kind, first, length in reversed(self.layout):
            last = first + length - 1
            if kind == "conv":
                if first > 0:
                    bwd.append((dot, mt[first], g[first], g[first - 1]))
            else:
                for i in range(last, first, -1):
                    bwd.append((dot, mt[i], g[i], g[i - 1]))
                if first > 0:
                    bwd.append((dot, mt[first], g[first], tmp))
                    bwd.append((add, tmp, g[last], g[first - 1]))
        self._fwd, self._bwd = fwd, bwd

    def set_weights(self, weight: np.ndarray) -> None:
        """Write the ``(L, k²)`` weights into the layer matrices (one scatter)."""
        self._mflat[:, self.pos] = weight[:, self.widx]

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The net's output ``(d, n)`` for images ``x`` as columns ``(d, n)`` (a view of
        the activation buffer, overwritten by the next call)."""
        np.copyto(self.acts[0], x)
        for f, a, b, out in self._fwd:
            f(a, b, out=out)
        return self.acts[-1]

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """``(L, k²)`` weight gradients for the output gradient ``grad_out`` (``(d, n)``),
        after :meth:`forward` (a view of a buffer, overwritten by the next call)."""
        np.copyto(self.grads[-1], grad_out)
        return self.backward_from_buffer()

    def backward_from_buffer(self) -> np.ndarray:
        """:meth:`backward` with the output gradient already in ``grads[-1]``."""
        for f, a, b, out in self._bwd:
            f(a, b, out=out)
        if self.grad_method == "gather":
            np.take(self.grads, self.rows, axis=1, out=self._ge)
            np.take(self.acts[: self.depth], self.cols, axis=1, out=self._ae)
            np.einsum("len,len->le", self._ge, self._ae, out=self._pe)
            np.dot(self._pe, self.select, out=self.gw)
            return self.gw
        np.copyto(self._inner, self._a4)
        ein, g4, gwt = np.einsum, self._g4, self._gwt
        for k, view in enumerate(self._shifted):
            ein("lijn,lijn->l", g4, view, out=gwt[k])
        np.copyto(self.gw, gwt.T)
        return self.gw

    def input_grad(self) -> np.ndarray:
        """The loss gradient at the net's input ``(d, n)``, after :meth:`backward`."""
        kind, _, length = self.layout[0]
        g = np.dot(self.mats[0].T, self.grads[0])
        if kind == "skip":
            g += self.grads[length - 1]
        return g


class ChainTrainer:
    """Training of a deep single-filter linear conv net on the CPU in numpy alone.

    One step: scatter the ``L×k²`` weights into the layer matrices, the forward chain, the
    loss ``mean((y − x)²)`` over pixels and images (torch's ``((y−x)**2).mean()``), its
    gradient ``2(y − x)/N``, the backward chain and the weight gradients
    (:class:`NumpyChain`), then the update on the stacked weights with torch's formulas:

    * ``"sgd"``: ``w ← w − lr·g`` (``torch.optim.SGD``, no momentum);
    * ``"adam"``: ``torch.optim.Adam`` with β = (0.9, 0.999), eps = 1e-8, no weight decay:
      ``m ← m + (1−β₁)(g − m)``, ``v ← β₂v + (1−β₂)g²``,
      ``w ← w − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + eps)``.

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
        if optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer: must be adam or sgd (got {optimizer!r})")
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
        self._resid = self.chain.grads[-1]  # y − x lives where the backward pass starts
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
        w, t = self.weight, self._t
        self.steps += 1
        if self.optimizer == "sgd":
            np.multiply(g, -self.lr, out=t)
            w += t
            return
        b1, b2 = self.betas
        m, v = self._m, self._v
        np.subtract(g, m, out=t)  # torch's lerp: m + (1 − β₁)(g − m)
        t *= 1 - b1
        m += t
        v *= b2
        np.multiply(g, g, out=t)
        t *= 1 - b2
        v += t
        step_size = self.lr / (1 - b1**self.steps)
        np.sqrt(v, out=t)
        t /= (1 - b2**self.steps) ** 0.5
        t += self.eps
        np.divide(m, t, out=t)
        t *= -step_size
        w += t

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


def _choose(strategy: str, device: str) -> str:
    if strategy not in ("auto", "tree", "chain"):
        raise ValueError(f"strategy: must be auto, tree or chain (got {strategy!r})")
    if strategy != "auto":
        return strategy
    # measured (benchmarks/bench_table2.py): on a CPU the numpy chain of matrix-vector
    # products wins at every Table 2 size; a GPU prefers the tree's few large launches.
    return "chain" if device == "cpu" else "tree"


@lru_cache(maxsize=1)
def _torch_module():  # type: ignore[no-untyped-def]
    import torch

    class _Chain(torch.autograd.Function):
        """``Y = net(X)`` by :class:`NumpyChain` (a loop of numpy matrix products on the
        CPU) with its hand-written backward; float64 inside, the caller's dtype outside.

        Forward saves the weights and the activations, since another forward may reuse the
        chain's buffers before this backward runs.
        """

        @staticmethod
        def forward(ctx, weight, x, module):  # type: ignore[no-untyped-def]
            chain = module._np_chain(x.shape[1])
            w = weight.detach().numpy().astype(np.float64)
            chain.set_weights(w)
            y = chain.forward(x.detach().numpy()).astype(np.float64, copy=True)
            ctx.module, ctx.w, ctx.acts = module, w, chain.acts.copy()
            return torch.from_numpy(y).to(x.dtype)

        @staticmethod
        def backward(ctx, grad):  # type: ignore[no-untyped-def]
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

        def __init__(self, net: Network, weights: Any = None, *, strategy: str = "auto") -> None:
            super().__init__()
            layout = _layout(net)
            if layout is None or net.depth == 0:
                raise ValueError(
                    "net: the fast path needs a chain of single-filter same-shape convolutions "
                    f"(got {net!r:.120})"
                )
            self.net = net
            self.layout = layout
            self.strategy = strategy
            _choose(strategy, "cpu")  # validates the name
            conv = _convs(net)[0]
            _, h, w = net.in_shape
            d = h * w
            k2 = conv.kernel * conv.kernel
            r, c, wi = conv_entries(conv, net.in_shape)
            self.d, self.k2, self.depth = d, k2, net.depth
            self.register_buffer("rows", torch.from_numpy(r.astype(np.int64)), False)
            self.register_buffer("cols", torch.from_numpy(c.astype(np.int64)), False)
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

        def dense(self, weight):  # type: ignore[no-untyped-def]
            """``(L, d, d)``: each layer's matrix, a gather of its weights (Appendix D)."""
            flat = weight.new_zeros(self.depth, self.d * self.d)
            flat = flat.index_copy(1, self.pos, weight[:, self.widx])
            return flat.reshape(self.depth, self.d, self.d)

        def _np_chain(self, n: int) -> NumpyChain:
            """The numpy chain (with its buffers) for batches of ``n`` images."""
            if n not in self._np_chains:
                self._np_chains[n] = NumpyChain(self.net, n)
            return self._np_chains[n]

        def layer_matrices(self):  # type: ignore[no-untyped-def]
            return self.dense(self.weight)

        def matrix(self):  # type: ignore[no-untyped-def]
            """The end-to-end ``d×d`` matrix ``P`` (differentiable), by the tree product."""
            mats = self.layer_matrices()
            d = self.d
            if not self.has_skip:
                return tree_product(mats)
            eye = torch.eye(d, dtype=mats.dtype, device=mats.device)
            padded = torch.cat([mats, eye[None]], 0)
            body = tree_product(padded[self.skip_idx])  # (blocks, d, d)
            factors = torch.cat([mats[self.plain_idx], body + eye], 0)[self.order]
            return tree_product(factors)

        def forward(self, x):  # type: ignore[no-untyped-def]
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


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    if name == "FastLinearChain":  # built lazily so importing this module needs no torch
        return _torch_module()
    raise AttributeError(name)
