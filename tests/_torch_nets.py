"""Small torch architectures for the traced-pattern tests and benchmark, and the
Jacobian support they are checked against."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


def jacobian_support(
    model: nn.Module, shape: tuple[int, int, int], *, draws: int = 3, seed: int = 0
) -> np.ndarray:
    """The per-pixel support (channels summed) of ``∂model(x)/∂x`` at random weights and
    inputs, united over ``draws`` draws (float64, ``torch.func.jacrev``)."""
    m = model.double().eval()
    c, h, w = shape
    acc = None
    for d in range(draws):
        gen = torch.Generator().manual_seed(seed + d)
        with torch.no_grad():
            for p in m.parameters():  # scaled so that activations do not saturate
                fan_in = int(np.prod(p.shape[1:])) if p.dim() > 1 else 10
                std = 1.0 / np.sqrt(fan_in)
                p.copy_(std * torch.randn(p.shape, generator=gen, dtype=torch.float64))
        x = torch.randn((1, c, h, w), generator=gen, dtype=torch.float64)
        jac = torch.func.jacrev(m)(x)
        co, ho, wo = jac.shape[1:4]
        s = (jac.reshape(co, ho * wo, c, h * w) != 0).any(dim=0).any(dim=1).numpy()
        acc = s if acc is None else acc | s
    assert acc is not None
    return acc


class UNet(nn.Module):
    """A U-Net: per level two 3×3 convs, a 2×2 pool, then upsampling and concatenation."""

    def __init__(
        self,
        channels: int = 1,
        width: int = 4,
        depth: int = 2,
        *,
        pool: Callable[[], nn.Module] = lambda: nn.MaxPool2d(2),
        act: Callable[[], nn.Module] = lambda: nn.LeakyReLU(0.1),
        up: str = "nearest",
    ) -> None:
        super().__init__()
        self.down = nn.ModuleList()
        self.up = nn.ModuleList()
        self.pools = nn.ModuleList(pool() for _ in range(depth))
        c = channels
        widths = []
        for level in range(depth):
            w = width * 2**level
            self.down.append(nn.Sequential(nn.Conv2d(c, w, 3, padding=1), act()))
            widths.append(w)
            c = w
        self.mid = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), act())
        for w in reversed(widths):
            self.up.append(nn.Sequential(nn.Conv2d(c + w, w, 3, padding=1), act()))
            c = w
        self.out = nn.Conv2d(c, channels, 1)
        self.mode = up

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for block, pool in zip(self.down, self.pools, strict=True):
            x = block(x)
            skips.append(x)
            x = pool(x)
        x = self.mid(x)
        for block in self.up:
            s = skips.pop()
            x = F.interpolate(x, size=s.shape[-2:], mode=self.mode)
            x = block(torch.cat([x, s], dim=1))
        return self.out(x)


def paper_stack(depth: int, filters: int = 1, kernel: int = 3) -> nn.Module:
    """``symconv.conv_stack`` in torch: ``depth`` k×k 'same' convs, 1 → F → … → F → 1."""
    widths = [1] + [filters] * (depth - 1) + [1]
    return nn.Sequential(*(nn.Conv2d(widths[i], widths[i + 1], kernel, padding=kernel // 2,
                                     bias=False) for i in range(depth)))  # fmt: skip


def downsampling(depth: int, kernel: int = 3, stride: int = 2) -> nn.Module:
    """``paperdata.downsampling_net`` in torch: stride-T conv, ``depth`` convs, ×T nearest."""
    pad = kernel // 2
    layers: list[nn.Module] = [nn.Conv2d(1, 1, kernel, stride=stride, padding=pad, bias=False)]
    layers += [nn.Conv2d(1, 1, kernel, padding=pad, bias=False) for _ in range(depth)]
    layers.append(nn.Upsample(scale_factor=stride, mode="nearest"))
    return nn.Sequential(*layers)
