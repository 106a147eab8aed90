"""The one trainer: every network of the experiments and the numeric checks trains here.

A run trains ``B`` members (the seeds of one row; ``B = 1`` for one net) of one
architecture at once, each from its own initial weights on its own images, by one loop,
:func:`fit`, on the stopping rule of the paper (Section 3.2), :func:`stopped`:

    loop: loss_b = mean((f_b(x_b) − x_b)²) over member b's pixels and images
                   (or ½ Σ (f_b(x_b) − x_b)², Eq. (1), with ``loss="half-sum"``);
          member b stops (its weights and optimizer state freeze) when loss_b < target,
          loss_b is not finite, or it has taken ``cap`` steps;
          otherwise one optimizer step on ∇ loss_b (its own mean, not an average over members).

Members stop independently; stopped members leave the batch (the arrays are compacted), so a
long-running straggler costs what one member costs. Each member follows the trajectory its
own run alone takes (tests: steps, losses and weights to 1e-10). Two backends compute the
members' losses and updates:

* :class:`ChainMembers` (numpy): single-filter chains (Table 2 on a CPU, the 2×2 check of
  Section 3.2) as ``(L, B, d, d)`` matrix stacks (:class:`numerics._fastlinear.NumpyChain`:
  the chain's forward and backward passes), updated by :func:`optimizer_step`;
* :class:`ConvMembers` (torch): any :func:`numerics._nets.build_model` net (Table 1, Table 2
  on a GPU, Sections 4–6, the torch checks), the ``B`` members' conv layers as one grouped
  convolution (``groups = B``), updated by ``torch.optim.SGD`` / ``torch.optim.Adam``;
* :class:`ModelMembers` (torch, wide nets on a CPU): each member runs its own model, its own
  graph, and one ``torch.optim`` steps all of them (where a conv has at least
  :data:`WIDE_CONV` in·out channel pairs, CPU grouped convolutions cost more than the members'
  own: Table 1's 128-filter rows). Both torch layouts give every member the bits of the
  plain per-model loop.

Optimizers: ``"sgd"`` (no momentum) and ``"adam"`` (β = (0.9, 0.999), eps = 1e-8).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from symconv import Network

from ._fastlinear import NumpyChain, _check_chain, _convs
from ._readings import LOSSES

__all__ = [
    "WIDE_CONV",
    "ChainMembers",
    "ConvMembers",
    "EnsembleResult",
    "Members",
    "ModelMembers",
    "auto_layout",
    "check_loss",
    "check_optimizer",
    "fit",
    "optimizer_step",
    "stopped",
    "train_chain_ensemble",
    "train_conv_ensemble",
]

Callback = Callable[[int, np.ndarray], None]

#: On a CPU, nets with a conv of at least this many (in, out) channel pairs train as one
#: graph per member (:class:`ModelMembers`), the others as grouped convolutions
#: (:class:`ConvMembers`): measured on Table 1's rows (5 seeds, 2 threads), per step, 8 ×
#: 128 filters 20 ms vs 25–35 ms grouped, 5 × 128 11 vs 14 ms; 8 × 16 1.7 vs 1.5 ms, and the
#: 1 → 128 → 1 net (128 pairs) 0.68 vs 0.60 ms (``benchmarks/README.md``).
WIDE_CONV = 64 * 64


class Members(Protocol):
    """What :func:`fit` trains: the members still training, in order."""

    def losses(self) -> np.ndarray: ...  # (B',) each member's loss at its current weights

    def update(self, step: int) -> None: ...  # one step on the gradients of those losses

    def weights(self, mask: np.ndarray) -> list[Any]: ...  # the selected members' weights

    def keep(self, mask: np.ndarray) -> None: ...  # go on with the selected members only


@dataclass
class EnsembleResult:
    """What a run gives back, member by member (in the order given)."""

    losses: np.ndarray  # (B,) final loss of each member (the loss at which it stopped)
    iterations: np.ndarray  # (B,) int, optimizer steps taken by each member
    weights: list[Any]  # per member: the trained weights, same layout as given


def stopped(losses: np.ndarray, steps: int, *, target: float, cap: int) -> np.ndarray:
    """The stopping rule (Section 3.2: "until the loss is below 1e-6"), per member: the loss
    is below ``target``, or not finite (a run that diverged), or ``cap`` steps were taken."""
    return (losses < target) | ~np.isfinite(losses) | (steps >= cap)


def fit(
    members: Members, batch: int, *, target: float, cap: int, callback: Callback | None = None
) -> EnsembleResult:
    """Train ``batch`` members until each is :func:`stopped` (the loss is read before each
    step); ``callback(step, losses)`` every 100 steps with the ``(B,)`` current (or final)
    losses. Returns each member's final loss, steps taken and trained weights."""
    losses = np.full(batch, np.nan)
    iters = np.zeros(batch, dtype=np.int64)
    final: list[Any] = [None] * batch
    live = np.arange(batch)
    it = 0
    with np.errstate(over="ignore", invalid="ignore"):
        while True:
            current = members.losses()
            losses[live] = current
            stop = stopped(current, it, target=target, cap=cap)
            if stop.any():
                iters[live[stop]] = it
                for b, w in zip(live[stop], members.weights(stop), strict=True):
                    final[b] = w
                if stop.all():
                    break
                members.keep(~stop)
                live = live[~stop]
                continue  # the smaller batch recomputes its losses from the same weights
            it += 1
            members.update(it)
            if callback is not None and it % 100 == 0:
                callback(it, losses.copy())
    return EnsembleResult(losses=losses, iterations=iters, weights=final)


def _member_images(x: Any, batch: int, d: int) -> np.ndarray:
    """``(B, n, s, s)`` or ``(B, n, 1, s, s)`` images as columns ``(B, d, n)``."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim not in (4, 5) or x.shape[0] != batch or math.prod(x.shape[2:]) != d:
        raise ValueError(
            f"x: expected (B, n, s, s) or (B, n, 1, s, s) with B = {batch} and s² = {d} "
            f"(got shape {x.shape})"
        )
    return np.ascontiguousarray(x.reshape(batch, x.shape[1], d).transpose(0, 2, 1))


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


def check_loss(loss: str) -> None:
    """Refuse a loss normalization other than :data:`LOSSES` (ValueError)."""
    if loss not in LOSSES:
        raise ValueError(f"loss: expected one of {', '.join(LOSSES)} (got {loss!r})")


def check_optimizer(optimizer: str) -> None:
    """A ``ValueError`` naming ``optimizer`` unless it is ``"adam"`` or ``"sgd"``."""
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer: must be adam or sgd (got {optimizer!r})")


class ChainMembers:
    """The trainer's numpy backend: ``B`` members of the single-filter chain ``net``, each
    with its weights ``(L, k²)``, its images as columns ``(d, n)`` and its Adam moments,
    trained by :class:`NumpyChain` and :func:`optimizer_step` (see
    :func:`numerics._trainer.fit` for the loop). Arrays are ``(L, B', k²)`` for the
    ``B'`` members still training."""

    def __init__(
        self, net: Network, weights: np.ndarray, cols: np.ndarray, *, optimizer: str, lr: float,
        loss: str = "mean",
    ) -> None:  # fmt: skip
        check_optimizer(optimizer)
        check_loss(loss)
        self.net, self.optimizer, self.lr, self.loss = net, optimizer, float(lr), loss
        w = np.asarray(weights, dtype=np.float64).transpose(1, 0, 2).copy()  # never the caller's
        self._build(np.ascontiguousarray(cols), w, np.zeros_like(w), np.zeros_like(w))

    def _build(self, x: np.ndarray, w: np.ndarray, m: np.ndarray, v: np.ndarray) -> None:
        self.chain = NumpyChain(self.net, x.shape[-1], batch=x.shape[0])
        self.x, self.w, self.m, self.v, self.t = x, w, m, v, np.zeros_like(w)
        self._resid = self.chain.grads[-1]  # y − x lives where the backward pass starts
        self._flat = self._resid.reshape(x.shape[0], -1)
        self._scale = 2.0 / self._flat.shape[1] if self.loss == "mean" else 1.0

    def losses(self) -> np.ndarray:
        """``mean((y_b − x_b)²)`` over each member's pixels and images (torch's
        ``((y − x)**2).mean()``), or ``½ Σ (y_b − x_b)²`` for ``loss="half-sum"``, keeping
        what :meth:`update` needs."""
        self.chain.set_weights(self.w)
        np.subtract(self.chain.forward(self.x), self.x, out=self._resid)
        r = self._flat
        sq = np.einsum("bi,bi->b", r, r)
        return sq / r.shape[1] if self.loss == "mean" else 0.5 * sq

    def update(self, step: int) -> None:
        """One optimizer step of every member on the gradient of its loss: ``2(y − x)/N``
        (mean) or ``y − x`` (half-sum), taken back through the chain."""
        np.multiply(self._resid, self._scale, out=self._resid)
        g = self.chain.backward()
        optimizer_step(self.optimizer, g, self.w, self.m, self.v, self.t, lr=self.lr, step=step)

    def weights(self, mask: np.ndarray) -> list[np.ndarray]:
        """The ``(L, k²)`` weights of the members ``mask`` selects."""
        return list(self.w[:, mask].transpose(1, 0, 2).copy())

    def keep(self, mask: np.ndarray) -> None:
        """Go on with the members ``mask`` selects only (the arrays are compacted)."""
        part = [np.ascontiguousarray(a[:, mask]) for a in (self.w, self.m, self.v)]
        self._build(np.ascontiguousarray(self.x[mask]), *part)


def train_chain_ensemble(
    net: Network, weights: Any, x: Any, *, optimizer: str, lr: float, target: float, cap: int,
    callback: Callback | None = None, loss: str = "mean",
) -> EnsembleResult:  # fmt: skip
    """Train ``B`` members of the single-filter chain ``net`` together (numpy backend).

    ``weights``: ``(B, L, k²)`` (member b's stacked filters); ``x``: ``(B, n, s, s)`` or
    ``(B, n, 1, s, s)``, member b's training images. Returns the final losses, steps
    taken and ``(L, k²)`` trained weights per member."""
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
    cols = _member_images(x, w0.shape[0], net.in_shape[1] * net.in_shape[2])
    members = ChainMembers(net, w0, cols, optimizer=optimizer, lr=lr, loss=loss)
    return fit(members, w0.shape[0], target=target, cap=cap, callback=callback)


def _member_convs(torch: Any, models: Sequence[Any], xs: Sequence[Any]) -> list[list[Any]]:
    """Each model's conv layers, in order, after checking that there is one image tensor
    per model, that no conv has a bias and that all models have the same architecture."""
    if len(models) == 0 or len(xs) != len(models):
        raise ValueError(f"xs: expected one image tensor per model ({len(models)}) (got {len(xs)})")
    convs = [[m for m in mod.modules() if isinstance(m, torch.nn.Conv2d)] for mod in models]
    if any(c.bias is not None for c in convs[0]):
        raise ValueError("models: conv layers with a bias are not supported")
    shapes = [tuple(c.weight.shape) for c in convs[0]]
    if any([tuple(c.weight.shape) for c in cs] != shapes for cs in convs):
        raise ValueError("models: the members must have the same architecture")
    return convs


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


class ConvMembers:
    """The trainer's torch backend: ``B`` models of one architecture (convs without bias,
    leaky ReLUs, upsampling, skip blocks) whose conv layers run as one grouped convolution
    on images whose channels are the members' channels side by side; the stacked weights
    ``(B, out, in, k, k)`` per layer are trained by ``torch.optim``."""

    def __init__(
        self, models: Sequence[Any], xs: Sequence[Any], *, optimizer: str, lr: float,
        device: str, loss: str = "mean",
    ) -> None:  # fmt: skip
        import torch

        check_optimizer(optimizer)
        check_loss(loss)
        self.loss = loss
        self.torch, self.root, self.batch = torch, models[0], len(models)
        self.convs = convs = _member_convs(torch, models, xs)
        shapes = [tuple(c.weight.shape) for c in convs[0]]
        dtype = convs[0][0].weight.dtype
        x = torch.stack([torch.as_tensor(v) for v in xs]).to(device=device, dtype=dtype)
        # (B, n, C, s, s) → (n, B·C, s, s): the member index is the group index
        self.x = x.transpose(0, 1).reshape(x.shape[1], -1, *x.shape[3:]).contiguous()
        params = [
            torch.stack([cs[j].weight.detach() for cs in convs]).to(device).clone()
            for j in range(len(shapes))
        ]
        self.make = torch.optim.Adam if optimizer == "adam" else torch.optim.SGD
        self.lr = float(lr)
        self._start([p.requires_grad_(True) for p in params], {})

    def _start(self, params: list[Any], state: dict[int, dict[str, Any]]) -> None:
        self.params = params
        self.opt = self.make(params, lr=self.lr)
        for j, s in state.items():
            self.opt.state[params[j]] = s

    def losses(self) -> np.ndarray:
        nb = self.params[0].shape[0]
        y = _grouped_forward(self.torch, self.root, self.params, itertools.count(), self.x, nb)
        # (n, B·rest) → (B, n, rest), contiguous: each member's entries in its own model's
        # order, so its loss is reduced exactly as a model trained alone reduces it, whatever
        # the other members (a seed's loss does not depend on the seeds batched with it)
        sq = ((y - self.x).reshape(self.x.shape[0], nb, -1).transpose(0, 1).contiguous()) ** 2
        # each member's own loss: its mean, or Eq. (1)'s half sum
        self._per = sq.mean(dim=(1, 2)) if self.loss == "mean" else 0.5 * sq.sum(dim=(1, 2))
        return self._per.detach().cpu().numpy().astype(np.float64)

    def update(self, step: int) -> None:
        self.opt.zero_grad(set_to_none=True)
        self._per.sum().backward()  # ∂(Σ_b loss_b)/∂w_b = ∇ loss_b
        self.opt.step()

    def weights(self, mask: np.ndarray) -> list[list[Any]]:
        pos = self.torch.as_tensor(np.flatnonzero(mask), device=self.x.device)
        return [
            list(ws) for ws in zip(*(p.detach()[pos].clone() for p in self.params), strict=True)
        ]

    def keep(self, mask: np.ndarray) -> None:
        torch = self.torch
        pos = torch.as_tensor(np.flatnonzero(mask), device=self.x.device)
        nb, n = mask.size, self.x.shape[0]
        self.x = self.x.reshape(n, nb, -1)[:, pos].reshape(n, -1, *self.x.shape[2:])
        params = [p.detach()[pos].clone().requires_grad_(True) for p in self.params]
        state = {  # the optimizer's per-weight state follows its members (Adam's moments)
            j: {k: v[pos].clone() if v.dim() > 0 else v.clone() for k, v in s.items()}
            for j, p in enumerate(self.params)
            if (s := self.opt.state.get(p))
        }
        self._start(params, state)

    def store(self, weights: list[list[Any]]) -> list[list[np.ndarray]]:
        """Write the trained ``weights`` (per member, per layer) into the models; return them
        as float64 numpy arrays in symconv order."""
        out = []
        with self.torch.no_grad():
            for cs, ws in zip(self.convs, weights, strict=True):
                for c, w in zip(cs, ws, strict=True):
                    c.weight.copy_(w.to(c.weight.device))
                out.append([w.detach().to("cpu", self.torch.float64).numpy() for w in ws])
        return out


class ModelMembers(ConvMembers):
    """The trainer's torch backend for wide nets: each member runs its own model (its own
    autograd graph, exactly the plain per-model loop's forward and loss) and one
    ``torch.optim`` updates the conv weights of all members still training, in place."""

    def __init__(
        self, models: Sequence[Any], xs: Sequence[Any], *, optimizer: str, lr: float,
        device: str, loss: str = "mean",
    ) -> None:  # fmt: skip
        import torch

        check_optimizer(optimizer)
        check_loss(loss)
        self.torch, self.loss, self.batch, self.lr = torch, loss, len(models), float(lr)
        self.convs = _member_convs(torch, models, xs)
        self.models = [m.to(device) for m in models]
        dtype = self.convs[0][0].weight.dtype
        self.xs = [torch.as_tensor(v).to(device=device, dtype=dtype) for v in xs]
        self.make = torch.optim.Adam if optimizer == "adam" else torch.optim.SGD
        self.live = list(range(self.batch))
        self._start_live({})

    def _start_live(self, state: dict[Any, dict[str, Any]]) -> None:
        params = [c.weight.requires_grad_(True) for b in self.live for c in self.convs[b]]
        self.opt = self.make(params, lr=self.lr)
        for p in params:  # the optimizer's per-weight state follows its members
            if p in state:
                self.opt.state[p] = state[p]

    def losses(self) -> np.ndarray:
        sq = [(self.models[b](self.xs[b]) - self.xs[b]) ** 2 for b in self.live]
        per = [v.mean() if self.loss == "mean" else 0.5 * v.sum() for v in sq]
        self._per = self.torch.stack(per)
        return self._per.detach().cpu().numpy().astype(np.float64)

    def weights(self, mask: np.ndarray) -> list[list[Any]]:
        return [
            [c.weight.detach().clone() for c in self.convs[b]]
            for b, k in zip(self.live, mask, strict=True)
            if k
        ]

    def keep(self, mask: np.ndarray) -> None:
        for b, k in zip(self.live, mask, strict=True):
            if not k:  # a stopped member's weights stay as they are
                for c in self.convs[b]:
                    c.weight.grad = None
        self.live = [b for b, k in zip(self.live, mask, strict=True) if k]
        self._start_live(dict(self.opt.state))


def train_conv_ensemble(
    models: Sequence[Any], xs: Sequence[Any], *, optimizer: str, lr: float, target: float,
    cap: int, device: str = "cpu", callback: Callback | None = None, loss: str = "mean",
    layout: str = "auto",
) -> EnsembleResult:  # fmt: skip
    """Train ``B`` torch models of identical architecture together (torch backend).

    ``models``: modules built by :func:`numerics._nets.build_model` (or ``nn.Sequential``
    stacks of bias-free convs); ``xs``: member b's images ``(n, C, s, s)``, the same shape
    for all. The models' conv weights are updated in place; ``weights[b]`` is member b's
    list of conv weights (numpy, float64, symconv order). ``layout``: ``"grouped"``
    (:class:`ConvMembers`), ``"models"`` (:class:`ModelMembers`) or ``"auto"``: models on
    a CPU when a conv has at least :data:`WIDE_CONV` channel pairs, else grouped. Every
    layout gives each member the same bits."""
    if layout not in ("auto", "grouped", "models"):
        raise ValueError(f"layout: expected auto, grouped or models (got {layout!r})")
    if layout == "auto":
        layout = auto_layout(_member_convs(_torch(), models, xs)[0], device)
    kind = ModelMembers if layout == "models" else ConvMembers
    members = kind(models, xs, optimizer=optimizer, lr=lr, device=device, loss=loss)
    res = fit(members, members.batch, target=target, cap=cap, callback=callback)
    res.weights = members.store(res.weights)
    return res


def auto_layout(convs: Sequence[Any], device: str) -> str:
    """``"models"`` (one graph per member) on a CPU when one of the conv layers ``convs``
    has at least :data:`WIDE_CONV` (input, output) channel pairs, else ``"grouped"``."""
    wide = any(int(c.in_channels) * int(c.out_channels) >= WIDE_CONV for c in convs)
    return "models" if wide and str(device) == "cpu" else "grouped"


def _torch() -> Any:
    import torch

    return torch
