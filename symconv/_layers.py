"""Descriptions of linear convolutional networks: hashable, immutable, cheap.

A network acts on images of shape ``(C, H, W)`` vectorized channels-outer, then rows, then
columns (torch's ``flatten`` of ``C×H×W``). Its layers are

* :class:`Conv2d` — 2D cross-correlation (torch's ``conv2d``), no bias;
* :class:`Upsample` — nearest-neighbour upsampling by an integer factor (Algorithm 2);
* :class:`Residual` — a skip connection ``x + body(x)`` around a sequence of layers.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._errors import SymconvError, check_nonneg_int, check_positive_int

__all__ = ["Conv2d", "Layer", "Network", "Residual", "Upsample", "conv_stack"]

Shape = tuple[int, int, int]


@dataclass(frozen=True)
class Conv2d:
    """``out[o, i, j] = Σ_{c,p,q} w[o, c, p, q] · x[c, i·t − pad + p·dil, j·t − pad + q·dil]``.

    ``padding=None`` means "same" padding ``dil·(k − 1)/2`` (odd kernels only): ``(k − 1)/2``
    as in the paper.
    """

    in_channels: int = 1
    out_channels: int = 1
    kernel: int = 3
    stride: int = 1
    padding: int | None = None
    dilation: int = 1

    def __post_init__(self) -> None:
        check_positive_int("in_channels", self.in_channels)
        check_positive_int("out_channels", self.out_channels)
        check_positive_int("kernel", self.kernel)
        check_positive_int("stride", self.stride)
        check_positive_int("dilation", self.dilation)
        if self.padding is None:
            if self.kernel % 2 == 0:
                raise SymconvError(
                    "kernel", self.kernel, "'same' padding (k-1)/2 needs an odd kernel size"
                )
        else:
            check_nonneg_int("padding", self.padding)

    @property
    def pad(self) -> int:
        return self.dilation * (self.kernel - 1) // 2 if self.padding is None else self.padding

    def out_len(self, n: int) -> int:
        span = self.dilation * (self.kernel - 1) + 1
        m = (n + 2 * self.pad - span) // self.stride + 1
        if m < 1:
            raise SymconvError("size", n, f"too small for kernel {self.kernel} with this padding")
        return m

    def out_shape(self, shape: Shape) -> Shape:
        c, h, w = shape
        if c != self.in_channels:
            raise SymconvError("in_channels", self.in_channels, f"input has {c} channels")
        return (self.out_channels, self.out_len(h), self.out_len(w))

    @property
    def n_params(self) -> int:
        return self.out_channels * self.in_channels * self.kernel * self.kernel


@dataclass(frozen=True)
class Upsample:
    """Nearest-neighbour upsampling: ``out[c, i, j] = x[c, ⌊i/s⌋, ⌊j/s⌋]`` (Algorithm 2)."""

    scale: int = 2

    def __post_init__(self) -> None:
        check_positive_int("scale", self.scale)

    def out_shape(self, shape: Shape) -> Shape:
        c, h, w = shape
        return (c, h * self.scale, w * self.scale)

    n_params = 0


@dataclass(frozen=True)
class Residual:
    """A skip connection: ``y = x + body(x)``; ``body`` must keep the shape."""

    body: tuple[Layer, ...]

    def out_shape(self, shape: Shape) -> Shape:
        s = shape
        for layer in self.body:
            s = layer.out_shape(s)
        if s != shape:
            raise SymconvError("Residual.body", s, f"must keep the input shape {shape}")
        return shape

    @property
    def n_params(self) -> int:
        return sum(layer.n_params for layer in self.body)


Layer = Conv2d | Upsample | Residual


@dataclass(frozen=True)
class Network:
    """A sequence of linear layers applied to inputs of shape ``in_shape = (C, H, W)``."""

    in_shape: Shape
    layers: tuple[Layer, ...]

    def __post_init__(self) -> None:
        c, h, w = self.in_shape
        check_positive_int("channels", c)
        check_positive_int("height", h)
        check_positive_int("width", w)
        self.shapes  # noqa: B018  (validates the chain of shapes)

    @property
    def shapes(self) -> list[Shape]:
        """The shape before the first layer and after each layer."""
        out = [self.in_shape]
        for layer in self.layers:
            out.append(layer.out_shape(out[-1]))
        return out

    @property
    def out_shape(self) -> Shape:
        return self.shapes[-1]

    @property
    def in_dim(self) -> int:
        c, h, w = self.in_shape
        return c * h * w

    @property
    def out_dim(self) -> int:
        c, h, w = self.out_shape
        return c * h * w

    @property
    def n_params(self) -> int:
        """Number of weights (no biases), as the paper's tables count them."""
        return sum(layer.n_params for layer in self.layers)

    @property
    def depth(self) -> int:
        """Number of convolution layers, counting those inside skip connections."""

        def count(layers: tuple[Layer, ...]) -> int:
            n = 0
            for layer in layers:
                if isinstance(layer, Conv2d):
                    n += 1
                elif isinstance(layer, Residual):
                    n += count(layer.body)
            return n

        return count(self.layers)


def conv_stack(
    size: int,
    depth: int,
    *,
    kernel: int = 3,
    filters: int = 1,
    channels: int = 1,
    skip_every: int = 0,
) -> Network:
    """The paper's linear convolutional autoencoder: ``depth`` conv layers, kernel ``k``,
    stride 1, padding (k−1)/2, ``channels → F → … → F → channels`` filters.

    ``skip_every = m > 0`` wraps each run of ``m`` consecutive layers in a skip connection
    (Table 2 uses m = 10 for nets over 100 layers). ``depth = 0`` is the identity network.
    """
    check_positive_int("size", size)
    check_nonneg_int("depth", depth)
    check_positive_int("filters", filters)
    check_nonneg_int("skip_every", skip_every)
    widths = [channels] + [filters] * (depth - 1) + [channels] if depth else [channels]
    convs = [Conv2d(widths[i], widths[i + 1], kernel) for i in range(depth)]
    if skip_every:
        layers: list[Layer] = []
        for start in range(0, depth, skip_every):
            block = tuple(convs[start : start + skip_every])
            ok = block and block[0].in_channels == block[-1].out_channels
            layers.extend([Residual(block)] if ok else block)
        return Network((channels, size, size), tuple(layers))
    return Network((channels, size, size), tuple(convs))
