"""Layer matrices equal the torch operations they stand for, and Appendix D symbol for symbol."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symconv import (
    Conv2d,
    Network,
    Residual,
    SymconvError,
    Upsample,
    conv_matrix,
    conv_stack,
    network_matrix,
    network_matrix_mod,
    network_matrix_symbolic,
    random_weights,
    stack_params,
    upsample_matrix,
)

torch = pytest.importorskip("torch")

APPENDIX_D = """
A5 A6 0 A8 A9 0 0 0 0
A4 A5 A6 A7 A8 A9 0 0 0
0 A4 A5 0 A7 A8 0 0 0
A2 A3 0 A5 A6 0 A8 A9 0
A1 A2 A3 A4 A5 A6 A7 A8 A9
0 A1 A2 0 A4 A5 0 A7 A8
0 0 0 A2 A3 0 A5 A6 0
0 0 0 A1 A2 A3 A4 A5 A6
0 0 0 0 A1 A2 0 A4 A5
"""


def test_appendix_d_symbol_for_symbol() -> None:
    m = network_matrix_symbolic(conv_stack(3, 1))
    got = [[str(m[i, j]) for j in range(9)] for i in range(9)]
    want = [line.split() for line in APPENDIX_D.strip().splitlines()]
    assert got == want


conv_configs = st.fixed_dictionaries(
    {
        "c_in": st.integers(1, 3),
        "c_out": st.integers(1, 3),
        "k": st.integers(1, 5),
        "stride": st.integers(1, 3),
        "padding": st.integers(0, 3),
        "dilation": st.integers(1, 2),
        "h": st.integers(1, 9),
        "w": st.integers(1, 9),
        "seed": st.integers(0, 2**16),
    }
)


@settings(max_examples=60, deadline=None)
@given(conv_configs)
def test_conv_matrix_equals_torch_conv2d(cfg: dict) -> None:
    layer = Conv2d(
        cfg["c_in"],
        cfg["c_out"],
        cfg["k"],
        stride=cfg["stride"],
        padding=cfg["padding"],
        dilation=cfg["dilation"],
    )
    shape = (cfg["c_in"], cfg["h"], cfg["w"])
    try:
        layer.out_shape(shape)
    except SymconvError:
        return  # kernel larger than the padded image: torch refuses too
    rng = np.random.default_rng(cfg["seed"])
    w = rng.standard_normal((cfg["c_out"], cfg["c_in"], cfg["k"], cfg["k"]))
    x = rng.standard_normal(shape)
    want = torch.nn.functional.conv2d(
        torch.from_numpy(x)[None],
        torch.from_numpy(w),
        stride=cfg["stride"],
        padding=cfg["padding"],
        dilation=cfg["dilation"],
    )[0].numpy()
    got = conv_matrix(w, shape, layer) @ x.reshape(-1)
    np.testing.assert_allclose(got, want.reshape(-1), rtol=1e-12, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 3), st.integers(1, 6), st.integers(1, 6), st.integers(1, 3))
def test_upsample_matrix_equals_torch_nearest(c: int, h: int, w: int, scale: int) -> None:
    x = np.random.default_rng(h * 31 + w).standard_normal((c, h, w))
    want = torch.nn.functional.interpolate(
        torch.from_numpy(x)[None], scale_factor=scale, mode="nearest"
    )[0].numpy()
    got = upsample_matrix((c, h, w), scale) @ x.reshape(-1)
    np.testing.assert_array_equal(got, want.reshape(-1))


@settings(max_examples=25, deadline=None)
@given(
    st.integers(2, 6), st.integers(1, 5), st.integers(1, 3), st.integers(0, 3), st.integers(0, 1000)
)
def test_network_matrix_equals_random_torch_network(size, depth, filters, skip, seed) -> None:
    from numerics._linalg import end_to_end_matrix
    from numerics._nets import build_model, weights_of

    net = conv_stack(size, depth, filters=filters, skip_every=skip)
    model = build_model(net, init="xavier_uniform", seed=seed, dtype=torch.float64)
    want = end_to_end_matrix(model, net.in_shape)
    got = network_matrix(net, weights_of(model)).toarray()
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_strided_upsampling_network_equals_torch() -> None:
    from numerics._linalg import end_to_end_matrix
    from numerics._nets import Init, build_model, weights_of

    net = Network(
        (3, 8, 8),
        (
            Conv2d(3, 4, 3, stride=2),
            Upsample(2),
            Residual((Conv2d(4, 4, 3),)),
            Conv2d(4, 3, 5, dilation=2),
        ),
    )
    model = build_model(net, init=Init("normal", 0.3), seed=3, dtype=torch.float64)
    np.testing.assert_allclose(
        network_matrix(net, weights_of(model)).toarray(),
        end_to_end_matrix(model, net.in_shape),
        atol=1e-12,
    )


def test_modular_matrix_equals_integer_matrix() -> None:
    net = conv_stack(4, 3, filters=2, skip_every=2)
    rng = np.random.default_rng(0)
    weights = [rng.integers(-5, 6, w.shape) for w in random_weights(net)]
    exact = network_matrix(net, [w.astype(float) for w in weights]).toarray()
    assert np.abs(exact).max() < 2**52  # exact in float64
    p = 1_000_003
    np.testing.assert_array_equal(
        network_matrix_mod(net, weights, p).toarray(), np.mod(exact.astype(np.int64), p)
    )


def test_symbolic_product_substitutes_to_numeric() -> None:
    import sympy

    net = conv_stack(3, 2, filters=2)
    m = network_matrix_symbolic(net)
    weights = random_weights(net, 1)
    from symconv import symbolic_weights

    subs = {}
    for sym, val in zip(symbolic_weights(net), weights, strict=True):
        subs.update({s: sympy.Float(v, 30) for s, v in zip(sym.ravel(), val.ravel(), strict=True)})
    got = np.array(m.subs(subs).evalf(), dtype=float)
    np.testing.assert_allclose(got, network_matrix(net, weights).toarray(), atol=1e-10)


@pytest.mark.parametrize(
    ("depth", "filters"), [(0, 1), (1, 1), (2, 16), (3, 16), (8, 128)], ids=lambda v: str(v)
)
def test_stack_params_counts_the_network(depth: int, filters: int) -> None:
    assert stack_params(depth, filters) == conv_stack(3, depth, filters=filters).n_params


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [({"kernel": 4}, "kernel"), ({"stride": 0}, "stride"), ({"in_channels": 0}, "in_channels")],
    ids=["even-kernel-same-padding", "zero-stride", "zero-channels"],
)
def test_bad_layer_arguments_name_themselves(kwargs: dict, argument: str) -> None:
    with pytest.raises(SymconvError) as info:
        Conv2d(**kwargs)
    assert info.value.argument == argument
    assert argument in str(info.value)


@given(
    n_in=st.integers(1, 12),
    n_out=st.integers(1, 12),
    p=st.integers(0, 6),
    stride=st.integers(1, 4),
    pad=st.integers(0, 5),
    dil=st.integers(1, 3),
)
def test_tap_slices_select_the_taps(n_in, n_out, p, stride, pad, dil):
    from symconv._matrices import tap_slices, taps_1d

    io, ii = taps_1d(n_in, n_out, p, stride, pad, dil)
    so, si = tap_slices(n_in, n_out, p, stride, pad, dil)
    assert np.array_equal(np.arange(n_out)[so], io)
    assert np.array_equal(np.arange(n_in)[si], ii)
