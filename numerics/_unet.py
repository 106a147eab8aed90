"""The U-Net of Figure 1 (Ronneberger et al., 2015), as an autoencoder of 3-channel images.

The paper names the architecture and nothing else; :mod:`numerics.figure1` states every
detail as a named reading. The parts, as Ronneberger et al. describe them:

* an encoder of ``depth`` levels, each two 3×3 convolutions with a ReLU-family nonlinearity
  after each, then a 2×2 max-pool (the downsampling); the channels double per level
  (``width``, 2·``width``, …, 2^depth·``width`` at the bottleneck);
* a decoder that upsamples (a 2×2 "up-convolution" halving the channels, or nearest-
  neighbour ×2 then a 3×3 convolution), **concatenates** the encoder's output of the same
  level (the skip connection) and applies two 3×3 convolutions with the nonlinearity;
* a final 1×1 convolution to the image's channels, no output nonlinearity.

One change an autoencoder needs: the 3×3 convolutions are padded (padding 1), so the output
has the input's size (Ronneberger's are unpadded and crop the skips). Convolutions have
biases, as in Ronneberger's and every common implementation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["NONLINEARITIES", "UPSAMPLINGS", "build_unet", "init_unet"]

#: The ReLU-family nonlinearities offered (leaky slope 0.01, the toolkit's Section 5 value).
NONLINEARITIES = ("relu", "leaky_relu")
#: Decoder upsampling: Ronneberger's 2×2 transposed convolution, or nearest ×2 + 3×3 conv.
UPSAMPLINGS = ("up-conv", "nearest")


def _unet_parts(
    nonlinearity: str, upsample: str
) -> tuple[Callable[[int, int], torch.nn.Module], Callable[[int, int], torch.nn.Module]]:
    """The U-Net's two building blocks, ``block(c_in, c_out)`` (two padded 3×3 convolutions,
    each followed by the nonlinearity) and ``up(c_in, c_out)`` (the decoder's upsampling)."""
    import torch

    nn = torch.nn
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity: expected one of {NONLINEARITIES} (got {nonlinearity!r})")
    if upsample not in UPSAMPLINGS:
        raise ValueError(f"upsample: expected one of {UPSAMPLINGS} (got {upsample!r})")

    def act() -> torch.nn.Module:
        return nn.ReLU() if nonlinearity == "relu" else nn.LeakyReLU(0.01)

    def block(c_in: int, c_out: int) -> torch.nn.Module:
        return nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, padding=1),
            act(),
            nn.Conv2d(c_out, c_out, 3, padding=1),
            act(),
        )

    def up(c_in: int, c_out: int) -> torch.nn.Module:
        if upsample == "up-conv":
            return nn.ConvTranspose2d(c_in, c_out, 2, stride=2)
        return nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, padding=1)
        )

    return block, up


def build_unet(
    *,
    channels: int = 3,
    width: int = 16,
    depth: int = 4,
    nonlinearity: str = "relu",
    upsample: str = "up-conv",
) -> torch.nn.Module:
    """The U-Net described in the module docstring; inputs need sides divisible by 2^depth.

    The module has ``down`` (encoder blocks), ``pool`` (the max-pool), ``bottleneck``,
    ``up`` (upsampling layers), ``decode`` (decoder blocks, each taking the concatenation of
    the upsampled map and the skip) and ``head`` (the 1×1 convolution)."""
    import torch

    nn = torch.nn
    block, up = _unet_parts(nonlinearity, upsample)  # checks the two names first
    if depth < 1 or width < 1:
        raise ValueError(f"depth and width must be positive (got {depth}, {width})")
    ch = [width * 2**level for level in range(depth + 1)]

    class UNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.down = nn.ModuleList(
                block(channels if lv == 0 else ch[lv - 1], ch[lv]) for lv in range(depth)
            )
            self.pool = nn.MaxPool2d(2)
            self.bottleneck = block(ch[depth - 1], ch[depth])
            levels = list(reversed(range(depth)))
            self.up = nn.ModuleList(up(ch[lv + 1], ch[lv]) for lv in levels)
            self.decode = nn.ModuleList(block(2 * ch[lv], ch[lv]) for lv in levels)
            self.head = nn.Conv2d(ch[0], channels, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            skips = []
            for enc in self.down:
                x = enc(x)
                skips.append(x)
                x = self.pool(x)
            x = self.bottleneck(x)
            for upsample_, dec in zip(self.up, self.decode, strict=True):
                x = dec(torch.cat([skips.pop(), upsample_(x)], dim=1))
            return self.head(x)

    return UNet()


def init_unet(model: torch.nn.Module, init: str, *, seed: int) -> None:
    """``init``: ``"torch-default"`` (PyTorch's own, drawn when the model was built under
    ``torch.manual_seed``: kaiming_uniform(a=√5) weights, uniform(±1/√fan_in) biases) or
    ``"he-normal"`` (Ronneberger et al.: weights normal(0, √(2/N)), N = fan-in; biases 0),
    drawn from ``seed``."""
    import torch

    nn = torch.nn
    if init == "torch-default":
        return
    if init != "he-normal":
        raise ValueError(f"init: expected torch-default or he-normal (got {init!r})")
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                fan_in = m.weight[0].numel() if isinstance(m, nn.Conv2d) else m.weight.shape[0]
                if isinstance(m, nn.ConvTranspose2d):  # (in, out, k, k): fan-in per output
                    fan_in = m.weight.shape[0] * m.weight.shape[2] * m.weight.shape[3]
                m.weight.normal_(0.0, (2.0 / fan_in) ** 0.5, generator=gen)
                if m.bias is not None:
                    m.bias.zero_()
