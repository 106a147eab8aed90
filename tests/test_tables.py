"""Tables 1-2: layer counts from the printed parameters, the fast path, tiny end-to-end runs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from numerics import tables  # noqa: E402
from numerics._fastlinear import (  # noqa: E402
    ChainTrainer,
    FastLinearChain,
    NumpyChain,
    fast_supported,
)
from numerics._nets import build_model, weights_of  # noqa: E402
from numerics.tables import RowSpec  # noqa: E402
from paperdata import TABLE1, TABLE2, depth_for_params  # noqa: E402
from symconv import (  # noqa: E402
    Conv2d,
    Network,
    Residual,
    conv_stack,
    heuristic_depth,
    network_matrix,
)
from verifier.runner import run_experiment  # noqa: E402

REQUIRED = {
    "key", "size", "train_examples", "layers", "conv_layers", "filters", "params",
    "params_printed", "spectrum", "loss", "iterations", "seconds", "memorized",
    "matrix_check", "reached", "init",
}  # fmt: skip


@pytest.mark.parametrize(
    ("row", "expected"),
    list(zip(TABLE1, [3, 3, 3, 5, 5, 5, 8, 8, 8], strict=True)),
    ids=lambda v: str(v),
)
def test_table1_conv_layers_from_printed_params(row, expected):
    assert depth_for_params(row.params_printed, row.filters) == expected


def test_table2_conv_layers_and_bounds():
    got = [depth_for_params(r.params_printed, r.filters) for r in TABLE2]
    assert got == [3, 9, 29, 70, 144, 267, 10, 200, 345]
    bounds = [heuristic_depth(r.size) for r in TABLE2]
    assert bounds == [2, 9, 29, 70, 144, 267, 9, 70, 267]  # the last row prints 144
    assert depth_for_params(28, 1) is None


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
    x1, x2 = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    y_conv, y_fast = model(x1), fast(x2)
    assert torch.allclose(y_conv, y_fast, rtol=0, atol=1e-12)
    ((y_conv - x) ** 2).mean().backward()
    ((y_fast - x) ** 2).mean().backward()
    assert torch.allclose(x1.grad, x2.grad, rtol=1e-10, atol=1e-13)
    g_conv = torch.stack([m.weight.grad.reshape(-1) for m in model.modules()
                          if isinstance(m, torch.nn.Conv2d)])  # fmt: skip
    assert torch.allclose(g_conv, fast.weight.grad, rtol=1e-10, atol=1e-13)
    exact = network_matrix(net, fast.conv_weights()).toarray()
    assert np.max(np.abs(fast.matrix().detach().numpy() - exact)) < 1e-12


def _conv_grads(model):
    return torch.stack([m.weight.grad.reshape(-1) for m in model.modules()
                        if isinstance(m, torch.nn.Conv2d)]).numpy()  # fmt: skip


def _mixed() -> Network:
    """Plain convs around and between skip blocks (a layout conv_stack does not build)."""
    c = Conv2d(1, 1, 3)
    return Network((1, 3, 3), (c, Residual((c, c, c)), c, c, Residual((c, c))))


NETS = {  # id: (network, training images)
    "2x2-L3": (conv_stack(2, 3), 1),
    "3x3-L9-n3": (conv_stack(3, 9), 3),
    "4x4-L12-skip5": (conv_stack(4, 12, skip_every=5), 2),
    "3x3-L23-skip10": (conv_stack(3, 23, skip_every=10), 1),
    "3x3-mixed": (_mixed(), 2),
    "5x5-k5-L4": (conv_stack(5, 4, kernel=5), 2),
    "4x4-dilated": (Network((1, 4, 4), (Conv2d(1, 1, 3, dilation=2),) * 5), 2),
}


@pytest.mark.parametrize("method", ["gather", "shift"])
@pytest.mark.parametrize("name", list(NETS))
def test_numpy_chain_forward_and_gradients_equal_conv_model(method, name):
    net, n = NETS[name]
    size = net.in_shape[1]
    model = build_model(net, init="uniform:0.4", seed=3, dtype=torch.float64)
    x = torch.randn(
        n, 1, size, size, generator=torch.Generator().manual_seed(4), dtype=torch.float64,
        requires_grad=True,
    )  # fmt: skip
    chain = NumpyChain(net, n, grad_method=method)
    assert chain.grad_method == method
    chain.set_weights(np.stack([w.reshape(-1) for w in weights_of(model)]))
    xs = x.detach().numpy().reshape(n, -1).T
    y_np = chain.forward(xs).T.reshape(x.shape)
    y = model(x)
    assert np.max(np.abs(y.detach().numpy() - y_np)) < 1e-12
    gy = torch.randn(y.shape, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    y.backward(gy)
    gw = chain.backward(gy.numpy().reshape(n, -1).T.copy())
    assert np.allclose(gw, _conv_grads(model), rtol=1e-10, atol=1e-13)
    gx = chain.input_grad().T.reshape(x.shape)
    assert np.allclose(gx, x.grad.numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize(
    ("optimizer", "lr", "method"),
    [("adam", 1e-3, "shift"), ("adam", 1e-3, "gather"), ("sgd", 0.05, "shift"),
     ("sgd", 0.05, "gather")],
)  # fmt: skip
@pytest.mark.parametrize("name", list(NETS))
def test_numpy_trainer_follows_torch_trajectory(optimizer, lr, method, name):
    """Torch's optimizer on the conv model and the numpy trainer, 40 steps from the same
    weights: the same losses and weights to 1e-10 relative (float64)."""
    net, n = NETS[name]
    size = net.in_shape[1]
    model = build_model(net, init="uniform:0.4", seed=6, dtype=torch.float64)
    x = torch.randn(
        n, 1, size, size, generator=torch.Generator().manual_seed(7), dtype=torch.float64
    )
    trainer = ChainTrainer(
        net, weights_of(model), x.numpy(), optimizer=optimizer, lr=lr, grad_method=method
    )
    opt = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(model.parameters(), lr=lr)
    for _ in range(40):
        opt.zero_grad(set_to_none=True)
        loss = torch.mean((model(x) - x) ** 2)
        loss.backward()
        opt.step()
        assert trainer.step() == pytest.approx(loss.item(), rel=1e-10)
    w = np.stack([v.reshape(-1) for v in weights_of(model)])
    assert np.max(np.abs(trainer.weight - w)) <= 1e-10 * np.max(np.abs(w))
    assert trainer.steps == 40
    assert [c.shape for c in trainer.conv_weights()] == [v.shape for v in weights_of(model)]


def test_numpy_trainer_stops_like_the_table_loop():
    net = conv_stack(2, 3)
    c = tables.critical_constant(2)
    x = np.random.default_rng(0).standard_normal((1, 1, 2, 2))
    trainer = ChainTrainer(net, [np.full((1, 1, 3, 3), c)] * 3, x, optimizer="sgd", lr=0.1)
    seen: list[int] = []
    loss, steps = trainer.train(target=1e-6, cap=10_000, callback=lambda i, v: seen.append(i))
    assert loss < 1e-6 and 0 < steps < 10_000 and trainer.steps == steps
    assert seen == list(range(100, steps + 1, 100))
    again = ChainTrainer(net, [np.full((1, 1, 3, 3), c)] * 3, x, optimizer="sgd", lr=0.1)
    assert again.train(target=1e-6, cap=5) == (pytest.approx(again.loss()), 5)


def test_numpy_trainer_rejects_bad_arguments():
    net = conv_stack(3, 4)
    x = np.zeros((1, 1, 3, 3))
    with pytest.raises(ValueError, match="optimizer"):
        ChainTrainer(net, [np.zeros(9)] * 4, x, optimizer="rmsprop", lr=0.1)
    with pytest.raises(ValueError, match="grad_method"):
        NumpyChain(net, 1, grad_method="fft")
    with pytest.raises(ValueError, match="net"):
        NumpyChain(conv_stack(3, 3, filters=2), 1)


def test_table2_row_numpy_trainer_matches_the_conv_loop(monkeypatch):
    """A Table 2 row trained by the numpy trainer and by torch on the conv model (the fast
    path switched off) ends with the same loss and spectrum."""
    spec = RowSpec(2, 3, 2, 23, 1, 207, 1, 9, True, cap=30)
    cfg = tables.RunConfig(quick=True, seed=0, device="cpu", out=None, log=None)
    fast = tables.run_row(spec, cfg)
    import numerics._fastlinear as fastlinear

    monkeypatch.setattr(fastlinear, "fast_supported", lambda net: False)
    plain = tables.run_row(spec, cfg)
    assert fast["fast_path"] and not plain["fast_path"]
    assert fast["iterations"] == plain["iterations"] == 30
    assert fast["loss"] == pytest.approx(plain["loss"], rel=1e-10)
    assert np.allclose(fast["spectrum"], plain["spectrum"], rtol=1e-9, atol=1e-12)


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
def tiny(tiny_tables):
    tiny_tables(_tiny1, _tiny2)


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

    def boom(spec, seeds, cfg):
        raise AssertionError("a finished row was recomputed")

    monkeypatch.setattr(tables, "_run_members", boom)
    again = run_experiment("table1", out=tmp_path, resume=True, log=None)
    assert len(again["rows"]) == 2


def test_table1_init_sweep_rows_scale_the_init() -> None:
    from dataclasses import replace

    from numerics._experiment import RunConfig
    from numerics.tables import run_row, table1_init_specs

    specs = {s.key: s for s in table1_init_specs(quick=True)}
    assert {"L2-F1-d3-gain1", "L2-F1-d3-gain0.5", "L8-F1-gain0.5"} <= set(specs)
    small = replace(specs["L2-F1-d3-gain0.5"], cap=5)
    row = run_row(small, RunConfig(quick=True))
    assert row["reading"] == "depth3+gain0.5"
    assert row["init"] == f"uniform:{0.5 / 3**0.5:.6g}"
