"""The pattern of a traced torch model: equal to the support of random-weight Jacobians, to
symconv's own patterns for the paper's networks, certified, and refused in one line.

(``from_torch`` and friends are imported from the private modules until ``symconv``
exports them.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
from _torch_nets import UNet, downsampling, jacobian_support, paper_stack  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from paperdata import downsampling_net  # noqa: E402
from symconv import (  # noqa: E402
    UnsupportedOpError,
    _trace,
    conv_stack,
    factored_pattern,
    from_torch,
    min_full_depth,
    model_mask_report,
)
from symconv._trace_witness import certify_graph, kron_certify  # noqa: E402


class Residual(nn.Module):
    """Reflect-padded conv in a skip, batch norm, adaptive pooling, 'same' even kernel."""

    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Conv2d(2, 2, 3, padding=1, padding_mode="reflect")
        self.bn = nn.BatchNorm2d(2)
        self.c2 = nn.Conv2d(2, 2, 4, padding="same")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x + self.bn(self.c(x))
        return self.c2(F.adaptive_avg_pool2d(y, (3, 4))) * 0.5 - y[:, :, :3, :4]


class Norms(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Conv2d(4, 4, 1, groups=4)
        self.gn = nn.GroupNorm(2, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gn(self.c(x))


class Dense(nn.Module):
    """A strided conv, then fully connected layers on the flattened image."""

    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Conv2d(1, 2, 3, stride=2)
        self.l1 = nn.Linear(18, 20)
        self.l2 = nn.Linear(20, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.l2(torch.tanh(self.l1(self.c(x).flatten(1)))).view(1, 1, 4, 4)


def avg() -> nn.Module:
    return nn.AvgPool2d(2)


ARCHITECTURES: dict[str, tuple[Callable[[], nn.Module], tuple[int, int, int]]] = {
    "unet-depth1-avgpool": (lambda: UNet(1, 3, 1, pool=avg), (1, 8, 8)),
    "unet-depth2-bilinear-2ch-nonsquare": (
        lambda: UNet(2, 2, 2, pool=avg, up="bilinear", act=nn.Tanh), (2, 8, 12)),
    "unet-depth3": (lambda: UNet(1, 2, 3, pool=avg, act=nn.GELU), (1, 8, 8)),
    "strided-dilated-grouped-encoder": (lambda: nn.Sequential(
        nn.Conv2d(2, 4, 4, stride=2, padding=1), nn.Tanh(),
        nn.Conv2d(4, 4, 3, stride=3, dilation=2, groups=2),
        nn.Conv2d(4, 2, (3, 5), padding="same", groups=2)), (2, 13, 17)),
    "transposed-conv-decoder": (lambda: nn.Sequential(
        nn.ConvTranspose2d(1, 2, 4, stride=2, padding=1), nn.Sigmoid(),
        nn.ConvTranspose2d(2, 1, 3, stride=2, padding=1, output_padding=1)), (1, 4, 5)),
    "pixel-shuffle-unshuffle": (lambda: nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.PixelShuffle(2), nn.Conv2d(1, 4, 1),
        nn.PixelUnshuffle(2), nn.Conv2d(16, 1, 1)), (1, 5, 6)),
    "residual-bn-reflect-adaptive": (Residual, (2, 7, 9)),
    "group-norm": (Norms, (4, 3, 3)),
    "fully-connected": (Dense, (1, 7, 7)),
}  # fmt: skip


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_mask_equals_support_of_random_jacobians(name: str) -> None:
    make, shape = ARCHITECTURES[name]
    model = make()
    pat = from_torch(model, shape)
    support = jacobian_support(model, shape, draws=2)
    np.testing.assert_array_equal(pat.dense_mask(), support)
    assert pat.forced_zeros == int((~support).sum())
    np.testing.assert_array_equal(pat.reach, support.sum(axis=1))
    if pat.linear:
        assert pat.certified is True, pat.certificate


def test_max_pool_and_relu_patterns_are_the_window_union() -> None:
    """One input's Jacobian selects one pixel per window and switches ReLUs off: every draw's
    support lies inside the pattern, which is that of the avg-pool, leaky twin."""
    shape = (1, 8, 8)
    maxnet = UNet(1, 3, 2, act=nn.ReLU)
    twin = UNet(1, 3, 2, pool=avg, act=lambda: nn.LeakyReLU(0.1))
    pat = from_torch(maxnet, shape)
    assert not pat.linear and pat.certified is None
    assert any("max-pool" in n for n in pat.notes) and any("slopes" in n for n in pat.notes)
    np.testing.assert_array_equal(pat.dense_mask(), from_torch(twin, shape).dense_mask())
    support = jacobian_support(maxnet, shape, draws=3)
    assert (support <= pat.dense_mask()).all() and support.sum() > 0.5 * pat.dense_mask().sum()


@pytest.mark.parametrize(("size", "depth", "filters"), [(5, 1, 1), (6, 3, 2), (9, 4, 3)])
def test_paper_stacks_give_symconv_factored_pattern(size: int, depth: int, filters: int) -> None:
    pat = from_torch(paper_stack(depth, filters), (1, size, size))
    want = factored_pattern(conv_stack(size, depth, filters=filters))
    assert want is not None
    np.testing.assert_array_equal(pat.dense_mask(), want.dense())
    assert pat.factored and pat.linear and pat.certified is True
    assert pat.forced_zeros == want.forced_zeros
    need = min_full_depth(size)
    assert need is not None and pat.extra_depth == max(0, need - depth)


@pytest.mark.parametrize(("size", "depth"), [(8, 1), (10, 2)])
def test_section4_downsampling_net_gives_symconv_pattern(size: int, depth: int) -> None:
    pat = from_torch(downsampling(depth), (1, size, size))
    want = factored_pattern(downsampling_net(size, depth))
    assert want is not None
    np.testing.assert_array_equal(pat.dense_mask(), want.dense())
    assert pat.certified is True


def test_whole_input_pixels_and_extra_depth_of_a_stack() -> None:
    pat = from_torch(paper_stack(2), (1, 5, 5))  # reach radius 2: only the centre sees all
    assert pat.whole_input_pixels() == [(2, 2)]
    assert pat.extra_depth == 2 and not pat.full_support


def test_wrong_mask_is_not_certified() -> None:
    """The witness is independent of the pattern: a dropped or an added entry is caught."""
    model = paper_stack(2)
    pat = from_torch(model, (1, 4, 4))
    graph = _trace.Graph(_trace.export_model(model, (1, 4, 4)))
    mask = pat.dense_mask().copy()
    ok, _ = certify_graph(graph, (1, 4, 4), mask, 0, 2**31)
    assert ok is True
    dropped = mask.copy()
    dropped[0, 0] = False  # a real nonzero called zero: a contradiction
    ok, text = certify_graph(graph, (1, 4, 4), dropped, 0, 2**31)
    assert ok is False and "1 contradictions" in text
    added = mask.copy()
    added[0, -1] = True  # a forced zero called nonzero: never witnessed
    ok, text = certify_graph(graph, (1, 4, 4), added, 0, 2**31)
    assert ok is False and "NOT certified" in text
    assert pat._factors is not None  # the separable (Kronecker) witness, too
    rows, cols = pat._factors
    assert kron_certify(graph, (1, 4, 4), (rows, cols), 0)[0] is True
    for wrong in ((rows, ~cols), (rows | True, cols)):
        assert kron_certify(graph, (1, 4, 4), wrong, 0)[0] is False


def test_unsupported_op_is_refused_in_one_line() -> None:
    class Cumsum(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc = nn.Conv2d(1, 1, 3, padding=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.cumsum(self.enc(x), dim=3)

    with pytest.raises(UnsupportedOpError) as info:
        from_torch(Cumsum(), (1, 4, 4))
    text = str(info.value)
    assert "\n" not in text and "cumsum" in text and "graph node 'cumsum'" in text
    assert "test_trace.py" in text and isinstance(info.value, ValueError)


def test_chunked_and_recomputed_rows_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small chunks of input pixels and no stored mask give the same answers."""
    make, shape = ARCHITECTURES["residual-bn-reflect-adaptive"]
    model = make()
    whole = from_torch(model, shape)
    assert not whole.factored
    monkeypatch.setattr(_trace, "_CHUNK_ENTRIES", 1500)
    monkeypatch.setattr(_trace, "MAX_STORED_ENTRIES", 10)
    chunked = from_torch(model, shape, certify=False)
    assert chunked._packed is None
    np.testing.assert_array_equal(chunked.reach, whole.reach)
    assert chunked.extra_depth == whole.extra_depth
    pixels = [(0, 0), (2, 3)]
    np.testing.assert_array_equal(chunked.rows(pixels), whole.dense_mask()[[0, 11]])
    with pytest.raises(ValueError, match="rows"):
        chunked.dense_mask(max_entries=10)


def test_saved_program_report_is_json(tmp_path: pytest.TempPathFactory) -> None:
    model = UNet(1, 2, 1, pool=avg)
    program = _trace.export_model(model, (1, 6, 6))
    path = tmp_path / "unet.pt2"  # type: ignore[operator]
    torch.export.save(program, str(path))
    rep = model_mask_report(path, pixels=[(1, 2)])
    json.dumps(rep)
    assert rep["model"] == str(path) and rep["input_shape"] == [1, 6, 6]
    assert len(rep["mask"]) == 36 and set("".join(rep["mask"])) <= {"0", "1"}
    assert rep["pixels"][0]["pixel"] == [1, 2]
    assert rep["pixels"][0]["row"] == rep["mask"][1 * 6 + 2]
    assert rep["forced_zeros"] == "".join(rep["mask"]).count("0")
    assert rep["reach"][8] == rep["pixels"][0]["reach"]
    bad = tmp_path / "bad.pt2"  # type: ignore[operator]
    bad.write_bytes(b"not a program")
    with pytest.raises(ValueError, match=r"not a program saved with torch\.export\.save"):
        model_mask_report(bad)
    with pytest.raises(ValueError, match="no such file"):
        model_mask_report(tmp_path / "missing.pt2")  # type: ignore[operator]


def test_import_symconv_trace_does_not_import_torch() -> None:
    code = "import sys, symconv._trace, symconv; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=".")


@st.composite
def _chains(draw: st.DrawFn) -> tuple[nn.Module, tuple[int, int, int]]:
    """1-3 random layers: convolutions (kernel, stride, padding, dilation, groups),
    transposed convolutions, average pooling, nearest / bilinear upsampling, a tanh."""
    c = draw(st.sampled_from([1, 2, 4]))
    shape = (c, draw(st.integers(5, 9)), draw(st.integers(5, 9)))
    layers: list[nn.Module] = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["conv", "conv", "transposed", "pool", "up", "tanh"]))
        out = draw(st.sampled_from([1, 2, 4]))
        groups = draw(st.sampled_from([g for g in (1, 2, 4) if c % g == 0 and out % g == 0]))
        k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
        stride = draw(st.integers(1, 3))
        if kind == "conv":
            layers.append(
                nn.Conv2d(
                    c,
                    out,
                    k,
                    stride=stride,
                    padding=draw(st.integers(0, 2)),
                    dilation=draw(st.integers(1, 2)),
                    groups=groups,
                )
            )
        elif kind == "transposed":
            layers.append(
                nn.ConvTranspose2d(
                    c, out, k, stride=stride, groups=groups, padding=draw(st.integers(0, 1))
                )
            )
        elif kind == "pool":
            layers.append(nn.AvgPool2d(draw(st.integers(1, 3)), stride=stride))
            out = c
        elif kind == "up":
            mode = draw(st.sampled_from(["nearest", "bilinear"]))
            layers.append(nn.Upsample(scale_factor=draw(st.integers(2, 3)), mode=mode))
            out = c
        else:
            layers.append(nn.Tanh())
            out = c
        c = out
    return nn.Sequential(*layers), shape


@settings(max_examples=6, deadline=None)
@given(_chains())
def test_random_chains_match_the_jacobian_support(chain: tuple[nn.Module, tuple[int, ...]]) -> None:
    model, shape = chain
    try:
        with torch.no_grad():
            out = model(torch.zeros(1, *shape))
    except RuntimeError:
        assume(False)  # the layers do not fit the image
    assume(out.numel() > 0)
    pat = from_torch(model, shape)
    np.testing.assert_array_equal(pat.dense_mask(), jacobian_support(model, shape, draws=2))
    assert pat.certified is (True if pat.linear else None)
