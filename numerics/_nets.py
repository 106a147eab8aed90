"""torch models from symconv network descriptions, with the paper's initializations.

One description (:class:`symconv.Network`) gives both the torch model that is trained and
the exact matrices it stands for, so every trained linear net can be checked against
symconv's product of layer matrices (:func:`weights_of` returns weights in symconv order).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from symconv import Conv2d, Layer, Network, Residual, Upsample

if TYPE_CHECKING:
    import torch

__all__ = ["INITS", "Init", "build_model", "init_parameters", "single_thread", "weights_of"]

#: Initializations: the paper's 'close to zero' choices (``constant``, ``uniform``,
#: ``normal``, which take a value) and the popular schemes of Section 6 (which do not).
INITS = (
    "default",
    "constant",
    "uniform",
    "normal",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
)
_VALUED = ("constant", "uniform", "normal")


@dataclass(frozen=True)
class Init:
    """An initialization rule as data: ``kind`` (one of :data:`INITS`) and, for the valued
    kinds, ``value``: every weight ``value`` (``constant``), uniform in ``±value``
    (``uniform``), normal with standard deviation ``value`` (``normal``). ``default`` is
    PyTorch's Conv2d init. ``str(init)`` is how rows record it (``"uniform:0.173205"``)."""

    kind: str = "default"
    value: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in INITS:
            raise ValueError(f"init: unknown, expected one of {INITS} (got {self.kind!r})")
        if (self.value is not None) != (self.kind in _VALUED):
            raise ValueError(
                f"init: {self.kind} takes {'a' if self.kind in _VALUED else 'no'} value"
            )

    def __str__(self) -> str:
        if self.value is None:
            return self.kind
        text = f"{self.value:.6g}"
        return f"{self.kind}:{text if float(text) == self.value else repr(self.value)}"


def build_model(
    net: Network,
    *,
    init: Init | str = "default",
    nonlinearity: str | None = None,
    negative_slope: float = 0.01,
    seed: int = 0,
    dtype: torch.dtype | None = None,
    device: str = "cpu",
) -> torch.nn.Module:
    """A torch module computing ``net`` (no biases); ``nonlinearity='leaky_relu'`` adds a
    leaky ReLU after every convolution (Section 5's nonlinear networks). ``init``: an
    :class:`Init`, or the name of a kind that takes no value."""
    import torch

    nn = torch.nn

    class Skip(torch.nn.Module):
        def __init__(self, body: torch.nn.Module) -> None:
            super().__init__()
            self.body = body

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.body(x)

    def make(layers: tuple[Layer, ...]) -> torch.nn.Sequential:
        mods: list[torch.nn.Module] = []
        for layer in layers:
            if isinstance(layer, Conv2d):
                mods.append(
                    nn.Conv2d(
                        layer.in_channels,
                        layer.out_channels,
                        layer.kernel,
                        stride=layer.stride,
                        padding=layer.pad,
                        dilation=layer.dilation,
                        bias=False,
                    )
                )
                if nonlinearity == "leaky_relu":
                    mods.append(nn.LeakyReLU(negative_slope))
                elif nonlinearity is not None:
                    raise ValueError(f"nonlinearity: unknown (got {nonlinearity!r})")
            elif isinstance(layer, Upsample):
                mods.append(nn.Upsample(scale_factor=layer.scale, mode="nearest"))
            elif isinstance(layer, Residual):
                mods.append(Skip(make(layer.body)))
        return nn.Sequential(*mods)

    torch.manual_seed(seed)
    model = make(net.layers)
    init_parameters(model, init if isinstance(init, Init) else Init(init), seed=seed)
    return model.to(device=device, dtype=dtype or torch.float32)


def init_parameters(model: torch.nn.Module, init: Init, *, seed: int = 0) -> None:
    """Set every conv weight by ``init``, reproducibly from ``seed``."""
    import torch

    nn = torch.nn
    gen = torch.Generator().manual_seed(seed)
    value = init.value or 0.0
    draw = {
        "constant": lambda w: w.fill_(value),
        "uniform": lambda w: w.uniform_(-value, value, generator=gen),
        "normal": lambda w: w.normal_(0.0, value, generator=gen),
        "xavier_uniform": lambda w: nn.init.xavier_uniform_(w, generator=gen),
        "xavier_normal": lambda w: nn.init.xavier_normal_(w, generator=gen),
        "kaiming_uniform": lambda w: nn.init.kaiming_uniform_(w, generator=gen),
        "kaiming_normal": lambda w: nn.init.kaiming_normal_(w, generator=gen),
    }
    if init.kind == "default":
        return  # torch's own (kaiming_uniform with a=sqrt(5)), seeded by build_model
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                draw[init.kind](m.weight)


def weights_of(model: torch.nn.Module) -> list[np.ndarray]:
    """Conv weights in symconv order (float64 numpy), for :func:`symconv.network_matrix`."""
    import torch

    return [
        m.weight.detach().to("cpu", torch.float64).numpy()
        for m in model.modules()
        if isinstance(m, torch.nn.Conv2d)
    ]


@contextmanager
def single_thread(when: bool = True) -> Iterator[None]:
    """Run with one torch thread when ``when`` (restored afterwards).

    The nets of these experiments are tiny on a CPU: more threads only add synchronization,
    and on a busy 2-core machine they spin against each other (100× slower measured).
    """
    if not when:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
