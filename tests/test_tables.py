"""Tables 1-2: layer counts from the printed parameters, the fast path, tiny end-to-end runs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import numerics._fastlinear as fastlinear  # noqa: E402
from numerics import _tablerun, tables, train_chain_ensemble  # noqa: E402
from numerics._fastlinear import NumpyChain, chain_matrices, fast_supported  # noqa: E402
from numerics._linalg import end_to_end_matrix  # noqa: E402
from numerics._nets import Init, build_model, weights_of  # noqa: E402
from numerics._trainer import ChainMembers  # noqa: E402
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
    assert tables.memorized([1.0, 0.99, 0.01, 0.0], 2, 0.01)
    assert not tables.memorized([1.0, 0.99, 0.2, 0.0], 2, 0.01)
    assert not tables.memorized([1.0, 0.5, 0.0], 2, 0.01)


@pytest.mark.parametrize(
    ("angle", "want"),
    [(0.0, True), (0.05, True), (0.051, False), (1.2, False), (None, False)],
    ids=["in-span", "at-the-tolerance", "just-past", "wrong-space", "not-measured"],
)
def test_memorized_needs_the_span_of_the_images(angle, want):
    """A rank-n projection onto the wrong space has the right spectrum: the criterion is
    on the operator, its top-n eigenspace within 0.05 rad of span(X)."""
    assert tables.memorized([1.0, 0.01, 0.0], 1, angle) is want


def _seed(memorized: bool, starts: bool) -> dict:
    return {"reached": True, "diverged": False, "memorized": memorized, "starts_memorized": starts}


@pytest.mark.parametrize(
    ("seeds", "verdict"),
    [
        ([_seed(True, False)] * 5, "agrees"),
        ([_seed(True, True)] * 5, "inconclusive"),
        ([_seed(True, True)] * 2 + [_seed(True, False)] * 3, "agrees"),
        ([_seed(True, True)] * 3 + [_seed(True, False)] * 2, "inconclusive"),
        ([_seed(True, True)] * 2 + [_seed(False, False)] * 3, "differs"),
        ([_seed(False, False)] * 5, "differs"),
    ],
    ids=[
        "learned",
        "started-memorized",
        "three-learned-beside-two-started",
        "two-learned-beside-three-started",
        "started-ones-never-count",
        "not-memorized",
    ],
)
def test_a_run_that_starts_memorized_never_makes_its_row_agree(seeds, verdict):
    got, why = tables.row_verdict({"per_seed": seeds}, True, False)
    assert got == verdict, why


@pytest.mark.parametrize(
    ("size", "depth", "skip"),
    [(2, 3, 0), (3, 9, 0), (4, 12, 5), (3, 23, 10)],
    ids=["2x2-L3", "3x3-L9", "4x4-L12-skip5", "3x3-L23-skip10"],
)
def test_chain_matrices_equal_conv_model(size, depth, skip):
    """The end-to-end matrices of the numpy chain (two members at once) are the conv
    model's and symconv's product of layer matrices (1e-12)."""
    net = conv_stack(size, depth, skip_every=skip)
    assert fast_supported(net)
    models = [build_model(net, init=Init("uniform", 0.4), seed=s, dtype=torch.float64)
              for s in (1, 2)]  # fmt: skip
    w = np.stack([np.stack([v.reshape(-1) for v in weights_of(m)]) for m in models])
    mats = chain_matrices(net, w)
    for m, mat in zip(models, mats, strict=True):
        assert np.max(np.abs(mat - end_to_end_matrix(m, (1, size, size)))) < 1e-12
        exact = network_matrix(net, weights_of(m)).toarray()
        assert np.max(np.abs(mat - exact)) < 1e-12


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


@pytest.fixture(params=["gather", "shift"])
def method(request, monkeypatch):
    """The weight-gradient form: the entry gather (small nets) or, forced by a threshold
    of 0, the shifted sums (large nets)."""
    if request.param == "shift":
        monkeypatch.setattr(fastlinear, "GATHER_MAX", 0)
    return request.param


@pytest.mark.parametrize("name", list(NETS))
def test_numpy_chain_forward_and_gradients_equal_conv_model(method, name):
    net, n = NETS[name]
    size = net.in_shape[1]
    model = build_model(net, init=Init("uniform", 0.4), seed=3, dtype=torch.float64)
    x = torch.randn(
        n, 1, size, size, generator=torch.Generator().manual_seed(4), dtype=torch.float64,
        requires_grad=True,
    )  # fmt: skip
    chain = NumpyChain(net, n)
    assert chain.grad_method == method
    chain.set_weights(np.stack([w.reshape(-1) for w in weights_of(model)])[:, None])
    xs = x.detach().numpy().reshape(1, n, -1).transpose(0, 2, 1)
    y_np = chain.forward(xs)[0].T.reshape(x.shape)
    y = model(x)
    assert np.max(np.abs(y.detach().numpy() - y_np)) < 1e-12
    gy = torch.randn(y.shape, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    y.backward(gy)
    np.copyto(chain.grads[-1], gy.numpy().reshape(1, n, -1).transpose(0, 2, 1))
    gw = chain.backward()[:, 0]
    assert np.allclose(gw, _conv_grads(model), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize(("optimizer", "lr"), [("adam", 1e-3), ("sgd", 0.05)])
@pytest.mark.parametrize("name", list(NETS))
def test_numpy_trainer_follows_torch_trajectory(optimizer, lr, method, name):
    """Torch's optimizer on the conv model and the numpy backend, 40 steps from the same
    weights: the same losses and weights to 1e-10 relative (float64)."""
    net, n = NETS[name]
    size = net.in_shape[1]
    model = build_model(net, init=Init("uniform", 0.4), seed=6, dtype=torch.float64)
    x = torch.randn(
        n, 1, size, size, generator=torch.Generator().manual_seed(7), dtype=torch.float64
    )
    w0 = np.stack([v.reshape(-1) for v in weights_of(model)])[None]
    cols = x.numpy().reshape(1, n, -1).transpose(0, 2, 1)
    members = ChainMembers(net, w0, cols, optimizer=optimizer, lr=lr)
    assert members.chain.grad_method == method
    opt = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(model.parameters(), lr=lr)
    for step in range(1, 41):
        opt.zero_grad(set_to_none=True)
        loss = torch.mean((model(x) - x) ** 2)
        loss.backward()
        opt.step()
        assert members.losses()[0] == pytest.approx(loss.item(), rel=1e-10)
        members.update(step)
    w = np.stack([v.reshape(-1) for v in weights_of(model)])
    (trained,) = members.weights(np.ones(1, dtype=bool))
    assert np.max(np.abs(trained - w)) <= 1e-10 * np.max(np.abs(w))
    assert trained.shape == (net.depth, 9 if name != "5x5-k5-L4" else 25)


def test_numpy_trainer_stops_like_the_table_loop():
    net = conv_stack(2, 3)
    c = tables.critical_constant(2)
    x = np.random.default_rng(0).standard_normal((1, 1, 2, 2))
    w = np.full((1, 3, 9), c)
    seen: list[int] = []
    res = train_chain_ensemble(
        net, w, x, optimizer="sgd", lr=0.1, target=1e-6, cap=10_000,
        callback=lambda i, v: seen.append(i),
    )  # fmt: skip
    loss, steps = res.losses[0], res.iterations[0]
    assert loss < 1e-6 and 0 < steps < 10_000
    assert seen == list(range(100, steps + 1, 100))
    again = train_chain_ensemble(net, w, x, optimizer="sgd", lr=0.1, target=1e-6, cap=5)
    members = ChainMembers(net, np.stack(again.weights), x.reshape(1, 1, 4).transpose(0, 2, 1),
                           optimizer="sgd", lr=0.1)  # fmt: skip
    assert (again.losses[0], again.iterations[0]) == (pytest.approx(members.losses()[0]), 5)


def test_numpy_trainer_rejects_bad_arguments():
    net = conv_stack(3, 4)
    x = np.zeros((1, 1, 3, 3))
    with pytest.raises(ValueError, match="optimizer"):
        train_chain_ensemble(net, np.zeros((1, 4, 9)), x, optimizer="rmsprop", lr=0.1,
                             target=0.0, cap=1)  # fmt: skip
    with pytest.raises(ValueError, match="net"):
        NumpyChain(conv_stack(3, 3, filters=2), 1)


def test_table2_row_numpy_trainer_matches_the_conv_loop(monkeypatch):
    """A Table 2 row trained by the numpy trainer and by torch on the conv model (the fast
    path switched off) ends with the same loss and spectrum."""
    spec = RowSpec(table=2, size=3, train_examples=2, layers=23, filters=1, params_printed=207,
                   filters_printed=1, bound_printed=9, skip=True, cap=30)  # fmt: skip
    cfg = tables.RunConfig(quick=True, seed=0, device="cpu", out=None, log=None)
    fast = tables.run_row(spec, cfg)
    import numerics._tablespec as tablespec

    monkeypatch.setattr(tablespec, "fast_supported", lambda net: False)
    plain = tables.run_row(spec, cfg)
    assert fast["fast_path"] and not plain["fast_path"]
    assert fast["iterations"] == plain["iterations"] == 30
    assert fast["loss"] == pytest.approx(plain["loss"], rel=1e-10)
    assert np.allclose(fast["spectrum"], plain["spectrum"], rtol=1e-9, atol=1e-12)


def test_fast_path_rejects_multi_filter():
    net = conv_stack(3, 3, filters=2)
    assert not fast_supported(net)
    with pytest.raises(ValueError, match="net"):
        NumpyChain(net, 1)


def _t1(layers: int, filters: int, params: int, printed: int, cap: int) -> RowSpec:
    return RowSpec(table=1, size=3, train_examples=2, layers=layers, filters=filters,
                   params_printed=params, filters_printed=printed, cap=cap)  # fmt: skip


def _t2(size: int, layers: int, params: int, bound: int, skip: bool, cap: int) -> RowSpec:
    return RowSpec(table=2, size=size, train_examples=1, layers=layers, filters=1,
                   params_printed=params, filters_printed=1, bound_printed=bound, skip=skip,
                   cap=cap)  # fmt: skip


def _tiny1(quick: bool) -> list[RowSpec]:
    return [_t1(2, 1, 27, 1, 60), _t1(5, 2, 7200, 16, 30)]


def _tiny2(quick: bool) -> list[RowSpec]:
    return [_t2(2, 3, 27, 2, False, 400), _t2(3, 23, 207, 9, True, 20)]


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

    def boom(*args):
        raise AssertionError("a finished row was recomputed")

    monkeypatch.setattr(_tablerun, "_run_members", boom)
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


RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results"


@pytest.mark.parametrize("name", ["table1", "table1-init", "table2"])
def test_stored_rows_read_back_through_the_schema(name):
    """Every row of docs/results (made before the rows were typed) loads through the one
    schema and writes back to the same JSON: field names and meanings are unchanged. A row
    stored before ``loss_normalization`` was recorded gains it as ``mean``, the only loss the
    trainer had then, and nothing else."""
    rows = json.loads((RESULTS / f"{name}.json").read_text())["rows"]
    assert rows
    for row in rows:
        want = {**row, "loss_normalization": row.get("loss_normalization", "mean")}
        assert tables.TableRow.from_json(row).to_json() == want


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("loss", -1.0, "finite number"),
        ("loss", float("nan"), "finite number"),
        ("iterations", 1.5, "integer"),
        ("verdict", "maybe", "one of"),
        ("reached", 1, "true or false"),
        ("nonsense", 1, "unknown field"),
        ("table", 3, "one of"),
    ],
)
def test_schema_refuses_a_bad_field_naming_it(field, value, why):
    from numerics import ExperimentError

    row = json.loads((RESULTS / "table2.json").read_text())["rows"][0]
    row[field] = value
    with pytest.raises(ExperimentError, match=why) as err:
        tables.TableRow.from_json(row)
    assert err.value.argument == "--resume"
    assert field in str(err.value) and row["key"] in str(err.value)
    del row[field]
    if field != "nonsense":
        with pytest.raises(ExperimentError, match="missing"):
            tables.TableRow.from_json(row)


def test_quick_table1_rows_are_named_by_what_they_run():
    specs = tables.table1_specs(quick=True)
    assert {s.filters for s in specs} == {1, 4, 16}
    for s in specs:
        assert s.key.split("-")[1] == f"F{s.filters}"
        assert s.init_reading == tables.QUICK_TABLE1_INIT
    full = tables.table1_specs(quick=False)
    assert all(s.key.split("-")[1] == f"F{s.filters_printed}" for s in full)
