"""Training several seeds of one row at once: the same program with a leading batch dimension.

An ensemble of ``B`` members (seeds) of one Table 1 or Table 2 row trains ``B`` nets of the
same architecture, each from its own initial weights on its own training images. Trained one
after the other, a step of a small net is dominated by per-call overhead (a Python loop of
tiny matrix products or conv calls); trained together, each of those calls does ``B``
members' work:

* :func:`train_chain_ensemble` (Table 2 on a CPU, numpy only): the layer matrices of all
  members are one ``(L, B, d, d)`` array; each forward / backward product is one
  ``np.matmul`` of a ``(B, d, d)`` stack by a ``(B, d, n)`` stack
  (:class:`numerics._fastlinear.NumpyChain` built for ``B`` members); the weight gradients
  and the optimizer update (:func:`numerics._fastlinear.optimizer_step`) treat the ``L·B``
  (layer, member) pairs as the layers of one chain.
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

from symconv import Network

from ._fastlinear import NumpyChain, _check_chain, _convs, check_optimizer, optimizer_step

__all__ = [
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
    weights: list[Any]  # per member: the trained weights, same layout as given


# ---------------------------------------------------------------------------------------
# Table 2: the numpy matrix chain with a batch dimension.


class _ChainGroup:
    """The members still training: their chain, images (as columns), weights and Adam state
    (all ``(L, B', k²)``), and which members they are."""

    def __init__(
        self, net: Network, idx: np.ndarray, x: np.ndarray, w: np.ndarray, m: np.ndarray,
        v: np.ndarray, grad_method: str,
    ) -> None:  # fmt: skip
        self.idx = idx
        self.chain = NumpyChain(net, x.shape[-1], batch=idx.size, grad_method=grad_method)
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
        optimizer_step(
            optimizer, g, self.w, self.m, self.v, self.t, lr=lr, step=step, betas=BETAS, eps=EPS
        )


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
    check_optimizer(optimizer)
    _check_chain(net)
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

    check_optimizer(optimizer)
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
