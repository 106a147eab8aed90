"""symconv on random non-square, multi-channel, strided networks, against an independent
construction (index arithmetic on padded arrays, ``proofs.crosscheck``) and torch.

A suite that builds only square single-channel stacks cannot tell ``eye(h)`` from ``eye(w)``
or the channel factor from all-ones; every property here draws shapes where they differ.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs.crosscheck import band_power_depth, direct_conv, direct_matrix
from symconv import (
    PRIME,
    Conv2d,
    Network,
    Residual,
    SymconvError,
    Upsample,
    certify,
    conv_matrix,
    conv_stack,
    depth_bound,
    factored_pattern,
    heuristic_depth,
    min_full_depth,
    min_full_depth_of,
    network_matrix,
    network_matrix_mod,
    network_matrix_symbolic,
    network_pattern,
    pattern_is_full,
    stack_params,
    upsample_matrix,
)


@st.composite
def conv_layers(draw: st.DrawFn, channels: int) -> Conv2d:
    k = draw(st.integers(1, 5))
    same = k % 2 == 1 and draw(st.booleans())
    return Conv2d(
        channels,
        draw(st.integers(1, 3)),
        k,
        stride=draw(st.integers(1, 3)),
        padding=None if same else draw(st.integers(0, 2)),
        dilation=draw(st.integers(1, 2)),
    )


@st.composite
def networks(draw: st.DrawFn, skips: bool = True, max_layers: int = 3) -> Network:
    """Non-square images (h != w), 1-3 channels, conv / upsample / skip layers."""
    c = draw(st.integers(1, 3))
    h = draw(st.integers(1, 7))
    w = draw(st.integers(1, 7).filter(lambda v: v != h))
    layers: list = []
    for _ in range(draw(st.integers(1, max_layers))):
        shape = Network((c, h, w), tuple(layers)).out_shape
        kind = draw(st.sampled_from(["conv", "conv", "up", "res"] if skips else ["conv", "up"]))
        if kind == "up":
            layer = Upsample(draw(st.integers(2, 3)))
        elif kind == "res":
            layer = Residual((Conv2d(shape[0], shape[0], draw(st.sampled_from([1, 3]))),))
        else:
            layer = draw(conv_layers(shape[0]))
        try:
            candidate = Network((c, h, w), (*layers, layer))
        except SymconvError:
            continue
        if max(candidate.out_shape[1:]) <= 10:
            layers.append(layer)
    if not layers:
        layers = [Conv2d(c, 2, 1)]
    return Network((c, h, w), tuple(layers))


def _int_weights(net: Network, seed: int, lo: int = -4, hi: int = 5) -> list[np.ndarray]:
    from proofs.crosscheck import _weights

    return _weights(net, np.random.default_rng(seed), lo, hi)


# --------------------------------------------------------------------------------------------
# matrices


@settings(max_examples=60)
@given(networks(), st.integers(0, 2**16))
def test_network_matrix_is_the_index_arithmetic_forward(net: Network, seed: int) -> None:
    ws = _int_weights(net, seed)
    want = direct_matrix(net, ws)
    got = network_matrix(net, [w.astype(float) for w in ws]).toarray()
    np.testing.assert_array_equal(got, want)
    assert got.shape == (net.out_dim, net.in_dim)


@settings(max_examples=40)
@given(networks(), st.integers(0, 2**16), st.sampled_from([7, 10_007, PRIME]))
def test_modular_matrix_is_the_forward_mod_p(net: Network, seed: int, prime: int) -> None:
    ws = _int_weights(net, seed, 0, 9)
    np.testing.assert_array_equal(
        network_matrix_mod(net, ws, prime).toarray(), direct_matrix(net, ws) % prime
    )


def test_modular_matrix_reduces_negative_weights_and_refuses_a_large_prime() -> None:
    net = Network((2, 3, 4), (Conv2d(2, 2, 3), Conv2d(2, 1, 3, stride=2)))
    ws = _int_weights(net, 3, -9, 0)
    np.testing.assert_array_equal(
        network_matrix_mod(net, ws, 11).toarray(), direct_matrix(net, ws) % 11
    )
    with pytest.raises(SymconvError, match="prime"):
        network_matrix_mod(net, ws, 2**26)
    network_matrix_mod(net, ws, 2**26 - 5)  # just below the limit is fine


def test_a_skip_block_is_reduced_mod_p_inside_and_stays_exact() -> None:
    """Weights near a prime near 2**25: a skip connection's body of three layers must reduce
    after each layer in int64 (unreduced, or in float64, its entries pass 2**63 or 2**53)."""
    import sympy

    prime = int(sympy.prevprime(2**25))
    net = Network((1, 3, 3), (Residual((Conv2d(),) * 3),))
    rng = np.random.default_rng(11)
    ws = [rng.integers(prime - 1000, prime, (1, 1, 3, 3), dtype=np.int64) for _ in range(3)]
    exact = np.array(network_matrix_symbolic(net, ws).tolist(), dtype=object) % prime
    np.testing.assert_array_equal(network_matrix_mod(net, ws, prime).toarray(), exact)


@settings(max_examples=60)
@given(st.data())
def test_conv_matrix_is_cross_correlation_not_convolution(data: st.DataObject) -> None:
    c = data.draw(st.integers(1, 3))
    h, w = data.draw(st.integers(2, 7)), data.draw(st.integers(2, 7))
    layer = data.draw(conv_layers(c))
    try:
        layer.out_shape((c, h, w))
    except SymconvError:
        return
    rng = np.random.default_rng(data.draw(st.integers(0, 999)))
    weight = rng.integers(-5, 6, (layer.out_channels, c, layer.kernel, layer.kernel))
    eye = np.eye(c * h * w, dtype=np.int64).reshape(-1, c, h, w)
    want = direct_conv(eye, weight, layer.stride, layer.pad, layer.dilation)
    got = conv_matrix(weight.astype(float), (c, h, w), layer).toarray()
    np.testing.assert_array_equal(got, want.reshape(c * h * w, -1).T)
    flipped = direct_conv(eye, weight, layer.stride, layer.pad, layer.dilation, flip=True)
    if not np.array_equal(weight, weight[:, :, ::-1, ::-1]):
        assert not np.array_equal(got, flipped.reshape(c * h * w, -1).T)


def test_conv_matrix_default_layer_is_same_padding_stride_1() -> None:
    weight = np.arange(2 * 3 * 9, dtype=float).reshape(2, 3, 3, 3)
    got = conv_matrix(weight, (3, 4, 5))
    assert got.shape == (2 * 4 * 5, 3 * 4 * 5)
    np.testing.assert_array_equal(
        got.toarray(), conv_matrix(weight, (3, 4, 5), Conv2d(3, 2, 3)).toarray()
    )
    with pytest.raises(SymconvError, match=r"weight\.shape"):
        conv_matrix(weight[0], (3, 4, 5))
    with pytest.raises(SymconvError, match=r"weight\.shape"):
        conv_matrix(weight[:, :, :2], (3, 4, 5))
    with pytest.raises(SymconvError, match="layer expects"):
        conv_matrix(weight, (3, 4, 5), Conv2d(3, 1, 3))


@pytest.mark.parametrize(("shape", "scale"), [((2, 2, 3), 2), ((1, 3, 1), 3), ((3, 1, 2), 1)])
def test_upsample_matrix_is_nearest_neighbour(shape: tuple[int, int, int], scale: int) -> None:
    x = np.arange(int(np.prod(shape))).reshape(shape)
    want = np.repeat(np.repeat(x, scale, axis=1), scale, axis=2)
    m = upsample_matrix(shape, scale, np.int64)
    assert m.dtype == np.int64
    assert m.shape == (want.size, x.size)
    np.testing.assert_array_equal(m @ x.reshape(-1), want.reshape(-1))


def test_network_matrix_counts_its_weights() -> None:
    net = Network((1, 3, 4), (Conv2d(1, 2, 3), Residual((Conv2d(2, 2, 3),))))
    with pytest.raises(SymconvError, match="2 conv layers"):
        network_matrix(net, _int_weights(net, 0)[:1])


@settings(max_examples=15)
@given(networks(max_layers=2), st.integers(0, 99))
def test_symbolic_matrix_substitutes_to_the_forward(net: Network, seed: int) -> None:
    if net.in_dim * net.out_dim > 900 or any(np.prod(s) ** 2 > 900 for s in net.shapes):
        return
    ws = _int_weights(net, seed)
    m = network_matrix_symbolic(net, [w.astype(object) for w in ws])
    got = np.array(m.tolist(), dtype=np.int64).reshape(net.out_dim, net.in_dim)
    np.testing.assert_array_equal(got, direct_matrix(net, ws))


def test_symbolic_names_and_size_limit() -> None:
    from symconv import layer_symbols, symbolic_weights

    net = Network((1, 2, 3), (Conv2d(1, 2, 1), Conv2d(2, 1, 3)))
    a, b = symbolic_weights(net)
    assert [str(s) for s in a.ravel()] == ["A1[1,1]", "A1[2,1]"]
    assert str(b[0, 1, 2, 0]) == "B7[1,2]"
    assert str(layer_symbols(Conv2d(), 30)[0, 0, 0, 1]) == "W31_2"
    assert str(layer_symbols(Conv2d(), 1, name="Q")[0, 0, 2, 2]) == "Q9"
    m = network_matrix_symbolic(Network((1, 1, 3), (Conv2d(1, 1, 3), Upsample(2))))
    assert (m.rows, m.cols) == (12, 3)
    assert str(m[0, 0]) == "A5"
    assert str(m[11, 2]) == "A5"
    with pytest.raises(SymconvError, match="4096"):
        network_matrix_symbolic(conv_stack(9, 1))
    with pytest.raises(SymconvError, match="4096"):  # an intermediate shape too large
        network_matrix_symbolic(Network((1, 2, 2), (Upsample(5), Conv2d(1, 1, 3, stride=5))))


# --------------------------------------------------------------------------------------------
# patterns


@settings(max_examples=80)
@given(networks(), st.integers(0, 2**16))
def test_pattern_is_the_positive_weight_support(net: Network, seed: int) -> None:
    """Positive weights cannot cancel: the support of that matrix is the pattern."""
    support = direct_matrix(net, _int_weights(net, seed, 1, 4)) != 0
    np.testing.assert_array_equal(network_pattern(net), support)
    np.testing.assert_array_equal(network_pattern(net, structured=False), support)
    assert pattern_is_full(net) == bool(support.all())


@settings(max_examples=80)
@given(networks(skips=False), st.integers(0, 2**16))
def test_factored_pattern_fields_equal_the_dense_support(net: Network, seed: int) -> None:
    f = factored_pattern(net)
    assert f is not None
    support = direct_matrix(net, _int_weights(net, seed, 1, 4)) != 0
    assert f.shape == support.shape == (net.out_dim, net.in_dim)
    assert f.nonzeros == int(support.sum())
    assert f.forced_zeros == int((~support).sum())
    assert f.full == bool(support.all())
    np.testing.assert_array_equal(f.dense(), support)
    rng = np.random.default_rng(seed)
    for i, j in zip(rng.integers(0, f.shape[0], 25), rng.integers(0, f.shape[1], 25), strict=True):
        assert f.entry(int(i), int(j)) == support[i, j]


@pytest.mark.parametrize(
    ("net", "nonzeros", "full"),
    [
        (Network((1, 2, 6), (Conv2d(1, 1, 3),) * 2), 4 * 24, False),
        (Network((1, 2, 6), (Conv2d(1, 1, 3),) * 5), 144, True),
        (Network((3, 5, 5), (Conv2d(3, 3, 3),)), 9 * 13 * 13, False),
        (Network((3, 5, 5), (Conv2d(3, 3, 3),) * 4), 9 * 625, True),
        (Network((2, 1, 4), (Conv2d(2, 3, 3, stride=2),)), 6 * 1 * 5, False),
    ],
    ids=["1x2x6-d2", "1x2x6-d5-full", "3x5x5-d1", "3x5x5-d4-full", "2x1x4-stride2"],
)
def test_factored_pattern_counts_by_hand(net: Network, nonzeros: int, full: bool) -> None:
    """The issue's shapes: 1×2×6 (rows ≠ cols) and 3×5×5 (channels ≠ 1)."""
    f = factored_pattern(net)
    assert f is not None
    assert (f.nonzeros, f.full, pattern_is_full(net)) == (nonzeros, full, full)
    assert f.forced_zeros == net.in_dim * net.out_dim - nonzeros


def test_factored_entry_reads_channels_rows_and_cols() -> None:
    """Entry (out, in) of a 2-channel 1×3 image: channel, row and column indices differ."""
    net = Network((2, 1, 3), (Conv2d(2, 2, 1),))  # 1×1 kernel: identity in space
    f = factored_pattern(net)
    assert f is not None
    assert f.entry(0, 3) and f.entry(4, 1)  # channel 0 ← channel 1, same pixel
    assert not f.entry(0, 4) and not f.entry(2, 0)
    assert f._spatial() == ((2, 1, 3), (2, 1, 3))
    wide = factored_pattern(Network((2, 1, 3), (Conv2d(2, 3, 1, stride=2),)))
    assert wide is not None and wide._spatial() == ((3, 1, 2), (2, 1, 3))


def test_pattern_is_full_reads_the_factors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Full or not is read off the three factors, never off the dense s⁴ matrix."""
    from symconv import FactoredPattern

    def refuse(self: FactoredPattern) -> None:
        raise AssertionError("the dense pattern was built")

    monkeypatch.setattr(FactoredPattern, "dense", refuse)
    assert pattern_is_full(conv_stack(64, 63)) is True
    assert pattern_is_full(conv_stack(64, 62, filters=3)) is False


def test_networks_without_skips_take_the_factored_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 4096×4096 pattern of a 64×64 stack must come from three small factors: the
    sparse product (an independent check, far slower) is only for skip connections."""
    import symconv._patterns as pat

    def refuse(*args: object, **kw: object) -> None:
        raise AssertionError("the sparse product was used")

    net = conv_stack(64, 20, filters=4)
    monkeypatch.setattr(pat, "_sparse_pattern", refuse)
    assert network_pattern(net).shape == (4096, 4096)
    assert pattern_is_full(net) is False
    with pytest.raises(AssertionError, match="sparse product"):
        network_pattern(net, structured=False)


def test_residual_network_has_no_factored_pattern() -> None:
    net = Network((1, 3, 4), (Residual((Conv2d(),)),))
    assert factored_pattern(net) is None
    assert pattern_is_full(net) is False
    assert pattern_is_full(Network((1, 2, 3), (Residual((Conv2d(), Conv2d())),))) is True


# --------------------------------------------------------------------------------------------
# certificates


@settings(max_examples=40)
@given(networks())
def test_certificate_counts_equal_the_support(net: Network) -> None:
    support = direct_matrix(net, _int_weights(net, 1, 1, 4)) != 0
    cert = certify(net)
    assert cert.certified and cert.contradicted == 0
    assert cert.witnessed == cert.nonzeros == int(support.sum())
    assert cert.forced_zeros == support.size - cert.nonzeros
    assert cert.method == ("kronecker" if factored_pattern(net) is not None else "sparse")
    assert cert.prime == PRIME and cert.tries == cert.seed + 1


def _hiding_pattern(monkeypatch: pytest.MonkeyPatch, sparse: bool) -> None:
    """A pattern bug: drop entry (0, last) from the pattern the certificate is given."""
    import symconv._certify as cert_mod
    from symconv import FactoredPattern

    real_f, real_p = cert_mod.factored_pattern, cert_mod.network_pattern

    def factored(net: Network) -> FactoredPattern | None:
        f = real_f(net)
        if f is None or sparse:
            return None
        cols = f.cols.copy()
        cols[0, -1] = False
        return FactoredPattern(f.channels, f.rows, cols)

    def dense(net: Network, **kw: object) -> np.ndarray:
        p = real_p(net, **kw).copy()
        p[0, -1] = False
        return p

    monkeypatch.setattr(cert_mod, "factored_pattern", factored)
    monkeypatch.setattr(cert_mod, "network_pattern", dense)


@pytest.mark.parametrize("sparse", [False, True], ids=["kronecker", "sparse"])
def test_a_pattern_hiding_real_nonzeros_is_contradicted(
    monkeypatch: pytest.MonkeyPatch, sparse: bool
) -> None:
    """The contradiction counter is the only guard against a pattern that hides nonzeros."""
    net = conv_stack(10, 9, filters=2)  # full: every hidden entry is a real nonzero
    _hiding_pattern(monkeypatch, sparse)
    cert = certify(net)
    assert cert.contradicted > 0
    assert not cert.certified
    assert cert.tries == 1  # a contradiction stops at once: no retry can repair a pattern bug
    assert f"{cert.contradicted} contradictions" in cert.describe()
    assert cert.witnessed == cert.nonzeros  # every entry it does claim is witnessed


def test_certificate_describes_itself() -> None:
    cert = certify(conv_stack(3, 1))
    assert cert.describe() == (
        f"certified: 49/49 nonzero entries witnessed by integer weights mod {PRIME} "
        "(seed 0, kronecker), 32 forced zeros, 0 contradictions"
    )
    sparse = certify(conv_stack(3, 2, skip_every=2))
    assert "(seed 0, sparse)" in sparse.describe() and sparse.describe().startswith("certified")
    failed = certify(conv_stack(6, 5), prime=2, tries=1)
    assert failed.describe().startswith(f"NOT certified: {failed.witnessed}/{failed.nonzeros} ")


def test_certificate_weights_are_the_seeded_draws() -> None:
    """The sparse certificate evaluates the network at ``default_rng([seed, try])`` weights
    in 1..p−1: replayed here, the witnessed count is the same, entry for entry."""
    net = conv_stack(4, 3, skip_every=3)
    for seed in (0, 1):
        cert = certify(net, prime=3, tries=1, seed=seed)
        rng = np.random.default_rng([seed, 0])
        ws = [rng.integers(1, 3, (1, 1, 3, 3)) for _ in range(3)]
        value = network_matrix_mod(net, ws, 3).toarray() != 0
        assert cert.witnessed == int((network_pattern(net) & value).sum())
    assert certify(net, prime=3, tries=1) == certify(net, prime=3, tries=1, seed=0)
    assert certify(net, prime=2).tries == 5  # all weights 1 mod 2: every try is used
    with pytest.raises(AssertionError):
        certify(net, tries=0)


def test_certificate_retries_until_witnessed() -> None:
    """Prime 3: some witness vanishes at the first try; later seeds succeed or stop at tries."""
    net = conv_stack(4, 3)
    first = certify(net, prime=3, tries=1)
    many = certify(net, prime=3, tries=40)
    assert not first.certified and first.tries == 1 and first.seed == 0
    assert many.tries <= 40
    assert many.certified == (many.witnessed == many.nonzeros)
    assert many.certified or many.tries == 40


def test_kronecker_mod_arithmetic_does_not_overflow() -> None:
    """Many channels and a long band: the chunked products must stay exact."""
    from symconv._certify import _matmul_mod

    rng = np.random.default_rng(0)
    a = rng.integers(0, PRIME, (3, 600), dtype=np.int64)
    b = rng.integers(0, PRIME, (600, 2), dtype=np.int64)
    want = (a.astype(object) @ b.astype(object)) % PRIME
    np.testing.assert_array_equal(_matmul_mod(a, b, PRIME), want.astype(np.int64))
    small = _matmul_mod(a[:, :2], b[:2], PRIME)
    np.testing.assert_array_equal(small, (a[:, :2].astype(object) @ b[:2].astype(object)) % PRIME)


def test_kronecker_axis_apply_is_exact_for_large_kernels() -> None:
    from symconv._certify import _axis_apply

    layer = Conv2d(1, 1, 9)
    rng = np.random.default_rng(1)
    taps = rng.integers(1, PRIME, 9, dtype=np.int64)
    mat = rng.integers(0, PRIME, (12, 5), dtype=np.int64)
    band = np.zeros((12, 12), dtype=object)
    for i in range(12):
        for p in range(9):
            j = i - 4 + p
            if 0 <= j < 12:
                band[i, j] = int(taps[p])
    want = (band @ mat.astype(object)) % PRIME
    np.testing.assert_array_equal(_axis_apply(layer, taps, mat, PRIME), want.astype(np.int64))


@pytest.mark.parametrize(
    "prime", [PRIME, 2_147_483_647, 3_000_000_019], ids=["2^25-prime", "2^31-1", "3e9-prime"]
)
def test_modular_products_reduce_often_enough_for_any_prime(prime: int) -> None:
    """With residues near 2**31 one product is near 2**62: the band and the matrix product
    must reduce after every term (a 2**25 prime may wait 4096 terms), never overflow."""
    from symconv._certify import _axis_apply, _matmul_mod

    rng = np.random.default_rng(5)
    layer = Conv2d(1, 1, 7)
    taps = rng.integers(prime - 1000, prime, 7, dtype=np.int64)
    mat = rng.integers(prime - 1000, prime, (9, 4), dtype=np.int64)
    band = np.zeros((9, 9), dtype=object)
    for i in range(9):
        for p in range(7):
            if 0 <= i - 3 + p < 9:
                band[i, i - 3 + p] = int(taps[p])
    want = (band @ mat.astype(object)) % prime
    np.testing.assert_array_equal(_axis_apply(layer, taps, mat, prime), want.astype(np.int64))
    a = rng.integers(prime - 1000, prime, (2, 4100), dtype=np.int64)
    b = rng.integers(prime - 1000, prime, (4100, 3), dtype=np.int64)
    want = (a.astype(object) @ b.astype(object)) % prime
    np.testing.assert_array_equal(_matmul_mod(a, b, prime), want.astype(np.int64))


def test_kronecker_values_are_exact_int64_with_many_channels() -> None:
    """64 channels: float arithmetic would round sums of 64 products near 2**50."""
    from symconv._certify import _kronecker_values

    net = Network((1, 2, 3), (Conv2d(1, 64, 1), Conv2d(64, 64, 3), Conv2d(64, 2, 1)))
    ch, rows, cols = _kronecker_values(net, np.random.default_rng(3), PRIME)
    assert ch.dtype == rows.dtype == cols.dtype == np.int64
    rng = np.random.default_rng(3)
    want = np.eye(1, dtype=object)
    for layer in net.layers:
        a = rng.integers(1, PRIME, (layer.out_channels, layer.in_channels), dtype=np.int64)
        rng.integers(1, PRIME, layer.kernel, dtype=np.int64)  # u and v, drawn in this order
        rng.integers(1, PRIME, layer.kernel, dtype=np.int64)
        want = (a.astype(object) @ want) % PRIME
    np.testing.assert_array_equal(ch, want.astype(np.int64))


def test_kronecker_values_refuse_a_skip_connection() -> None:
    from symconv._certify import _kronecker_values

    with pytest.raises(TypeError, match="Residual"):
        _kronecker_values(conv_stack(3, 2, skip_every=2), np.random.default_rng(0), PRIME)


# --------------------------------------------------------------------------------------------
# depth


@pytest.mark.parametrize("kernel", [1, 3, 5])
@pytest.mark.parametrize("dilation", [1, 2, 3])
def test_min_full_depth_equals_band_powers(kernel: int, dilation: int) -> None:
    for s in range(1, 15):
        want = band_power_depth(s, kernel, dilation, 4 * s)
        assert min_full_depth(s, kernel, dilation=dilation) == want, s
        if dilation == 1:
            assert depth_bound(s, kernel) == want


def test_dilated_stacks_never_fill_beyond_one_pixel() -> None:
    """Dilation d > 1 moves a pixel by multiples of d: other residues are never reached."""
    for dilation in (2, 3):
        assert min_full_depth(1, 3, dilation=dilation) == 1
        for s in range(2, 9):
            assert min_full_depth(s, 3, dilation=dilation) is None
            assert band_power_depth(s, 3, dilation, 4 * s) is None


def test_depth_bound_and_heuristic_by_hand() -> None:
    assert [depth_bound(s) for s in (1, 2, 3, 10)] == [1, 1, 2, 9]
    assert [depth_bound(s, 5) for s in (1, 2, 3, 4, 6)] == [1, 1, 1, 2, 3]
    assert depth_bound(1, 1) == 1 and depth_bound(2, 1) is None
    assert [heuristic_depth(s) for s in (1, 3, 4, 5)] == [1, 9, 29, 70]
    assert heuristic_depth(5, 5) == 25 and heuristic_depth(2, 1) == 16
    for bad in ((0,), (3, 0), (3, 4)):
        with pytest.raises(SymconvError):
            depth_bound(*bad)
    for bad, name in (((0,), "size"), ((3, 0), "kernel")):
        with pytest.raises(SymconvError) as info:
            heuristic_depth(*bad)
        assert info.value.argument == name
        with pytest.raises(SymconvError) as info:
            depth_bound(*bad)
        assert info.value.argument == name
    for kwargs, name in (
        ({"size": 5, "filters": 0}, "filters"),
        ({"size": 0}, "size"),
        ({"size": 5, "dilation": 0}, "dilation"),
        ({"size": 5, "kernel": 4}, "kernel"),
    ):
        with pytest.raises(SymconvError) as info:
            min_full_depth(**kwargs)
        assert info.value.argument == name
    with pytest.raises(SymconvError) as info:
        depth_bound(3, 4)
    assert str(info.value) == "kernel: 'same' padding (k-1)/2 needs an odd kernel size (got 4)"
    assert (info.value.argument, info.value.value) == ("kernel", 4)


@pytest.mark.parametrize("depth", [0, 1, 2, 3, 5])
@pytest.mark.parametrize(("filters", "kernel", "channels"), [(1, 3, 1), (4, 3, 1), (3, 5, 2)])
def test_stack_params_counts_conv_stack(
    depth: int, filters: int, kernel: int, channels: int
) -> None:
    net = conv_stack(6, depth, kernel=kernel, filters=filters, channels=channels)
    assert stack_params(depth, filters, kernel, channels) == net.n_params
    assert net.depth == depth and net.in_shape == net.out_shape == (channels, 6, 6)


def test_min_full_depth_of_finds_the_least_depth() -> None:
    def make(depth: int) -> Network:
        return Network((1, 1, 5), (Conv2d(),) * depth)

    assert min_full_depth_of(make, 10) == 4
    assert min_full_depth_of(make, 4) == 4  # the search includes max_depth itself
    assert min_full_depth_of(make, 3) is None
    assert min_full_depth_of(lambda d: Network((1, 1, 1), (Conv2d(),) * d), 3) == 0


def test_endpoint_walks_count_steps_and_stall() -> None:
    from symconv._depth import _steps

    assert _steps(np.array([0, 0, 1]), 2, 0) == 2
    assert _steps(np.array([0, 1, 1]), 2, 0) is None
    assert _steps(np.array([0, 1, 2]), 1, 1) == 0
    assert _steps(np.array([1, 2, 3, 3]), 0, 3) == 3  # the longest walk: len(f) - 1 steps
    assert _steps(np.array([2, 0, 1]), 0, 3) is None  # a cycle that misses the target ends


# --------------------------------------------------------------------------------------------
# layer descriptions


@settings(max_examples=80)
@given(
    st.integers(1, 12), st.integers(1, 6), st.integers(1, 3), st.integers(0, 3), st.integers(1, 3)
)
def test_out_len_is_torchs_formula(n: int, k: int, stride: int, pad: int, dil: int) -> None:
    layer = Conv2d(1, 1, k, stride=stride, padding=pad, dilation=dil)
    want = (n + 2 * pad - dil * (k - 1) - 1) // stride + 1
    if want < 1:
        with pytest.raises(SymconvError, match="too small"):
            layer.out_len(n)
    else:
        assert layer.out_len(n) == want
        assert layer.out_shape((1, n, n + 1)) == (1, want, layer.out_len(n + 1))


def test_same_padding_and_shapes() -> None:
    assert Conv2d(kernel=5, dilation=2).pad == 4
    assert Conv2d(kernel=1).pad == 0
    assert Conv2d(kernel=4, padding=1).pad == 1
    assert Conv2d(2, 3, 5).n_params == 150
    assert Upsample(3).out_shape((2, 1, 4)) == (2, 3, 12)
    assert Upsample().scale == 2 and Upsample.n_params == 0
    net = Network((2, 3, 4), (Conv2d(2, 5, 3, stride=2), Upsample(2), Residual((Conv2d(5, 5, 1),))))
    assert net.shapes == [(2, 3, 4), (5, 2, 2), (5, 4, 4), (5, 4, 4)]
    assert (net.in_dim, net.out_dim, net.depth, net.n_params) == (24, 80, 2, 90 + 25)
    assert Residual((Conv2d(5, 5, 1), Conv2d(5, 5, 3))).n_params == 25 + 225
    with pytest.raises(SymconvError, match="in_channels"):
        Conv2d(3, 1).out_shape((2, 4, 4))
    with pytest.raises(SymconvError, match="keep the input shape") as info:
        Network((1, 4, 4), (Residual((Conv2d(1, 2, 3),)),))
    assert (info.value.argument, info.value.value) == ("Residual.body", (2, 4, 4))
    with pytest.raises(SymconvError, match="keep the input shape"):
        Network((1, 4, 4), (Residual((Conv2d(1, 1, 3, stride=2),)),))


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: Conv2d(0, 1), "in_channels"),
        (lambda: Conv2d(1, 0), "out_channels"),
        (lambda: Conv2d(kernel=0), "kernel"),
        (lambda: Conv2d(stride=0), "stride"),
        (lambda: Conv2d(dilation=0), "dilation"),
        (lambda: Conv2d(kernel=2), "kernel"),
        (lambda: Conv2d(padding=-1), "padding"),
        (lambda: Upsample(0), "scale"),
        (lambda: Network((0, 3, 3), ()), "channels"),
        (lambda: Network((1, 0, 3), ()), "height"),
        (lambda: Network((1, 3, 0), ()), "width"),
        (lambda: conv_stack(0, 1), "size"),
        (lambda: conv_stack(3, -1), "depth"),
        (lambda: conv_stack(3, 1, filters=0), "filters"),
        (lambda: conv_stack(3, 1, skip_every=-1), "skip_every"),
    ],
)
def test_bad_layer_arguments_are_refused_by_name(make, argument: str) -> None:
    with pytest.raises(SymconvError) as info:
        make()
    assert info.value.argument == argument


def test_even_kernels_take_an_explicit_padding() -> None:
    assert Conv2d(kernel=2, padding=0).out_len(5) == 4
    assert Conv2d(kernel=4, padding=0, stride=2).out_len(9) == 3


@pytest.mark.parametrize(("depth", "skip"), [(4, 2), (5, 2), (3, 1), (6, 4), (3, 5)])
def test_conv_stack_skip_blocks(depth: int, skip: int) -> None:
    net = conv_stack(5, depth, filters=3, skip_every=skip)
    convs = []
    for start in range(0, depth, skip):
        block = net_block = [
            Conv2d(1 if i == 0 else 3, 1 if i == depth - 1 else 3, 3)
            for i in range(start, min(depth, start + skip))
        ]
        convs.append(
            Residual(tuple(net_block))
            if block[0].in_channels == block[-1].out_channels
            else tuple(block)
        )
    want: list = []
    for c in convs:
        want.extend([c] if isinstance(c, Residual) else c)
    assert list(net.layers) == want
    assert net.depth == depth


def test_conv_stack_channels_and_kernel() -> None:
    net = conv_stack(4, 3, kernel=5, filters=2, channels=3)
    chans = [(c.in_channels, c.out_channels, c.kernel) for c in net.layers]
    assert chans == [(3, 2, 5), (2, 2, 5), (2, 3, 5)]
    assert conv_stack(4, 1, channels=2).layers == (Conv2d(2, 2, 3),)
    assert conv_stack(4, 3).layers == (Conv2d(),) * 3  # one filter unless told
    assert conv_stack(4, 0).layers == () and conv_stack(4, 0).in_shape == (1, 4, 4)


@settings(max_examples=60)
@given(st.integers(1, 9), st.data())
def test_axis_pattern_is_the_one_axis_index_arithmetic(n: int, data: st.DataObject) -> None:
    """``T[i', i] = 1`` iff ``i = i'·t − pad + p·dil`` for a tap p; upsampling ``i = ⌊i'/s⌋``."""
    from symconv import axis_pattern

    if data.draw(st.booleans()):
        scale = data.draw(st.integers(1, 3))
        t = axis_pattern(Upsample(scale), n)
        want = np.zeros((n * scale, n), dtype=bool)
        for i_out in range(n * scale):
            want[i_out, i_out // scale] = True
    else:
        layer = data.draw(conv_layers(1))
        try:
            n_out = layer.out_len(n)
        except SymconvError:
            return
        t = axis_pattern(layer, n)
        want = np.zeros((n_out, n), dtype=bool)
        for i_out in range(n_out):
            for p in range(layer.kernel):
                i = i_out * layer.stride - layer.pad + p * layer.dilation
                if 0 <= i < n:
                    want[i_out, i] = True
    assert t.dtype == bool
    np.testing.assert_array_equal(t, want)


def test_random_weights_shapes_seed_and_scale() -> None:
    from symconv import random_weights

    net = Network((2, 4, 5), (Conv2d(2, 3, 3), Residual((Conv2d(3, 3, 1),)), Conv2d(3, 1, 5)))
    ws = random_weights(net, 7)
    assert [w.shape for w in ws] == [(3, 2, 3, 3), (3, 3, 1, 1), (1, 3, 5, 5)]
    rng = np.random.default_rng(7)
    for w in ws:
        np.testing.assert_array_equal(w, rng.standard_normal(w.shape))
    scaled = random_weights(net, np.random.default_rng(7), scale=0.5)
    for w, v in zip(ws, scaled, strict=True):
        np.testing.assert_array_equal(v, 0.5 * w)


def test_upsample_matrix_default_dtype_and_entries() -> None:
    m = upsample_matrix((1, 2, 1), 2)
    assert m.dtype == np.float64 and m.nnz == 8
    assert m.toarray().tolist() == [[1, 0], [1, 0], [1, 0], [1, 0], [0, 1], [0, 1], [0, 1], [0, 1]]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: Conv2d(kernel=2),
            "kernel: 'same' padding (k-1)/2 needs an odd kernel size (got 2)",
        ),
        (
            lambda: Conv2d(kernel=5, padding=0).out_len(2),
            "size: too small for kernel 5 with this padding (got 2)",
        ),
        (lambda: Conv2d(3, 1).out_shape((2, 4, 4)), "in_channels: input has 2 channels (got 3)"),
        (
            lambda: Network((1, 4, 4), (Residual((Conv2d(1, 2),)),)),
            "Residual.body: must keep the input shape (1, 4, 4) (got (2, 4, 4))",
        ),
        (
            lambda: conv_matrix(np.zeros((3, 3, 3)), (1, 3, 3)),
            "weight.shape: must be (out, in, k, k) (got (3, 3, 3))",
        ),
        (
            lambda: conv_matrix(np.zeros((1, 1, 3, 3)), (1, 3, 3), Conv2d(1, 2)),
            "weight.shape: layer expects (2, 1, 3, 3) (got (1, 1, 3, 3))",
        ),
        (
            lambda: network_matrix(conv_stack(3, 2), []),
            "weights: network has 2 conv layers (got 0)",
        ),
        (
            lambda: network_matrix_mod(conv_stack(3, 1), [np.ones((1, 1, 3, 3))], 2**26),
            "prime: must be in 2..2**26-1 for exact int64 arithmetic (got 67108864)",
        ),
        (
            lambda: network_matrix_mod(conv_stack(3, 1), [np.ones((1, 1, 3, 3))], 1),
            "prime: must be in 2..2**26-1 for exact int64 arithmetic (got 1)",
        ),
        (
            lambda: network_matrix_mod(conv_stack(3, 2), [np.ones((1, 1, 3, 3))], 101),
            "weights: network has 2 conv layers (got 1)",
        ),
        (
            lambda: network_matrix_symbolic(conv_stack(3, 2), [np.ones((1, 1, 3, 3))]),
            "weights: network has 2 conv layers (got 1)",
        ),
        (
            lambda: network_matrix_symbolic(conv_stack(9, 1)),
            "size: a dense symbolic matrix is limited to 4096 entries (got (1, 9, 9))",
        ),
    ],
    ids=[
        "even-kernel",
        "too-small",
        "channels",
        "residual",
        "weight-ndim",
        "weight-shape",
        "weights",
        "prime-too-large",
        "prime-too-small",
        "mod-weights",
        "symbolic-weights",
        "symbolic",
    ],
)
def test_refusals_say_what_and_why(make, message: str) -> None:
    with pytest.raises(SymconvError) as info:
        make()
    assert str(info.value) == message


def test_defaults_of_the_matrix_builders() -> None:
    """Seed 0, layer letter A, the layer read off a non-square weight's own shape."""
    from symconv import layer_symbols, random_weights

    net = Network((2, 3, 4), (Conv2d(2, 3, 5),))
    np.testing.assert_array_equal(random_weights(net)[0], random_weights(net, 0)[0])
    assert str(layer_symbols(Conv2d())[0, 0, 0, 0]) == "A1"
    assert str(layer_symbols(Conv2d(), 25)[0, 0, 0, 0]) == "Z1"
    assert str(layer_symbols(Conv2d(), 26)[0, 0, 0, 0]) == "W27_1"
    weight = np.arange(3 * 2 * 25, dtype=float).reshape(3, 2, 5, 5)
    got = conv_matrix(weight, (2, 3, 4)).toarray()
    np.testing.assert_array_equal(got, conv_matrix(weight, (2, 3, 4), Conv2d(2, 3, 5)).toarray())


def test_symbolic_matrix_of_two_layers_by_hand() -> None:
    """Two 1×1 layers on a 1×2 image: the product of the two weights on the diagonal."""
    m = network_matrix_symbolic(Network((1, 1, 2), (Conv2d(1, 1, 1), Conv2d(1, 1, 1))))
    assert [[str(v) for v in row] for row in m.tolist()] == [["A1*B1", "0"], ["0", "A1*B1"]]
    three = network_matrix_symbolic(Network((1, 1, 1), (Conv2d(1, 1, 1),) * 3))
    assert str(three[0, 0]) == "A1*B1*C1"  # each layer its own weights, in order
    mixed = network_matrix_symbolic(
        Network((1, 1, 3), (Conv2d(1, 1, 1), Conv2d(), Conv2d(1, 1, 1)))
    )
    assert str(mixed[1, 1]) == "A1*B5*C1"  # a 3×3 layer between two 1×1 layers
    up = network_matrix_symbolic(Network((1, 1, 2), (Upsample(2), Conv2d(1, 1, 1))))
    assert up.shape == (8, 2) and str(up[7, 1]) == "A1"  # a layer after an upsampling
    eight = network_matrix_symbolic(Network((1, 1, 64), (Conv2d(1, 1, 1),)))
    assert eight.shape == (64, 64)  # 64 entries per shape: 4096, the limit, is allowed
