"""Tables 1-2: layer counts from the printed parameters, the fast path, tiny end-to-end runs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from numerics import run_experiment, tables  # noqa: E402
from numerics._fastlinear import FastLinearChain, fast_supported  # noqa: E402
from numerics._nets import build_model, weights_of  # noqa: E402
from numerics.tables import RowSpec  # noqa: E402
from symconv import conv_stack, network_matrix  # noqa: E402

REQUIRED = {
    "key", "size", "train_examples", "layers", "conv_layers", "filters", "params",
    "params_printed", "spectrum", "loss", "iterations", "seconds", "memorized",
    "matrix_check", "reached", "init",
}  # fmt: skip


@pytest.mark.parametrize(
    ("row", "expected"),
    list(zip(tables.TABLE1_PRINTED, [3, 3, 3, 5, 5, 5, 8, 8, 8], strict=True)),
    ids=lambda v: str(v),
)
def test_table1_conv_layers_from_printed_params(row, expected):
    _layers, filters, params = row
    assert tables.derive_conv_layers(3, filters, params) == expected


def test_table2_conv_layers_and_bounds():
    got = [tables.derive_conv_layers(s, 1, p) for s, _, _, _, p, _ in tables.TABLE2_PRINTED]
    assert got == [3, 9, 29, 70, 144, 267, 10, 200, 345]
    bounds = [tables.heuristic_bound(s) for s, *_ in tables.TABLE2_PRINTED]
    assert bounds == [2, 9, 29, 70, 144, 267, 9, 70, 267]  # the last row prints 144
    assert tables.derive_conv_layers(3, 1, 28) is None


@pytest.mark.parametrize("size", [2, 3, 5, 7])
def test_critical_constant_formula(size):
    want = 1 / (1 + 2 * math.cos(math.pi / (size + 1))) ** 2
    assert tables.critical_constant(size) == pytest.approx(want, rel=1e-12)


def test_memorized():
    assert tables.memorized([1.0, 0.99, 0.01, 0.0], 2)
    assert not tables.memorized([1.0, 0.99, 0.2, 0.0], 2)
    assert not tables.memorized([1.0, 0.5, 0.0], 2)


@pytest.mark.parametrize("strategy", ["tree", "chain"])
@pytest.mark.parametrize(
    ("size", "depth", "skip", "n"),
    [(2, 3, 0, 1), (3, 9, 0, 3), (4, 12, 5, 2), (3, 23, 10, 1)],
    ids=["2x2-L3", "3x3-L9-n3", "4x4-L12-skip5", "3x3-L23-skip10"],
)
def test_fast_path_equals_conv_model(strategy, size, depth, skip, n):
    net = conv_stack(size, depth, skip_every=skip)
    assert fast_supported(net)
    model = build_model(net, init="uniform:0.4", seed=1, dtype=torch.float64)
    fast = FastLinearChain(net, weights_of(model), strategy=strategy)
    x = torch.randn(
        n, 1, size, size, generator=torch.Generator().manual_seed(2), dtype=torch.float64
    )
    y_conv, y_fast = model(x), fast(x)
    assert torch.allclose(y_conv, y_fast, rtol=0, atol=1e-12)
    ((y_conv - x) ** 2).mean().backward()
    ((y_fast - x) ** 2).mean().backward()
    g_conv = torch.stack([m.weight.grad.reshape(-1) for m in model.modules()
                          if isinstance(m, torch.nn.Conv2d)])  # fmt: skip
    assert torch.allclose(g_conv, fast.weight.grad, rtol=1e-10, atol=1e-13)
    exact = network_matrix(net, fast.conv_weights()).toarray()
    assert np.max(np.abs(fast.matrix().detach().numpy() - exact)) < 1e-12


def test_fast_path_rejects_multi_filter():
    net = conv_stack(3, 3, filters=2)
    assert not fast_supported(net)
    with pytest.raises(ValueError, match="net"):
        FastLinearChain(net)


def _tiny1(quick: bool) -> list[RowSpec]:
    return [
        RowSpec(1, 3, 2, 2, 1, 27, 1, cap=60),
        RowSpec(1, 3, 2, 5, 2, 7200, 16, cap=30),
    ]


def _tiny2(quick: bool) -> list[RowSpec]:
    return [
        RowSpec(2, 2, 1, 3, 1, 27, 1, 2, False, cap=400),
        RowSpec(2, 3, 1, 23, 1, 207, 1, 9, True, cap=20),
    ]


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setattr(
        tables,
        "EXPERIMENTS",
        [tables.table1_experiment(_tiny1), tables.table2_experiment(_tiny2)],
    )


def test_tiny_tables_write_rows_and_figures(tiny, tmp_path):
    r1 = run_experiment("table1", out=tmp_path, log=None)
    r2 = run_experiment("table2", out=tmp_path, log=None)
    for result, name in ((r1, "table1"), (r2, "table2")):
        saved = json.loads((tmp_path / f"{name}.json").read_text())
        assert [r["key"] for r in saved["rows"]] == [r["key"] for r in result["rows"]]
        for row in result["rows"]:
            assert REQUIRED <= set(row), REQUIRED - set(row)
            assert len(row["spectrum"]) == row["size"] ** 2
            assert row["spectrum"] == sorted(row["spectrum"], reverse=True)
            assert row["matrix_check"] < 1e-10
        assert (tmp_path / f"{name}_spectra.png").stat().st_size > 1000
    first = r1["rows"][0]
    assert (first["layers"], first["conv_layers"], first["params"]) == (2, 3, 27)
    assert r1["rows"][1]["conv_layers"] == 5 and r1["rows"][1]["filters"] == 2
    small, deep = r2["rows"]
    assert small["fast_path"] and small["reached"]
    assert deep["skip_every"] == 10 and deep["conv_layers"] == 23


def test_resume_skips_finished_rows(tiny, tmp_path, monkeypatch):
    run_experiment("table1", out=tmp_path, log=None)

    def boom(spec, cfg):
        raise AssertionError("a finished row was recomputed")

    monkeypatch.setattr(tables, "run_row", boom)
    again = run_experiment("table1", out=tmp_path, resume=True, log=None)
    assert len(again["rows"]) == 2
