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
* :class:`numerics._torchtrain.ConvMembers` (torch): any :func:`numerics._nets.build_model`
  net (Table 1, Table 2 on a GPU, Sections 4–6, the torch checks), the ``B`` members' conv
  layers as one grouped convolution (``groups = B``), updated by ``torch.optim.SGD`` /
  ``torch.optim.Adam``;
* :class:`numerics._torchtrain.ModelMembers` (torch, wide nets on a CPU): each member runs its
  own model, its own graph, and one ``torch.optim`` steps all of them (where a conv has at
  least ``WIDE_CONV`` in·out channel pairs, CPU grouped convolutions cost more than the members'
  own: Table 1's 128-filter rows). Both torch layouts give every member the bits of the
  plain per-model loop.

Optimizers: ``"sgd"`` (no momentum) and ``"adam"`` (β = (0.9, 0.999), eps = 1e-8).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from symconv import Network

from ._fastlinear import NumpyChain, _check_chain, _convs
from ._readings import LOSSES

__all__ = [
    "ChainMembers",
    "EnsembleResult",
    "Members",
    "check_loss",
    "check_optimizer",
    "fit",
    "optimizer_step",
    "stopped",
    "train_chain_ensemble",
]

Callback = Callable[[int, np.ndarray], None]


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
