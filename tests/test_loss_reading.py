"""The loss normalization is a named reading (axis ``loss``): the text's mean squared error
(default) or Eq. (1)'s ½ Σᵢ ‖xᵢ − f(xᵢ)‖², recorded per row as ``loss_normalization``.

Gradient descent on ½Σ equals gradient descent on the mean at ``lr · N/2`` (N entries per
member), so each backend is tested against that identity; the stopping rule reads the loss
descended."""

from __future__ import annotations

import numpy as np
import pytest

from numerics._readings import readings_for
from numerics._tablerow import TableRow
from numerics._tablespec import plan, table1_specs, table2_specs
from numerics._trainer import check_loss, train_chain_ensemble
from numerics._verdicts import _groups
from symconv import conv_stack


def _chain_run(loss: str, lr: float, cap: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    net = conv_stack(3, 4)
    w0 = rng.uniform(-0.3, 0.3, size=(2, 4, 9))
    x = rng.standard_normal((2, 2, 3, 3))
    res = train_chain_ensemble(net, w0, x, optimizer="sgd", lr=lr, target=0.0, cap=cap, loss=loss)
    return np.stack(res.weights), res.losses


def test_half_sum_is_the_mean_at_a_longer_step_on_the_numpy_chain() -> None:
    n_entries = 2 * 9  # two 3×3 images per member
    w_half, loss_half = _chain_run("half-sum", 0.01)
    w_mean, loss_mean = _chain_run("mean", 0.01 * n_entries / 2)
    np.testing.assert_allclose(w_half, w_mean, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(loss_half, loss_mean * n_entries / 2, rtol=1e-10)


def test_the_same_step_on_the_two_losses_differs() -> None:
    w_half, _ = _chain_run("half-sum", 0.01)
    w_mean, _ = _chain_run("mean", 0.01)
    assert np.max(np.abs(w_half - w_mean)) > 1e-3


def test_half_sum_is_the_mean_at_a_longer_step_on_the_torch_backend() -> None:
    torch = pytest.importorskip("torch")
    from numerics._nets import Init, build_model
    from numerics._torchtrain import train_conv_ensemble

    net = conv_stack(3, 3, filters=2)
    x = torch.randn(2, 1, 3, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    out = {}
    for loss, lr in (("half-sum", 0.01), ("mean", 0.01 * 18 / 2)):
        m = build_model(net, init=Init("uniform", 0.3), seed=2, dtype=torch.float64)
        res = train_conv_ensemble([m], [x], optimizer="sgd", lr=lr, target=0.0, cap=30,
                                  loss=loss)  # fmt: skip
        out[loss] = (np.concatenate([w.ravel() for w in res.weights[0]]), res.losses[0])
    np.testing.assert_allclose(out["half-sum"][0], out["mean"][0], rtol=1e-9, atol=1e-12)
    assert out["half-sum"][1] == pytest.approx(out["mean"][1] * 9, rel=1e-9)


def test_an_unknown_loss_is_refused() -> None:
    with pytest.raises(ValueError, match="loss: expected one of mean, half-sum"):
        check_loss("sum")


def test_the_reading_is_offered_and_mean_runs_by_default() -> None:
    for name in ("table1", "table2", "table1-init"):
        offered = {n: default for n, _text, default in readings_for(name)}
        assert offered["mean"] is True and offered["half-sum"] is False


def test_half_sum_rows_are_named_recorded_and_planned() -> None:
    default = table2_specs(False)
    half = table2_specs(False, ("half-sum",))
    assert [s.key + "-half-sum" for s in default] == [s.key for s in half]
    assert all(s.loss == "half-sum" and s.readings["loss"] == "half-sum" for s in half)
    assert all(plan(s).loss == "half-sum" for s in half)
    assert all("loss" not in s.readings and s.loss == "mean" for s in default)
    t1 = table1_specs(False, ("half-sum",))
    assert t1 and all(s.key.endswith("-half-sum") for s in t1)


def _row(**over: object) -> dict[str, object]:
    import json
    from pathlib import Path

    stored = json.loads(
        (Path(__file__).parents[1] / "docs" / "results" / "table2.json").read_text()
    )["rows"][0]
    return {**stored, **over}


def test_a_stored_row_without_the_field_reads_back_as_mean() -> None:
    row = _row()
    row.pop("loss_normalization", None)
    assert TableRow.from_json(row).loss_normalization == "mean"


def test_an_unknown_normalization_in_a_resumed_row_is_refused() -> None:
    from numerics import ExperimentError

    with pytest.raises(ExperimentError, match="loss_normalization"):
        TableRow.from_json(_row(loss_normalization="sum"))


def test_table1_verdicts_group_by_the_loss_reading() -> None:
    rows = [
        {"readings": {"init": "gain0.3", "depth": "depth3"}, "key": "a"},
        {"readings": {"init": "gain0.3", "depth": "depth3", "loss": "half-sum"}, "key": "b"},
    ]
    groups = _groups(rows, 1)
    assert {k: [r["key"] for r in v] for k, v in groups.items()} == {
        "depth3+gain0.3": ["a"],
        "depth3+gain0.3+half-sum": ["b"],
    }
