"""Training several seeds of one row at once: the same program with a leading batch dimension.

An ensemble of ``B`` members (seeds) of one Table 1 or Table 2 row trains ``B`` nets of the
same architecture, each from its own initial weights on its own training images. Trained one
after the other, a step of a small net is dominated by per-call overhead (a Python loop of
tiny matrix products or conv calls); trained together, each of those calls does ``B``
members' work:

* :func:`train_chain_ensemble` (Table 2 on a CPU, numpy only): the layer matrices of all
  members are one ``(L, B, d, d)`` array; each forward / backward product is one
  ``np.matmul`` of a ``(B, d, d)`` stack by a ``(B, d, n)`` stack; the weight gradients and
  the optimizer update are those of :class:`numerics._fastlinear.NumpyChain` and
  :class:`numerics._fastlinear.ChainTrainer` on ``L·B`` layers.
* :func:`train_conv_ensemble` (Table 1, and any :func:`numerics._nets.build_model` net, in
  torch): the ``B`` members' conv layers become one grouped convolution (``groups = B``) on
  images whose channels are the members' channels side by side.

Each member follows exactly the loop of :func:`numerics.tables._train`, so its trajectory is
the one its own unbatched run takes (tests: weights and losses to 1e-10):

    loop: loss_b = mean((f_b(x_b) − x_b)²) over member b's pixels and images;
          member b stops (its weights and optimizer state freeze) when loss_b < target,
          loss_b is not finite, or it has taken ``cap`` steps;
          otherwise one optimizer step on ∇ loss_b (its own mean, not an average over members).

Members stop independently; stopped members leave the batch (the arrays are compacted), so
a long-running straggler costs what one member costs. The loop ends when all have stopped.
Optimizers: ``"sgd"`` (``torch.optim.SGD``, no momentum) and ``"adam"`` (``torch.optim.Adam``,
β = (0.9, 0.999), eps = 1e-8), with torch's formulas (see :class:`ChainTrainer`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symconv import Network, conv_entries

from ._fastlinear import _convs, _layout, _shift_table

__all__ = [
    "BatchedNumpyChain",
    "EnsembleResult",
    "train_chain_ensemble",
    "train_conv_ensemble",
]

BETAS = (0.9, 0.999)
EPS = 1e-8
Callback = Callable[[int, np.ndarray], None]


@dataclass
class EnsembleResult:
    """What an ensemble run gives back, member by member (in the order given)."""

    losses: np.ndarray  # (B,) final loss of each member (the loss at which it stopped)
    iterations: np.ndarray  # (B,) int, optimizer steps taken by each member
    weights: list  # per member: the trained weights, same layout as given


def _check_optimizer(optimizer: str) -> None:
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer: must be adam or sgd (got {optimizer!r})")


# ---------------------------------------------------------------------------------------
# Table 2: the numpy matrix chain with a batch dimension.


class BatchedNumpyChain:
    """:class:`numerics._fastlinear.NumpyChain` for ``B`` members at once.

    Buffers carry the member index second: layer matrices ``(L, B, d, d)``, layer inputs
    ``(L+1, B, d, n)``, output gradients ``(L, B, d, n)``, weights and their gradients
    ``(L, B, k²)``. A forward product is ``A[l+1] = M_l A[l]`` as one batched ``np.matmul``
    over the members; the backward chain uses the transposed stacks (views). The weight
    gradient ``∂L/∂w_(l,b)[k] = Σ G_(l,b)[i, n] · A_(l,b)[i + δ_k, n]`` treats the ``L·B``
    (layer, member) pairs as ``L·B`` layers of one chain.
    """

    def __init__(self, net: Network, batch: int, n: int, *, grad_method: str = "auto") -> None:
        layout = _layout(net)
        if layout is None or net.depth == 0:
            raise ValueError(
                "net: the fast path needs a chain of single-filter same-shape convolutions "
                f"(got {net!r:.120})"
            )
        if grad_method not in ("auto", "window", "outer", "shift", "gather"):
            raise ValueError(
                f"grad_method: must be auto, outer, shift or gather (got {grad_method!r})"
            )
        conv = _convs(net)[0]
        _, h, w = net.in_shape
        L, d, k2, B = net.depth, h * w, conv.kernel * conv.kernel, batch
        r, c, wi = conv_entries(conv, net.in_shape)
        self.layout, self.shape = layout, (h, w)
        self.depth, self.batch, self.d, self.k2, self.n = L, B, d, k2, n
        self.pos = (r * d + c).astype(np.intp)
        self.widx = wi.astype(np.intp)
        self.rows, self.cols = r.astype(np.intp), c.astype(np.intp)
        e = r.size
        self.select = np.zeros((e, k2))
        self.select[np.arange(e), wi] = 1.0
        shifts = _shift_table(r, c, wi, (h, w), k2)
        if grad_method == "auto":  # the single chain's rule, on L·B layers
            grad_method = "shift" if shifts is not None and L * B * e * n > 20_000 else "gather"
        if grad_method in ("shift", "window") and shifts is None:
            raise ValueError("grad_method: 'shift' needs a stride-1 'same' convolution")
        self.grad_method = grad_method
        LB = L * B
        self.mats = np.zeros((L, B, d, d))
        self._mflat = self.mats.reshape(LB, d * d)
        self.acts = np.zeros((L + 1, B, d, n))
        self.grads = np.zeros((L, B, d, n))
        self.gw = np.zeros((L, B, k2))
        self._gw2 = self.gw.reshape(LB, k2)
        self._tmp = np.zeros((B, d, n))
        self._g2 = self.grads.reshape(LB, d, n)
        self._a2 = self.acts[:L].reshape(LB, d, n)
        if grad_method == "window":
            pad = int(np.abs(shifts).max())
            side = 2 * pad + 1
            self._apad = np.zeros((LB, h + 2 * pad, w + 2 * pad, n))
            self._inner = self._apad[:, pad : pad + h, pad : pad + w, :]
            self._a4 = self.acts[:L].reshape(LB, h, w, n)
            # windows[l, a, b] = the layer input shifted by (a − pad, b − pad)
            self._windows = np.lib.stride_tricks.sliding_window_view(
                self._apad, (h, w), axis=(1, 2)
            ).transpose(0, 1, 2, 4, 5, 3)
            self._wbuf = np.zeros((LB, side, side, h, w, n))
            self._wflat = self._wbuf.reshape(LB, side * side, d * n)
            self._gflat = self.grads.reshape(LB, d * n)
            self._gwin = np.zeros((LB, side * side))
            self._order = ((shifts[:, 0] + pad) * side + shifts[:, 1] + pad).astype(np.intp)
        elif grad_method == "outer":
            self._gm = np.zeros((LB, d, d))
            self._gmflat = self._gm.reshape(LB, d * d)
            self._aT = self._a2.transpose(0, 2, 1)
            self._pe = np.zeros((LB, e))
        elif grad_method == "gather":
            self._ge = np.zeros((LB, e, n))
            self._ae = np.zeros((LB, e, n))
            self._pe = np.zeros((LB, e))
        else:
            pad = int(np.abs(shifts).max())
            self._apad = np.zeros((LB, h + 2 * pad, w + 2 * pad, n))
            self._inner = self._apad[:, pad : pad + h, pad : pad + w, :]
            self._shifted = [
                self._apad[:, pad + di : pad + di + h, pad + dj : pad + dj + w, :]
                for di, dj in shifts
            ]
            self._g4 = self.grads.reshape(LB, h, w, n)
            self._a4 = self.acts[:L].reshape(LB, h, w, n)
            self._gwt = np.zeros((k2, LB))
        self._diagonals = self._diagonal_views(shifts) if shifts is not None else None
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
        mm, add = np.matmul, np.add
        m, mt = list(self.mats), [x.transpose(0, 2, 1) for x in self.mats]
        a, g, tmp = list(self.acts), list(self.grads), self._tmp
        fwd: list[tuple[Any, np.ndarray, np.ndarray, np.ndarray]] = []
        bwd: list[tuple[Any, np.ndarray, np.ndarray, np.ndarray]] = []
        for kind, first, length in self.layout:
            last = first + length - 1
            if kind == "conv":
                fwd.append((mm, m[first], a[first], a[first + 1]))
            else:
                for i in range(first, last):
                    fwd.append((mm, m[i], a[i], a[i + 1]))
                fwd.append((mm, m[last], a[last], tmp))
                fwd.append((add, tmp, a[first], a[last + 1]))
        for kind, first, length in reversed(self.layout):
            last = first + length - 1
            if kind == "conv":
                if first > 0:
                    bwd.append((mm, mt[first], g[first], g[first - 1]))
            else:
                for i in range(last, first, -1):
                    bwd.append((mm, mt[i], g[i], g[i - 1]))
                if first > 0:
                    bwd.append((mm, mt[first], g[first], tmp))
                    bwd.append((add, tmp, g[last], g[first - 1]))
        self._fwd, self._bwd = fwd, bwd

    def set_weights(self, weight: np.ndarray) -> None:
        """Write the ``(L, B, k²)`` weights into the layer matrices (one scatter)."""
        w2 = weight.reshape(-1, self.k2)
        if self._diagonals is None:
            self._mflat[:, self.pos] = w2[:, self.widx]
            return
        for k, view in enumerate(self._diagonals):
            np.copyto(view, w2[:, k, None, None])

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Outputs ``(B, d, n)`` for inputs ``(B, d, n)`` (a view of a buffer)."""
        np.copyto(self.acts[0], x)
        for f, a, b, out in self._fwd:
            f(a, b, out=out)
        return self.acts[-1]

    def backward_from_buffer(self) -> np.ndarray:
        """``(L, B, k²)`` weight gradients for the output gradient already in ``grads[-1]``."""
        for f, a, b, out in self._bwd:
            f(a, b, out=out)
        if self.grad_method == "window":
            np.copyto(self._inner, self._a4)
            np.copyto(self._wbuf, self._windows)
            np.einsum("lkx,lx->lk", self._wflat, self._gflat, out=self._gwin)
            np.take(self._gwin, self._order, axis=1, out=self._gw2)
            return self.gw
        if self.grad_method == "outer":
            np.matmul(self._g2, self._aT, out=self._gm)
            np.take(self._gmflat, self.pos, axis=1, out=self._pe)
            np.dot(self._pe, self.select, out=self._gw2)
            return self.gw
        if self.grad_method == "gather":
            np.take(self._g2, self.rows, axis=1, out=self._ge)
            np.take(self._a2, self.cols, axis=1, out=self._ae)
            np.einsum("len,len->le", self._ge, self._ae, out=self._pe)
            np.dot(self._pe, self.select, out=self._gw2)
            return self.gw
        np.copyto(self._inner, self._a4)
        ein, g4, gwt = np.einsum, self._g4, self._gwt
        for k, view in enumerate(self._shifted):
            ein("lijn,lijn->l", g4, view, out=gwt[k])
        np.copyto(self._gw2, gwt.T)
        return self.gw


class _ChainGroup:
    """The members still training: their chain, images (as columns), weights and Adam state
    (all ``(L, B', k²)``), and which members they are."""

    def __init__(
        self, net: Network, idx: np.ndarray, x: np.ndarray, w: np.ndarray, m: np.ndarray,
        v: np.ndarray, grad_method: str,
    ) -> None:  # fmt: skip
        self.idx = idx
        self.chain = BatchedNumpyChain(net, idx.size, x.shape[-1], grad_method=grad_method)
        self.x, self.w, self.m, self.v = x, w, m, v
        self.t = np.zeros_like(w)
        self._resid = self.chain.grads[-1]
        self._flat = self._resid.reshape(idx.size, -1)
        self._scale = 2.0 / self._flat.shape[1]

    def losses(self) -> np.ndarray:
        self.chain.set_weights(self.w)
        y = self.chain.forward(self.x)
        np.subtract(y, self.x, out=self._resid)
        r = self._flat
        return np.einsum("bi,bi->b", r, r) / r.shape[1]

    def update(self, optimizer: str, lr: float, step: int) -> None:
        np.multiply(self._resid, self._scale, out=self._resid)
        g = self.chain.backward_from_buffer()
        w, t = self.w, self.t
        if optimizer == "sgd":
            np.multiply(g, -lr, out=t)
            w += t
            return
        b1, b2 = BETAS
        m, v = self.m, self.v
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
        t += EPS
        np.divide(m, t, out=t)
        t *= -step_size
        w += t


def _member_images(x: Any, batch: int, d: int) -> np.ndarray:
    """``(B, n, s, s)`` or ``(B, n, 1, s, s)`` images as columns ``(B, d, n)``."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim not in (4, 5) or x.shape[0] != batch or math.prod(x.shape[2:]) != d:
        raise ValueError(
            f"x: expected (B, n, s, s) or (B, n, 1, s, s) with B = {batch} and s² = {d} "
            f"(got shape {x.shape})"
        )
    return np.ascontiguousarray(x.reshape(batch, x.shape[1], d).transpose(0, 2, 1))


def train_chain_ensemble(
    net: Network,
    weights: Any,
    x: Any,
    *,
    optimizer: str,
    lr: float,
    target: float,
    cap: int,
    callback: Callback | None = None,
    grad_method: str = "auto",
) -> EnsembleResult:
    """Train ``B`` members of the single-filter chain ``net`` together (numpy, CPU).

    ``weights``: ``(B, L, k²)`` (member b's stacked filters, :class:`ChainTrainer`'s
    layout); ``x``: ``(B, n, s, s)`` or ``(B, n, 1, s, s)``, member b's training images.
    Each member runs :meth:`ChainTrainer.train`'s loop (module docstring) on its own loss;
    ``callback(step, losses)`` every 100 steps with the ``(B,)`` current (or final) losses.
    Returns the final losses, steps taken and ``(L, k²)`` trained weights per member.
    """
    _check_optimizer(optimizer)
    if _layout(net) is None or net.depth == 0:
        raise ValueError(
            "net: the fast path needs a chain of single-filter same-shape convolutions "
            f"(got {net!r:.120})"
        )
    k2 = _convs(net)[0].kernel ** 2
    w0 = np.asarray(weights, dtype=np.float64)
    if w0.ndim == 2 and w0.shape[1] == net.depth * k2:
        w0 = w0.reshape(w0.shape[0], net.depth, k2)
    if w0.ndim != 3 or w0.shape[1:] != (net.depth, k2):
        raise ValueError(
            f"weights: expected shape (B, {net.depth}, {k2}) (got {np.shape(weights)})"
        )
    B = w0.shape[0]
    d = net.in_shape[1] * net.in_shape[2]
    cols = _member_images(x, B, d)
    lr = float(lr)

    final_w = w0.copy()
    losses = np.full(B, np.nan)
    iters = np.zeros(B, dtype=np.int64)
    # internal layout (L, B, k²): member index second, like the chain's buffers
    group = _ChainGroup(
        net, np.arange(B), cols, np.ascontiguousarray(w0.transpose(1, 0, 2)),
        np.zeros((net.depth, B, k2)), np.zeros((net.depth, B, k2)), grad_method,
    )  # fmt: skip
    it = 0
    with np.errstate(over="ignore", invalid="ignore"):
        while True:
            current = group.losses()
            losses[group.idx] = current
            stop = (current < target) | ~np.isfinite(current) | (it >= cap)
            if stop.any():
                done = group.idx[stop]
                iters[done] = it
                final_w[done] = group.w[:, stop].transpose(1, 0, 2)
                keep = ~stop
                if not keep.any():
                    break
                group = _ChainGroup(
                    net, group.idx[keep], np.ascontiguousarray(group.x[keep]),
                    np.ascontiguousarray(group.w[:, keep]), np.ascontiguousarray(group.m[:, keep]),
                    np.ascontiguousarray(group.v[:, keep]), grad_method,
                )  # fmt: skip
                continue  # the smaller group recomputes its losses from the same weights
            it += 1
            group.update(optimizer, lr, it)
            if callback is not None and it % 100 == 0:
                callback(it, losses.copy())
    return EnsembleResult(losses=losses, iterations=iters, weights=list(final_w))


# ---------------------------------------------------------------------------------------
# Table 1: torch conv nets as one grouped convolution.


def _grouped_forward(torch: Any, stack: Any, ws: list, it: Any, h: Any, batch: int) -> Any:
    """``stack`` (an ``nn.Sequential`` of ``members[0]``) applied to ``h`` ``(n, B·C, s, s)``
    with the conv weights ``ws`` (each ``(B, out, in, k, k)``) taken in order from ``it``."""
    nn, F = torch.nn, torch.nn.functional
    for mod in stack:
        if isinstance(mod, nn.Conv2d):
            w = ws[next(it)]
            h = F.conv2d(
                h, w.reshape(-1, *w.shape[2:]), None, mod.stride, mod.padding, mod.dilation,
                groups=batch,
            )  # fmt: skip
        elif isinstance(mod, (nn.LeakyReLU, nn.Upsample, nn.ReLU, nn.Identity)):
            h = mod(h)
        elif isinstance(mod, nn.Sequential):
            h = _grouped_forward(torch, mod, ws, it, h, batch)
        elif hasattr(mod, "body") and isinstance(mod.body, nn.Sequential):  # a skip block
            h = h + _grouped_forward(torch, mod.body, ws, it, h, batch)
        else:
            raise ValueError(f"models: cannot batch a {type(mod).__name__} layer")
    return h


def train_conv_ensemble(
    models: Sequence[Any],
    xs: Sequence[Any],
    *,
    optimizer: str,
    lr: float,
    target: float,
    cap: int,
    device: str = "cpu",
    callback: Callback | None = None,
) -> EnsembleResult:
    """Train ``B`` torch models of identical architecture together (grouped convolutions).

    ``models``: modules built by :func:`numerics._nets.build_model` (convs without bias,
    leaky ReLUs, upsampling, skip blocks); ``xs``: member b's images ``(n, C, s, s)``, the
    same shape for all. Each member runs :func:`numerics.tables._train`'s loop on its own
    loss (module docstring). The models' conv weights are updated in place at the end;
    ``weights[b]`` is member b's list of conv weights (numpy, float64, symconv order).
    """
    import torch

    _check_optimizer(optimizer)
    B = len(models)
    if B == 0 or len(xs) != B:
        raise ValueError(f"xs: expected one image tensor per model ({B}) (got {len(xs)})")
    convs = [[m for m in mod.modules() if isinstance(m, torch.nn.Conv2d)] for mod in models]
    if any(c.bias is not None for c in convs[0]):
        raise ValueError("models: conv layers with a bias are not supported")
    shapes = [tuple(c.weight.shape) for c in convs[0]]
    if any([tuple(c.weight.shape) for c in cs] != shapes for cs in convs):
        raise ValueError("models: the members must have the same architecture")
    x = torch.stack([torch.as_tensor(v) for v in xs]).to(device)  # (B, n, C, s, s)
    dtype = convs[0][0].weight.dtype
    x = x.to(dtype)
    lr = float(lr)
    # stacked weights (B, out, in, k, k) per layer; the member index is the group index
    full = [
        torch.stack([cs[j].weight.detach() for cs in convs]).to(device).clone()
        for j in range(len(shapes))
    ]
    final = [w.clone() for w in full]
    losses = np.full(B, np.nan)
    iters = np.zeros(B, dtype=np.int64)

    def group(idx: Any, ws: list, ms: list, vs: list) -> tuple:
        xg = x[idx]  # (B', n, C, s, s) → (n, B'·C, s, s)
        xin = xg.transpose(0, 1).reshape(xg.shape[1], -1, *xg.shape[3:]).contiguous()
        params = [w[idx].clone().requires_grad_(True) for w in ws]
        return idx, xin, params, [m[idx].clone() for m in ms], [v[idx].clone() for v in vs]

    zeros = [torch.zeros_like(w) for w in full]
    idx, xin, params, ms, vs = group(torch.arange(B, device=device), full, zeros, zeros)
    root = models[0]
    it = 0
    while True:
        nb = idx.numel()
        y = _grouped_forward(torch, root, params, iter(range(len(params))), xin, nb)
        diff = (y - xin).reshape(xin.shape[0], nb, -1)
        per = (diff**2).mean(dim=(0, 2))  # each member's own mean
        current = per.detach().cpu().numpy().astype(np.float64)
        losses[idx.cpu().numpy()] = current
        stop = (current < target) | ~np.isfinite(current) | (it >= cap)
        if stop.any():
            sidx = idx.cpu().numpy()
            iters[sidx[stop]] = it
            st = torch.as_tensor(stop, device=device)
            for j, p in enumerate(params):
                final[j][idx[st]] = p.detach()[st]
            if stop.all():
                break
            keep = torch.as_tensor(~stop, device=device)
            pos = torch.nonzero(keep).flatten()
            live = [p.detach() for p in params]
            idx, xin, params, ms, vs = (
                idx[keep],
                xin.reshape(xin.shape[0], nb, -1)[:, keep].reshape(
                    xin.shape[0], -1, *xin.shape[2:]
                ),
                [p[pos].clone().requires_grad_(True) for p in live],
                [m[pos] for m in ms],
                [v[pos] for v in vs],
            )
            continue
        grads = torch.autograd.grad(per.sum(), params)  # ∂(Σ_b loss_b)/∂w_b = ∇ loss_b
        it += 1
        with torch.no_grad():
            for p, g, m, v in zip(params, grads, ms, vs, strict=True):
                if optimizer == "sgd":
                    p.add_(g, alpha=-lr)
                    continue
                b1, b2 = BETAS  # torch.optim.Adam's single-tensor update
                m.lerp_(g, 1 - b1)
                v.mul_(b2).addcmul_(g, g, value=1 - b2)
                step_size = lr / (1 - b1**it)
                denom = (v.sqrt() / ((1 - b2**it) ** 0.5)).add_(EPS)
                p.addcdiv_(m, denom, value=-step_size)
        if callback is not None and it % 100 == 0:
            callback(it, losses.copy())
    with torch.no_grad():
        for b, cs in enumerate(convs):
            for j, c in enumerate(cs):
                c.weight.copy_(final[j][b].to(c.weight.device))
    weights = [
        [final[j][b].detach().to("cpu", torch.float64).numpy().copy() for j in range(len(shapes))]
        for b in range(B)
    ]
    return EnsembleResult(losses=losses, iterations=iters, weights=weights)
