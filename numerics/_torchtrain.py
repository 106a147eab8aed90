"""The one trainer's torch backend (:mod:`numerics._trainer` holds the loop, the stopping
rule and the numpy backend): ``B`` torch models of one architecture trained together by
:func:`numerics._trainer.fit`, in one of two layouts that give every member the bits of
the plain per-model loop (``torch.optim`` on its own model):

* :class:`ConvMembers`: the members' conv layers as one grouped convolution
  (``groups = B``) on images whose channels are the members' channels side by side;
* :class:`ModelMembers`: each member runs its own model (its own autograd graph) and one
  ``torch.optim`` steps all of them: faster on a CPU for wide nets (Table 1's 128-filter
  rows), where CPU grouped convolutions lose to the members' own.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._trainer import Callback, EnsembleResult, check_loss, check_optimizer, fit

__all__ = [
    "CHUNK_BYTES",
    "WIDE_CONV",
    "ConvMembers",
    "ModelMembers",
    "auto_layout",
    "conv_chunk",
    "train_conv_ensemble",
]

#: On a CPU, nets with a conv of at least this many (in, out) channel pairs train as one
#: graph per member (:class:`ModelMembers`), the others as grouped convolutions
#: (:class:`ConvMembers`): measured on Table 1's rows (``bench_table1.py --layouts``: 3
#: seeds in one batch, ms per seed and step), 8 × 128 filters 3.81 vs 4.17 grouped, 5 × 128
#: 1.88 vs 2.02; 8 × 16 0.333 vs 0.322, 5 × 1 0.125 vs 0.113 (``benchmarks/README.md``).
WIDE_CONV = 64 * 64

#: On a CPU the torch backend trains a batch's members in chunks whose conv weights and
#: gradients take at most this many bytes, one chunk after another
#: (:func:`conv_chunk`): a wide net's members interleaved step by step
#: evict each other from the cache (32 MB of L3 on the 2-core EPYC measured; 8 × 128
#: filters, 14 MB a seed: 3.8 ms per seed and step interleaved, 3.3 ms one seed at a time,
#: ``benchmarks/README.md``). The numpy backend does not chunk: on the 7×7 / 350-layer row
#: (6.7 MB of matrices a seed) chunks of 2 of 8 seeds were no faster over 1500 steps.
CHUNK_BYTES = 14 * 2**20


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


class _TorchMembers:
    """What both torch layouts share: the checks, each model's conv layers (``convs``), the
    optimizer's class and rate, the step on the summed losses, and storing the weights."""

    _per: Any
    opt: Any

    def __init__(
        self, models: Sequence[Any], xs: Sequence[Any], *, optimizer: str, lr: float,
        loss: str,
    ) -> None:  # fmt: skip
        import torch

        check_optimizer(optimizer)
        check_loss(loss)
        self.torch, self.loss, self.batch, self.lr = torch, loss, len(models), float(lr)
        self.convs = _member_convs(torch, models, xs)
        self.dtype = self.convs[0][0].weight.dtype
        self.make = torch.optim.Adam if optimizer == "adam" else torch.optim.SGD

    def update(self, step: int) -> None:
        self.opt.zero_grad(set_to_none=True)
        self._per.sum().backward()  # ∂(Σ_b loss_b)/∂w_b = ∇ loss_b
        self.opt.step()

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


class ConvMembers(_TorchMembers):
    """The trainer's torch backend: ``B`` models of one architecture (convs without bias,
    leaky ReLUs, upsampling, skip blocks) whose conv layers run as one grouped convolution
    on images whose channels are the members' channels side by side; the stacked weights
    ``(B, out, in, k, k)`` per layer are trained by ``torch.optim``."""

    def __init__(
        self, models: Sequence[Any], xs: Sequence[Any], *, optimizer: str, lr: float,
        device: str, loss: str = "mean",
    ) -> None:  # fmt: skip
        super().__init__(models, xs, optimizer=optimizer, lr=lr, loss=loss)
        torch, convs, self.root = self.torch, self.convs, models[0]
        x = torch.stack([torch.as_tensor(v) for v in xs]).to(device=device, dtype=self.dtype)
        # (B, n, C, s, s) → (n, B·C, s, s): the member index is the group index
        self.x = x.transpose(0, 1).reshape(x.shape[1], -1, *x.shape[3:]).contiguous()
        params = [
            torch.stack([cs[j].weight.detach() for cs in convs]).to(device).clone()
            for j in range(len(convs[0]))
        ]
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


class ModelMembers(_TorchMembers):
    """The trainer's torch backend for wide nets: each member runs its own model (its own
    autograd graph, exactly the plain per-model loop's forward and loss) and one
    ``torch.optim`` updates the conv weights of all members still training, in place."""

    def __init__(
        self, models: Sequence[Any], xs: Sequence[Any], *, optimizer: str, lr: float,
        device: str, loss: str = "mean",
    ) -> None:  # fmt: skip
        super().__init__(models, xs, optimizer=optimizer, lr=lr, loss=loss)
        self.models = [m.to(device) for m in models]
        self.xs = [self.torch.as_tensor(v).to(device=device, dtype=self.dtype) for v in xs]
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
    convs = _member_convs(_torch(), models, xs)[0]
    if layout == "auto":
        layout = auto_layout(convs, device)
    kind = ModelMembers if layout == "models" else ConvMembers
    weights = sum(c.weight.numel() for c in convs)
    size = conv_chunk(weights, convs[0].weight.element_size(), len(models), device)
    parts = []
    for i in range(0, len(models), size):
        members = kind(models[i : i + size], xs[i : i + size], optimizer=optimizer, lr=lr,
                       device=device, loss=loss)  # fmt: skip
        res = fit(members, members.batch, target=target, cap=cap, callback=callback)
        res.weights = members.store(res.weights)
        parts.append(res)
    return EnsembleResult(
        losses=np.concatenate([r.losses for r in parts]),
        iterations=np.concatenate([r.iterations for r in parts]),
        weights=[w for r in parts for w in r.weights],
    )


def conv_chunk(weights: int, itemsize: int, batch: int, device: str) -> int:
    """Members of a torch net with ``weights`` conv weights trained together on ``device``:
    on a CPU, as many as fit their weights and gradients (``2 · weights · itemsize``
    bytes each) in :data:`CHUNK_BYTES`, the chunks one after another
    (a wide net's members interleaved step by step evict each other from the cache: 8 ×
    128 filters, 7 MB of weights, trained 1.18× slower per seed than alone); all of them
    on a GPU."""
    if str(device) != "cpu":
        return max(1, batch)
    return max(1, min(batch, CHUNK_BYTES // (2 * weights * itemsize)))


def auto_layout(convs: Sequence[Any], device: str) -> str:
    """``"models"`` (one graph per member) on a CPU when one of the conv layers ``convs``
    has at least :data:`WIDE_CONV` (input, output) channel pairs, else ``"grouped"``."""
    wide = any(int(c.in_channels) * int(c.out_channels) >= WIDE_CONV for c in convs)
    return "models" if wide and str(device) == "cpu" else "grouped"


def _torch() -> Any:
    import torch

    return torch
