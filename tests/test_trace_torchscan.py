"""The receptive field read off the exact pattern equals torchscan's where torchscan has a
number (stride-1 and strided conv chains, dilations, pooling): an interior output pixel's
reach spans exactly as many input rows and columns as torchscan's per-layer
``receptive_field`` and ``effective_stride`` give, composed layer by layer
(R_l = R_(l-1) + (r_l - 1)·J_(l-1), J_l = J_(l-1)·s_l)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchscan = pytest.importorskip("torchscan")
from torch import nn  # noqa: E402

from symconv import from_torch  # noqa: E402


def _torchscan_rf(model: nn.Module, shape: tuple[int, int, int]) -> int:
    info = torchscan.crawl_module(model, shape)
    total, jump = 1, 1
    for layer in info["layers"]:
        metric = layer["metrics"].get("receptive_field")
        if layer["depth"] != 1 or metric is None:  # the container; pointwise layers
            continue
        assert metric["status"] == "complete"
        stride = layer["metrics"]["effective_stride"]["value"]
        total += (int(metric["value"]) - 1) * jump
        jump *= int(stride)
    return total


def _pattern_rf(model: nn.Module, shape: tuple[int, int, int]) -> int:
    pat = from_torch(model, shape, certify=False)
    oh, ow = pat.output_shape[-2:]
    (row,) = pat.rows([(oh // 2, ow // 2)])
    seen = np.asarray(row, dtype=bool).reshape(shape[-2:])
    rows, cols = np.flatnonzero(seen.any(axis=1)), np.flatnonzero(seen.any(axis=0))
    assert rows.size and rows.min() > 0 and rows.max() < shape[-2] - 1  # not clipped
    height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    assert height == width
    return int(height)


def _chain(*layers: nn.Module) -> nn.Module:
    return nn.Sequential(*layers).eval()


MODELS = {
    "paper-stack-3x3x4": _chain(*[nn.Conv2d(1, 1, 3, padding=1) for _ in range(4)]),
    "kernels-3-5-7": _chain(
        nn.Conv2d(1, 2, 3, padding=1), nn.Conv2d(2, 2, 5, padding=2), nn.Conv2d(2, 1, 7, padding=3)
    ),
    "strided-encoder": _chain(
        nn.Conv2d(1, 4, 3, padding=1, stride=2),
        nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding=1, stride=2),
        nn.ReLU(),
        nn.Conv2d(4, 1, 3, padding=1),
    ),
    "dilated": _chain(nn.Conv2d(1, 2, 3, padding=2, dilation=2), nn.Conv2d(2, 1, 3, padding=1)),
    "pool-then-conv": _chain(
        nn.Conv2d(1, 2, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(2, 1, 3, padding=1)
    ),
    "avgpool-grouped": _chain(
        nn.Conv2d(2, 4, 3, padding=1, groups=2), nn.AvgPool2d(2), nn.Conv2d(4, 2, 3, padding=1)
    ),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_receptive_field_equals_torchscans(name):
    model = MODELS[name]
    channels = 2 if name == "avgpool-grouped" else 1
    shape = (channels, 40, 40)
    assert _pattern_rf(model, shape) == _torchscan_rf(model, shape)
