"""Seed ensembles trained together follow each member's own unbatched trajectory."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import numerics._fastlinear as fastlinear
from numerics import EnsembleResult, tables, train_chain_ensemble, train_conv_ensemble
from numerics._nets import Init, build_model, single_thread, weights_of
from symconv import conv_stack


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny nets: more torch threads only spin against each other on a busy CPU."""
    with single_thread():
        yield


# (size, layers, skip every, images, optimizer, lr, target, cap, init spread)
CHAINS = {
    "2x2-L3-gd": (2, 3, 0, 1, "sgd", 0.1, 1e-4, 400, 0.05),
    "3x3-L4-skip2-gd": (3, 4, 2, 2, "sgd", 0.05, 2e-2, 300, 0.1),
    "4x4-L12-skip5-adam": (4, 12, 5, 1, "adam", 1e-3, 1e-2, 200, 0.3),
    "3x3-L10-3img-adam": (3, 10, 0, 3, "adam", 1e-3, 0.4, 250, 0.2),
}


def _chain_inputs(size, layers, skip, n, spread, members=4):
    net = conv_stack(size, layers, skip_every=skip)
    rng = np.random.default_rng(size * 100 + layers)
    c = tables.critical_constant(size) * (0.7 if skip else 1.0)
    w = c * (1 + spread * rng.standard_normal((members, layers, 9)))
    x = rng.standard_normal((members, n, size, size))
    return net, w, x


def _alone(net, w, x, **how):
    """Member by member: each seed trained on its own (an ensemble of one)."""
    res = [train_chain_ensemble(net, w[b : b + 1], x[b : b + 1], **how) for b in range(len(w))]
    return [(r.losses[0], r.iterations[0], r.weights[0]) for r in res]


@pytest.mark.parametrize("method", ["gather", "shift"])
@pytest.mark.parametrize("name", list(CHAINS))
def test_chain_ensemble_equals_member_by_member(name, method, monkeypatch):
    """Each member's final loss, step count and weights are those of its own run alone
    (1e-10 relative); members stop at different steps."""
    if method == "shift":  # the shifted sums, which large nets use
        monkeypatch.setattr(fastlinear, "GATHER_MAX", 0)
    size, layers, skip, n, opt, lr, target, cap, spread = CHAINS[name]
    net, w, x = _chain_inputs(size, layers, skip, n, spread)
    res = train_chain_ensemble(net, w, x, optimizer=opt, lr=lr, target=target, cap=cap)
    assert isinstance(res, EnsembleResult)
    assert res.losses.shape == (4,) and res.iterations.shape == (4,) and len(res.weights) == 4
    alone = _alone(net, w, x, optimizer=opt, lr=lr, target=target, cap=cap)
    for b, (loss, steps, weight) in enumerate(alone):
        assert res.iterations[b] == steps
        assert res.losses[b] == pytest.approx(loss, rel=1e-10)
        assert res.weights[b].shape == (layers, 9)
        assert np.max(np.abs(res.weights[b] - weight)) <= 1e-10 * np.max(np.abs(weight))
    assert len(set(res.iterations.tolist())) > 1, "members should stop at different steps"


def test_chain_ensemble_member_that_diverges_stops_alone():
    """A member whose loss overflows stops there; the others train on unchanged."""
    net, w, x = _chain_inputs(2, 3, 0, 1, 0.02, members=3)
    w[1] *= 2.0  # gradient descent at lr 0.1 blows up from this scale
    res = train_chain_ensemble(net, w, x, optimizer="sgd", lr=0.1, target=1e-6, cap=300)
    assert not np.isfinite(res.losses[1]) and res.iterations[1] < 300
    assert np.all(np.isfinite(res.losses[[0, 2]]))
    alone = _alone(net, w, x, optimizer="sgd", lr=0.1, target=1e-6, cap=300)
    for b in (0, 2):
        _, steps, weight = alone[b]
        assert res.iterations[b] == steps
        assert np.max(np.abs(res.weights[b] - weight)) <= 1e-10 * np.max(np.abs(weight))


def test_chain_ensemble_callback_and_arguments():
    net, w, x = _chain_inputs(2, 3, 0, 1, 0.05, members=2)
    seen: list[tuple[int, tuple[int, ...]]] = []
    res = train_chain_ensemble(
        net, w, x[:, :, None], optimizer="sgd", lr=0.01, target=0.0, cap=250,
        callback=lambda i, losses: seen.append((i, losses.shape)),
    )  # fmt: skip
    assert res.iterations.tolist() == [250, 250]
    assert seen == [(100, (2,)), (200, (2,))]
    with pytest.raises(ValueError, match="optimizer"):
        train_chain_ensemble(net, w, x, optimizer="rmsprop", lr=0.1, target=0.0, cap=1)
    with pytest.raises(ValueError, match="weights"):
        train_chain_ensemble(net, w[:, :2], x, optimizer="sgd", lr=0.1, target=0.0, cap=1)
    with pytest.raises(ValueError, match="x"):
        train_chain_ensemble(net, w, x[:1], optimizer="sgd", lr=0.1, target=0.0, cap=1)


# (conv layers, filters, skip every, optimizer, cap)
CONVS = {
    "L3-F1-gd": (3, 1, 0, "sgd", 150),
    "L5-F4-gd": (5, 4, 0, "sgd", 150),
    "L4-F2-skip2-gd": (4, 2, 2, "sgd", 120),
    "L3-F4-adam": (3, 4, 0, "adam", 60),
}


#: the torch backend's two layouts: grouped convolutions, and one graph per member
LAYOUTS = ["grouped", "models"]


def _plain_loop(model, x, *, optimizer, lr, target, cap):
    """The plain per-model torch loop: torch.optim on the conv model, the loss read before
    each step, stopped below ``target``, when not finite or after ``cap`` steps."""
    opt = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(model.parameters(), lr=lr)
    it = 0
    while True:
        opt.zero_grad(set_to_none=True)
        loss = torch.mean((model(x) - x) ** 2)
        value = float(loss.item())
        if value < target or not np.isfinite(value) or it >= cap:
            return value, it
        loss.backward()
        opt.step()
        it += 1


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", list(CONVS))
def test_conv_ensemble_equals_the_table_loop(name, layout):
    """train_conv_ensemble against the plain per-model torch loop member by member: same
    steps, losses and weights (1e-10), the models updated in place."""
    layers, filters, skip, opt, cap = CONVS[name]
    net = conv_stack(3, layers, filters=filters, skip_every=skip)
    init = Init("uniform", float(f"{0.9 / np.sqrt(3 * filters):.6g}"))

    def members() -> list:
        return [build_model(net, init=init, seed=s, dtype=torch.float64) for s in range(3)]

    xs = [
        torch.randn(2, 1, 3, 3, generator=torch.Generator().manual_seed(s), dtype=torch.float64)
        for s in range(3)
    ]
    models = members()
    how = {"optimizer": opt, "lr": tables.GD_LR if opt == "sgd" else tables.ADAM_LR,
           "target": tables.TARGET_LOSS, "cap": cap}  # fmt: skip
    res = train_conv_ensemble(models, xs, layout=layout, **how)
    for b, ref in enumerate(members()):
        loss, steps = _plain_loop(ref, xs[b], **how)
        assert res.iterations[b] == steps
        assert res.losses[b] == pytest.approx(loss, rel=1e-10)
        for got, mine, want in zip(
            res.weights[b], weights_of(models[b]), weights_of(ref), strict=True
        ):
            scale = np.max(np.abs(want))
            assert np.max(np.abs(got - want)) <= 1e-10 * scale
            assert np.max(np.abs(mine - want)) <= 1e-10 * scale


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", list(CONVS))
def test_a_seed_trains_to_the_same_bits_alone_and_in_any_batch(name, layout):
    """A member's steps, final loss and weights do not depend on the members batched with
    it, to the last bit: a row's seeds cut into groups (``--workers``) or another
    ``--seeds`` list give each seed exactly the result it has alone."""
    layers, filters, skip, opt, cap = CONVS[name]
    net = conv_stack(3, layers, filters=filters, skip_every=skip)
    init = Init("uniform", float(f"{0.9 / np.sqrt(3 * filters):.6g}"))
    xs = [
        torch.randn(2, 1, 3, 3, generator=torch.Generator().manual_seed(s), dtype=torch.float64)
        for s in range(4)
    ]
    how = {"optimizer": opt, "lr": tables.GD_LR if opt == "sgd" else tables.ADAM_LR,
           "target": tables.TARGET_LOSS, "cap": cap}  # fmt: skip

    def run(seeds: list[int]) -> EnsembleResult:
        models = [build_model(net, init=init, seed=s, dtype=torch.float64) for s in seeds]
        return train_conv_ensemble(models, [xs[s] for s in seeds], layout=layout, **how)

    batch = run([0, 1, 2, 3])
    for seeds in ([2], [1, 3], [3, 0, 2]):
        part = run(seeds)
        for i, s in enumerate(seeds):
            assert part.iterations[i] == batch.iterations[s]
            assert part.losses[i] == batch.losses[s]  # exactly
            for a, b in zip(part.weights[i], batch.weights[s], strict=True):
                np.testing.assert_array_equal(a, b)


def test_conv_ensemble_members_stop_independently():
    net = conv_stack(3, 5, filters=4)
    models = [build_model(net, init=Init("uniform", 0.3), seed=s, dtype=torch.float64)
              for s in range(4)]  # fmt: skip
    xs = [torch.randn(2, 1, 3, 3, dtype=torch.float64) for _ in range(4)]
    res = train_conv_ensemble(models, xs, optimizer="sgd", lr=0.1, target=1e-6, cap=400)
    assert len(set(res.iterations.tolist())) > 1
    assert all((v < 1e-6) == (i < 400) for v, i in zip(res.losses, res.iterations, strict=True))
    with pytest.raises(ValueError, match="xs"):
        train_conv_ensemble(models, xs[:2], optimizer="sgd", lr=0.1, target=1e-6, cap=1)


@pytest.mark.parametrize("loss", ["mean", "half-sum"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_both_torch_layouts_give_every_member_the_same_bits(optimizer, loss):
    """Grouped convolutions and one graph per member: the same steps, losses and weights
    to the last bit, with members stopping at different steps (the optimizer's state follows
    the members that go on), under both loss normalizations."""
    net = conv_stack(3, 3, filters=3, skip_every=2)
    init = Init("uniform", 0.45)
    xs = [
        torch.randn(2, 1, 3, 3, generator=torch.Generator().manual_seed(s), dtype=torch.float64)
        for s in range(4)
    ]
    lr = 0.05 if optimizer == "sgd" else 0.02
    target = {"mean": 0.05, "half-sum": 0.8}[loss]
    runs = {}
    for layout in LAYOUTS:
        models = [build_model(net, init=init, seed=s, dtype=torch.float64) for s in range(4)]
        runs[layout] = train_conv_ensemble(
            models, xs, optimizer=optimizer, lr=lr, target=target, cap=150, loss=loss,
            layout=layout,
        )  # fmt: skip
        # the models hold the trained weights, whichever layout trained them
        for want, got in zip(runs[layout].weights, models, strict=True):
            for a, b in zip(want, weights_of(got), strict=True):
                np.testing.assert_array_equal(a, b)
    grouped, separate = runs["grouped"], runs["models"]
    assert len(set(grouped.iterations.tolist())) > 1  # members stop at different steps
    assert 0 < grouped.iterations.min() and grouped.iterations.max() < 150
    np.testing.assert_array_equal(grouped.iterations, separate.iterations)
    np.testing.assert_array_equal(grouped.losses, separate.losses)
    for wg, ws in zip(grouped.weights, separate.weights, strict=True):
        for a, b in zip(wg, ws, strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("filters", "device", "expected"),
    [(64, "cpu", "ModelMembers"), (63, "cpu", "ConvMembers"), (16, "cpu", "ConvMembers")],
)
def test_auto_layout_trains_wide_nets_one_graph_per_member(filters, device, expected, monkeypatch):
    """``layout="auto"``: one graph per member on a CPU once a conv has WIDE_CONV = 64·64
    channel pairs (64 filters between two 64-channel layers), grouped below."""
    import numerics._torchtrain as trainer

    built = []
    for cls in ("ConvMembers", "ModelMembers"):
        real = getattr(trainer, cls)
        monkeypatch.setattr(
            trainer, cls, type(cls, (real,), {"__init__": _recording(real, built, cls)})
        )
    net = conv_stack(3, 3, filters=filters)
    models = [build_model(net, init=Init("uniform", 0.1), seed=s, dtype=torch.float64)
              for s in range(2)]  # fmt: skip
    xs = [torch.ones(1, 1, 3, 3, dtype=torch.float64)] * 2
    train_conv_ensemble(models, xs, optimizer="sgd", lr=0.1, target=0.0, cap=1, device=device)
    assert built == [expected]
    assert trainer.WIDE_CONV == 64 * 64
    convs = [m for m in models[0].modules() if isinstance(m, torch.nn.Conv2d)]
    assert trainer.auto_layout(convs, "cuda") == "grouped"  # a GPU runs grouped convs well
    layout = {"ModelMembers": "models", "ConvMembers": "grouped"}[expected]
    assert trainer.auto_layout(convs, "cpu") == layout
    with pytest.raises(ValueError, match="layout: expected auto, grouped or models"):
        train_conv_ensemble(models, xs, optimizer="sgd", lr=0.1, target=0.0, cap=1, layout="x")


def _recording(real, built, name):
    def init(self, *args, **kwargs):
        built.append(name)
        real.__init__(self, *args, **kwargs)

    return init


def test_fig8_kaiming_xavier_ratio_is_the_product_of_init_scales():
    """D2 + leaky ReLU without biases is positively homogeneous and both uniform inits
    scale the same draws, so ‖f_KU(x)‖/‖f_XU(x)‖ = Π_l √((fan_in + fan_out)/fan_in) for every
    seed and input reading (the reason no reading reaches the paper's ratio)."""
    from numerics.downsampling import d2_network
    from numerics.initialization import READINGS, Reading, init_output_norms

    net = d2_network(8, 2, depth=3)
    want = 1.0
    for layer in net.layers:
        if hasattr(layer, "kernel"):
            k2 = layer.kernel**2
            fan_in, fan_out = layer.in_channels * k2, layer.out_channels * k2
            want *= np.sqrt((fan_in + fan_out) / fan_in)
    x = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    for inp in ("unit", "255", "cifar"):
        reading = Reading(filters=2, depth=3, input=inp)
        norms = init_output_norms(reading, (0, 1), size=8, images=x)
        ratios = np.array(norms["kaiming_uniform"]) / np.array(norms["xavier_uniform"])
        assert np.allclose(ratios, want, rtol=1e-5)  # weights are drawn in float32
    assert READINGS["d2-f64"] == Reading()  # the default reading is unchanged


def test_fig8_unknown_reading_is_a_usage_error():
    from dataclasses import dataclass

    from numerics import ExperimentError, RunConfig, initialization

    @dataclass(frozen=True)
    class Cfg(RunConfig):
        reading: str = "d2-f7"

    with pytest.raises(ExperimentError, match="--reading"):
        list(initialization._rows(Cfg()))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_wide_torch_nets_train_in_chunks_with_the_same_bits(layout, monkeypatch):
    """On a CPU, torch members whose weights and gradients exceed CHUNK_BYTES train in
    chunks one after another, with the bits of one batch; on a GPU all train together."""
    import numerics._torchtrain as torchtrain

    net = conv_stack(3, 3, filters=3)
    xs = [
        torch.randn(2, 1, 3, 3, generator=torch.Generator().manual_seed(s), dtype=torch.float64)
        for s in range(5)
    ]
    how = {"optimizer": "adam", "lr": 0.02, "target": 0.05, "cap": 120, "layout": layout}

    def run() -> EnsembleResult:
        models = [build_model(net, init=Init("uniform", 0.45), seed=s, dtype=torch.float64)
                  for s in range(5)]  # fmt: skip
        return train_conv_ensemble(models, xs, **how)

    whole = run()
    weights = net.n_params  # 9 + 81 + 9 conv weights, float64: 16 bytes each with gradients
    assert torchtrain.conv_chunk(weights, 8, 5, "cpu") == 5
    monkeypatch.setattr(torchtrain, "CHUNK_BYTES", 2 * 16 * weights)
    assert torchtrain.conv_chunk(weights, 8, 5, "cpu") == 2
    assert torchtrain.conv_chunk(weights, 8, 5, "cuda") == 5
    assert torchtrain.conv_chunk(weights, 4, 5, "cpu") == 4  # float32: half the bytes
    parts = run()
    assert len(set(whole.iterations.tolist())) > 1
    np.testing.assert_array_equal(parts.iterations, whole.iterations)
    np.testing.assert_array_equal(parts.losses, whole.losses)
    for a, b in zip(parts.weights, whole.weights, strict=True):
        for u, v in zip(a, b, strict=True):
            np.testing.assert_array_equal(u, v)
    monkeypatch.setattr(torchtrain, "CHUNK_BYTES", 1)
    assert torchtrain.conv_chunk(weights, 8, 5, "cpu") == 1
