"""Memorization metrics on constructed cases; tiny runs of every figure experiment with --out;
the one-page report."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("matplotlib")

import numerics  # noqa: E402
from numerics import (  # noqa: E402
    _autoencoder,
    _experiment,
    downsampling,
    early_stopping,
    initialization,
    nonlinear,
)
from numerics._metrics import LAND_TOL, memorization_metrics, output_metrics  # noqa: E402
from verifier.report import write_report  # noqa: E402
from verifier.runner import run_experiment  # noqa: E402

RNG = np.random.default_rng(0)
TRAIN = RNG.uniform(0, 1, size=(2, 3, 4, 4))


def test_output_equal_to_training_image_lands_on_it() -> None:
    m = output_metrics(TRAIN[[1, 1, 0]], TRAIN)
    assert m["landed"] == 1.0 and m["landed_exact"] == 1.0
    assert m["which"] == [1, 2]
    assert m["nearest_median"] == pytest.approx(0.0, abs=1e-12)
    assert m["span_median"] == pytest.approx(0.0, abs=1e-12)


def test_mixture_is_in_span_but_not_on_an_image() -> None:
    mix = 0.5 * TRAIN[0] + 0.5 * TRAIN[1]
    m = output_metrics(mix[None], TRAIN)
    assert m["span_median"] == pytest.approx(0.0, abs=1e-12)
    assert m["landed"] == 0.0 and m["ray_median"] > LAND_TOL


def test_positive_multiple_lands_up_to_scale_only() -> None:
    m = output_metrics(3.0 * TRAIN[:1], TRAIN)
    assert m["landed"] == 1.0 and m["landed_exact"] == 0.0
    neg = output_metrics(-TRAIN[:1], TRAIN)  # a negative multiple is not the image
    assert neg["landed"] == 0.0


def test_iterating_a_projection_onto_one_image() -> None:
    x = torch.tensor(TRAIN[:1], dtype=torch.float32)
    u = x.reshape(-1) / x.norm()

    def proj(z):
        flat = z.reshape(len(z), -1)
        return ((flat @ u).clamp(min=0)[:, None] * u).reshape(z.shape)

    inputs = x + 0.05 * torch.randn((5, 3, 4, 4), generator=torch.Generator().manual_seed(0))
    m = memorization_metrics(proj, inputs, x)
    assert m["landed"] == 1.0 and m["iterated_landed"] == 1.0 and m["iterated_still"] == 1.0


TINY = _autoencoder.Scale(
    size=8, d1_filters=4, d2_filters=2, iterations=4, lr=1e-3, test_count=3, small_iterations=4
)


@pytest.fixture
def tiny(monkeypatch):
    for mod in (downsampling, nonlinear, early_stopping, initialization):
        monkeypatch.setattr(mod, "scale", lambda cfg: TINY)
    monkeypatch.setattr(early_stopping, "checkpoints", lambda cfg: (2, 4))


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("downsampling", ["d1", "d2", "d2-gain1"]),
        ("nonlinear", ["fig4", "fig5", "fig6-nonlinear", "fig6-linear"]),
        ("early-stopping", ["nonlinear-2", "nonlinear-4", "linear-2", "linear-4"]),
        (
            "initialization",
            ["xavier-uniform", "xavier-normal", "kaiming-uniform", "kaiming-normal"],
        ),
    ],
)
def test_tiny_experiment_writes_json_and_png(tiny, tmp_path, name: str, keys: list[str]) -> None:
    res = run_experiment(name, quick=True, out=tmp_path)
    assert [r["key"] for r in res["rows"]] == keys
    stored = json.loads((tmp_path / f"{name}.json").read_text())
    assert [r["key"] for r in stored["rows"]] == keys
    for row in res["rows"]:
        for field in ("spectrum", "loss", "iterations", "seconds", "metrics", "spectrum_kind"):
            assert field in row, field
        assert row["spectrum"] == sorted(row["spectrum"], reverse=True)
        if row["nonlinearity"] == "linear":
            assert row["matrix_check"] < 1e-9  # torch's matrix equals symconv's exact product
            assert len(row["spectrum"]) == row["channels"] * row["size"] ** 2
        for m in row["metrics"].values():
            assert 0.0 <= m["landed_fraction"] <= 1.0 and m["n"] >= 3
            # 4 training steps: a net that did not train is labelled, never counted as landed
            if not row["trained"]:
                assert m["landed"] == "did not train"
            else:
                assert m["landed"] == "vanished" or m["landed"] == m["landed_fraction"]
    assert res["figures"] and all(f.endswith(".png") for f in res["figures"])
    for f in res["figures"]:
        with open(f, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    # --resume keeps finished rows instead of recomputing them
    again = run_experiment(name, quick=True, out=tmp_path, resume=True)
    assert [r["seconds"] for r in again["rows"]] == [r["seconds"] for r in res["rows"]]


def test_architectures_match_the_text() -> None:
    d1 = downsampling.d1_network(32, 64)
    shapes = [s[1] for s in d1.shapes]
    assert min(shapes) == 1 and d1.out_shape == (3, 32, 32) and d1.depth == 10
    d2 = downsampling.d2_network(32, 64)
    assert d2.shapes[1] == (64, 4, 4) and d2.out_shape == (3, 32, 32)
    assert sum(1 for s in d2.shapes[1:31] if s[1:] == (4, 4)) == 30  # layer 1 + 29 layers
    assert nonlinear.fig4_network().depth == 29 and nonlinear.fig5_network().depth == 5
    with pytest.raises(numerics.ExperimentError):
        downsampling.d1_network(12, 4)


def test_report_page(tiny, tmp_path, monkeypatch) -> None:
    mods = _experiment.EXPERIMENT_MODULES
    for name in list(mods):
        if name != "downsampling":
            monkeypatch.delitem(mods, name)
    monkeypatch.setitem(mods, "ghost", "numerics._no_such_module")
    path = write_report(tmp_path, quick=True)
    assert path == tmp_path / "index.html"
    page = path.read_text()
    assert 'id="exp-downsampling"' in page and 'id="exp-ghost"' in page
    assert "not available" in page and 'src="downsampling-d1.png"' in page
    assert "<figcaption>" in page and 'href="downsampling.json"' in page
    text = (tmp_path / "report.md").read_text()
    assert "### downsampling" in text and "### ghost" in text and "not available" in text
    assert "Setup and choices" in text and "(downsampling-d1.png)" in text
    assert "| d1 |" in text and (tmp_path / "downsampling-d1.png").exists()
    # quick mode: every experiment is inconclusive; no Sphinx role survives
    assert "inconclusive" in text and ":mod:" not in text and ":func:" not in text
    assert ":mod:" not in page and ":func:" not in page
    # compact tables: at most 8 columns
    for line in text.splitlines():
        if line.startswith("| ") and line.count(" | ") >= 1:
            assert line.count(" | ") <= 7, line
