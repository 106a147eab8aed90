"""The memorization probe: span angle, landing with the norm rule, attractors.

(``probe`` is imported from ``numerics.probe`` until ``numerics`` exports it.)
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from numerics._metrics import MIN_NORM, landed_on, output_metrics  # noqa: E402
from numerics.probe import probe, probe_report, span_angle  # noqa: E402


class Matrix(nn.Module):
    """``f(x) = M x + b`` on flattened images."""

    def __init__(self, m: np.ndarray, b: np.ndarray | None = None) -> None:
        super().__init__()
        self.m = nn.Parameter(torch.as_tensor(m, dtype=torch.float32))
        d = m.shape[0]
        self.register_buffer("b", torch.as_tensor(b if b is not None else np.zeros(d),
                                                  dtype=torch.float32))  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.flatten(1) @ self.m.T + self.b).view_as(x)


def _train(n: int = 2, shape: tuple[int, int, int] = (1, 4, 4)) -> torch.Tensor:
    return torch.rand((n, *shape), generator=torch.Generator().manual_seed(3))


def test_span_angle_is_zero_on_span_and_large_off_it() -> None:
    x = _train().reshape(2, -1).double().numpy()
    proj = x.T @ np.linalg.pinv(x.T)  # X X⁺: what a memorizing linear net converges to
    assert span_angle(proj, x) < 1e-8
    q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((16, 2)))
    assert span_angle(q @ q.T, x) > 1.0  # a rank-2 projection onto the wrong plane


def test_probe_of_a_memorizing_linear_map() -> None:
    train = _train()
    x = train.reshape(2, -1).double().numpy()
    res = probe(Matrix(x.T @ np.linalg.pinv(x.T)), train, gaussian=4, squares=4)
    assert res["linear"] is True and res["rank"] == 2
    assert res["span_angle"] < 1e-6
    assert res["spectrum"][:2] == pytest.approx([1, 1], abs=1e-6)
    assert res["spectrum"][2] < 1e-6
    # a projection fixes each training image with radius 1: neutral, not attracting
    assert [a["stability"] for a in res["attractors"]] == ["neutral", "neutral"]
    assert all(a["fixed_point_error"] < 1e-5 for a in res["attractors"])


def test_probe_of_a_contraction_to_one_image() -> None:
    """``f(z) = x₀ + (z − x₀)/2``: every input iterates to ``x₀``, which attracts (radius ½)."""
    train = _train()
    x0 = train[0].reshape(-1).double().numpy()
    res = probe(Matrix(0.5 * np.eye(16), 0.5 * x0), train, gaussian=6, squares=6)
    assert res["linear"] is True
    assert res["spectrum"] == pytest.approx([0.5] * 16)
    g = res["landed"]["gaussian"]
    assert g["landed"] < 1.0 and g["iterated_landed"] == 1.0 and g["iterated_which"] == [6, 0]
    first, second = res["attractors"]
    assert first["attractor"] and first["spectral_radius"] == pytest.approx(0.5)
    assert second["stability"] == "not a fixed point" and not second["attractor"]


def test_vanishing_outputs_do_not_land() -> None:
    """A zero output is within any tolerance of the multiple 0·x: it must not count."""
    train = _train().reshape(2, -1).numpy()
    outputs = np.stack([np.zeros(16), 1e-3 * train[0], train[1], 0.5 * train[0]])
    assert list(landed_on(outputs, train)) == [-1, -1, 1, 0]
    assert 1e-3 < MIN_NORM <= 0.5
    assert output_metrics(outputs, train)["landed"] == 0.5


def test_probe_report_on_a_saved_program(tmp_path: pytest.TempPathFactory) -> None:
    from PIL import Image

    from symconv._trace import export_model

    folder = tmp_path / "train"  # type: ignore[operator]
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(2):
        Image.fromarray(rng.integers(0, 255, (6, 6), dtype=np.uint8)).save(folder / f"{i}.png")
    model = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, bias=False))
    path = tmp_path / "net.pt2"  # type: ignore[operator]
    torch.export.save(export_model(model, (1, 6, 6)), str(path))
    rep = probe_report(path, folder, held_out=0, gaussian=3, squares=3)
    assert rep["model"] == str(path) and rep["train_images"] == 2
    assert rep["input_shape"] == [1, 6, 6] and rep["linear"] is True
    assert len(rep["spectrum"]) == 36 and 0 <= rep["span_angle"] <= np.pi / 2 + 1e-9
    assert set(rep["landed"]) == {"gaussian", "squares"} and len(rep["attractors"]) == 2


def test_a_relu_net_is_not_read_as_linear() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Conv2d(2, 1, 1))
    res = probe(model, _train(), gaussian=2, squares=0, attractors=1)
    assert res["linear"] is False and res["spectrum"] is None and res["span_angle"] is None
    assert set(res["landed"]) == {"gaussian"} and len(res["attractors"]) == 1
