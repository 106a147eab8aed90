"""A fast, exact form of deep single-filter linear conv nets (Table 2's networks).

A single-filter conv layer with kernel ``k`` and 'same' padding on an ``s×s`` image is a
``d×d`` matrix (``d = s²``) whose entries are its ``k²`` weights or zero (Appendix D).
symconv's :func:`symconv.conv_entries` gives the (row, column, weight) table, so all ``L``
layer matrices come from one matmul ``W @ G`` with ``W`` the ``L×k²`` weights and ``G`` a
fixed 0/1 ``k²×d²`` scatter matrix. A skip connection every ``m`` layers makes the factor
``I + M_{j+m−1}…M_j``. The network is then the product of its factors, which we form by a
balanced tree of batched matmuls: ``⌈log₂ L⌉`` kernel launches instead of ``L`` convolutions
(forward and backward), the part a plain per-layer loop spends in interpreter and dispatch
overhead. The network's output is ``P @ vec(x)`` for the end-to-end matrix ``P``, which is
therefore available at every step at no extra cost.

The model computes the same function as :func:`numerics._nets.build_model` on the same
:class:`symconv.Network` with the same weights (tests compare forward and gradients to
1e-12 in float64); Adam and gradient descent act elementwise, so training the stacked
``L×k²`` weight tensor follows the same trajectory as training the ``L`` conv weights.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from symconv import Conv2d, Network, Residual, conv_entries

__all__ = ["FastLinearChain", "fast_supported", "tree_product"]  # noqa: F822 (lazy, torch)


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


def _choose(strategy: str, device: str, d: int) -> str:
    if strategy not in ("auto", "tree", "chain"):
        raise ValueError(f"strategy: must be auto, tree or chain (got {strategy!r})")
    if strategy != "auto":
        return strategy
    # measured (benchmarks/bench_table2.py): on a CPU the numpy chain of matrix-vector
    # products wins at every Table 2 size; a GPU prefers the tree's few large launches.
    del d
    return "chain" if device == "cpu" else "tree"


@lru_cache(maxsize=1)
def _torch_module():  # type: ignore[no-untyped-def]
    import torch

    class _Chain(torch.autograd.Function):
        """``Y = net(X)`` as a loop of matrix-vector products (numpy, on the CPU) with a
        hand-written backward.

        Forward keeps each layer's input; backward runs the transposed chain once and forms
        every weight gradient in one batched gather: ``∂L/∂w_l[k] = Σ_(r,c)∈E_k g_l[r]·a_l[c]``
        with ``a_l`` the layer's input, ``g_l`` the gradient at its output and ``E_k`` the
        matrix entries that hold weight ``k``. numpy's call overhead per small product is
        about half of torch's, and the loop is all there is.
        """

        @staticmethod
        def forward(ctx, weight, x, chain):  # type: ignore[no-untyped-def]
            w = weight.detach().numpy()
            ms, _ = chain._np_mats(w)
            dot = np.dot
            ins: list = [None] * chain.depth
            a = x.detach().numpy()
            for kind, first, length in chain.layout:
                if kind == "conv":
                    ins[first] = a
                    a = dot(ms[first], a)
                else:
                    b = a
                    for i in range(first, first + length):
                        ins[i] = b
                        b = dot(ms[i], b)
                    a = a + b
            ctx.chain = chain
            ctx.w = w.copy()
            ctx.ins = ins
            return torch.from_numpy(np.ascontiguousarray(a))

        @staticmethod
        def backward(ctx, grad):  # type: ignore[no-untyped-def]
            chain = ctx.chain
            _, mts = chain._np_mats(ctx.w)
            dot = np.dot
            outs: list = [None] * chain.depth
            g = grad.detach().numpy()
            for kind, first, length in reversed(chain.layout):
                if kind == "conv":
                    outs[first] = g
                    g = dot(mts[first], g)
                else:
                    gb = g
                    for i in range(first + length - 1, first - 1, -1):
                        outs[i] = gb
                        gb = dot(mts[i], gb)
                    g = g + gb
            # reused buffers: fresh multi-megabyte temporaries cost page faults every step
            buf = chain._np_buffers(grad.dtype, grad.shape[1])
            np.stack(ctx.ins, out=buf["a"])  # (L, d, n)
            np.stack(outs, out=buf["g"])
            np.take(buf["g"], chain.np_rows, axis=1, out=buf["ge"])  # (L, E, n)
            np.take(buf["a"], chain.np_cols, axis=1, out=buf["ae"])
            per_entry = np.einsum("len,len->le", buf["ge"], buf["ae"], out=buf["pe"])
            # entries sorted by weight index, so each weight's sum is one contiguous run
            gw = np.zeros((chain.depth, chain.k2), dtype=per_entry.dtype)
            gw[:, chain.np_wk] = np.add.reduceat(per_entry, chain.np_starts, axis=1)
            return torch.from_numpy(gw), torch.from_numpy(np.ascontiguousarray(g)), None

    class FastLinearChain(torch.nn.Module):
        """The network ``net`` as one ``L×k²`` weight tensor and a product of matrices.

        ``forward(x)`` takes images ``(n, 1, s, s)`` like the conv model; ``matrix()`` is the
        end-to-end ``d×d`` matrix. ``strategy``: ``"tree"`` (a balanced tree of batched
        matmuls: few, large kernels; best on a GPU and for small images), ``"chain"`` (a loop
        of matrix-vector products with a hand-written backward: least arithmetic; best on a
        CPU for larger images) or ``"auto"`` (chosen by device and image size).
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
            _choose(strategy, "cpu", 1)  # validates the name
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
            # the numpy chain's tables and its layer matrices, rewritten in place each step
            srt = np.argsort(wi, kind="stable")
            self.np_rows, self.np_cols = r[srt].astype(np.int64), c[srt].astype(np.int64)
            self.np_widx = wi[srt].astype(np.int64)
            self.np_pos = self.np_rows * d + self.np_cols
            self.np_pos_t = self.np_cols * d + self.np_rows
            self.np_wk, self.np_starts = np.unique(self.np_widx, return_index=True)
            self._np_cache: dict = {}
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

        def _np_mats(self, w: np.ndarray) -> tuple[list, list]:
            """Views of the ``L`` layer matrices and their transposes for weights ``w``."""
            key = w.dtype.str
            if key not in self._np_cache:
                mats = np.zeros((self.depth, self.d, self.d), dtype=w.dtype)
                mts = np.zeros_like(mats)
                self._np_cache[key] = (mats, mts, list(mats), list(mts), None)
            mats, mts, views, views_t, last = self._np_cache[key]
            if last is None or not np.array_equal(last, w):
                vals = w[:, self.np_widx]
                mats.reshape(self.depth, -1)[:, self.np_pos] = vals
                mts.reshape(self.depth, -1)[:, self.np_pos_t] = vals
                self._np_cache[key] = (mats, mts, views, views_t, w.copy())
            return views, views_t

        def _np_buffers(self, dtype: Any, n: int) -> dict[str, np.ndarray]:
            dt = np.dtype(str(dtype).replace("torch.", ""))
            key = ("buf", dt.str, n)
            if key not in self._np_cache:
                L, d, e = self.depth, self.d, self.np_rows.size
                self._np_cache[key] = {
                    "a": np.empty((L, d, n), dt),
                    "g": np.empty((L, d, n), dt),
                    "ge": np.empty((L, e, n), dt),
                    "ae": np.empty((L, e, n), dt),
                    "pe": np.empty((L, e), dt),
                }
            return self._np_cache[key]

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
            how = _choose(self.strategy, str(self.weight.device), self.d)
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
