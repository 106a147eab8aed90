"""Forced-zero patterns: equal to random-weight supports, to sympy, and certified."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symconv import (
    PRIME,
    Conv2d,
    Network,
    Upsample,
    certify,
    conv_stack,
    depth_bound,
    factored_pattern,
    min_full_depth,
    min_full_depth_of,
    network_matrix,
    network_matrix_mod,
    network_matrix_symbolic,
    network_pattern,
    pattern_is_full,
    random_weights,
)

nets = st.builds(
    lambda size, depth, kernel, filters, skip: conv_stack(
        size, depth, kernel=kernel, filters=filters, skip_every=skip
    ),
    st.integers(1, 7),
    st.integers(0, 6),
    st.sampled_from([1, 3, 5]),
    st.integers(1, 3),
    st.integers(0, 3),
)


@settings(max_examples=60, deadline=None)
@given(nets, st.integers(0, 2**16))
def test_pattern_equals_support_of_random_weights(net: Network, seed: int) -> None:
    dense = network_matrix(net, random_weights(net, seed)).toarray()
    np.testing.assert_array_equal(network_pattern(net), dense != 0)


@settings(max_examples=40, deadline=None)
@given(nets)
def test_structured_and_unstructured_patterns_agree(net: Network) -> None:
    np.testing.assert_array_equal(network_pattern(net), network_pattern(net, structured=False))


@pytest.mark.parametrize(
    "net",
    [
        conv_stack(3, 1),
        conv_stack(3, 2),
        conv_stack(4, 2),
        conv_stack(4, 2, filters=2),
        Network((1, 4, 4), (Conv2d(1, 1, 3, stride=2), Upsample(2))),
    ],
    ids=["3x3-d1", "3x3-d2", "4x4-d2", "4x4-d2-F2", "4x4-stride2-up2"],
)
def test_pattern_equals_sympy_expansion(net: Network) -> None:
    m = network_matrix_symbolic(net)
    sym = np.array([[m[i, j] != 0 for j in range(m.cols)] for i in range(m.rows)])
    np.testing.assert_array_equal(network_pattern(net), sym)


def test_separable_witness_is_an_evaluation_of_the_network() -> None:
    """The Kronecker certificate evaluates the real network at separable integer weights."""
    from symconv._certify import _kronecker_values

    net = Network(
        (2, 6, 6), (Conv2d(2, 3, 3), Conv2d(3, 2, 3, stride=2), Upsample(2), Conv2d(2, 1, 5))
    )
    rng = np.random.default_rng(7)
    ch, rows, cols = _kronecker_values(net, np.random.default_rng(7), PRIME)
    # replay the same draws to build the explicit separable weights
    weights = []
    for layer in net.layers:
        if isinstance(layer, Conv2d):
            a = rng.integers(1, PRIME, (layer.out_channels, layer.in_channels), dtype=np.int64)
            u = rng.integers(1, PRIME, layer.kernel, dtype=np.int64)
            v = rng.integers(1, PRIME, layer.kernel, dtype=np.int64)
            uv = (u[:, None] * v[None, :]) % PRIME
            weights.append((a[:, :, None, None] * uv[None, None]) % PRIME)
    direct = network_matrix_mod(net, weights, PRIME).toarray()
    # products of residues below 2**25 stay below 2**50: reduce after each Kronecker step
    kron = np.kron(ch, np.kron(rows, cols) % PRIME) % PRIME
    np.testing.assert_array_equal(direct, kron)


@pytest.mark.parametrize(
    "net",
    [conv_stack(6, 4, filters=3), conv_stack(5, 4, skip_every=2), conv_stack(32, 31, filters=8)],
    ids=["kronecker", "sparse-skip", "32x32-d31-F8"],
)
def test_certificate_witnesses_every_nonzero(net: Network) -> None:
    cert = certify(net)
    assert cert.certified
    assert cert.witnessed == cert.nonzeros == net.in_dim * net.out_dim - cert.forced_zeros


def test_certificate_reports_an_unwitnessed_entry() -> None:
    """With a tiny prime every witness can vanish: the certificate must say 'not certified'."""
    cert = certify(conv_stack(6, 5), prime=2, tries=1)
    assert not cert.certified
    assert "NOT certified" in cert.describe()


@pytest.mark.parametrize("kernel", [1, 3, 5, 7])
def test_min_full_depth_matches_brute_force_and_formula(kernel: int) -> None:
    for s in range(1, 16):
        brute = next(
            (d for d in range(1, 4 * s + 1) if pattern_is_full(conv_stack(s, d, kernel=kernel))),
            None,
        )
        assert min_full_depth(s, kernel) == brute == depth_bound(s, kernel)


def test_filters_do_not_change_min_depth() -> None:
    assert {min_full_depth(9, filters=f) for f in (1, 2, 64)} == {8}


def test_dilation_never_reaches_full_support() -> None:
    assert min_full_depth(10, 3, dilation=2) is None


def test_min_full_depth_of_downsampling_family() -> None:
    def make(depth: int) -> Network:
        convs = tuple(Conv2d() for _ in range(depth))
        return Network((1, 8, 8), (Conv2d(1, 1, 3, stride=2), *convs, Upsample(2)))

    assert min_full_depth_of(make, 10) == 3


def test_factored_entry_matches_dense() -> None:
    f = factored_pattern(conv_stack(5, 2, filters=2))
    assert f is not None
    dense = f.dense()
    assert all(f.entry(i, j) == dense[i, j] for i in range(25) for j in range(25))
