"""``symconv.two-paths`` path by path: each comparison, given a symconv that is wrong in one
place only, reports exactly that problem and nothing else; on the real symconv it reports
nothing. Together with ``tests/test_crosscheck.py`` (whole-check verdicts), these pin what
the check compares, with what weights, over which networks and sizes, and how it words it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

import symconv
from proofs import crosscheck as cc
from symconv import Conv2d, Network, Residual, Upsample

#: 2 channels, non-square, two 3×3 layers: in·out = 2·3·4 · 1·3·4 = 288 > 144 (no sympy)
BIG = Network((2, 3, 4), (Conv2d(2, 2, 3), Conv2d(2, 1, 3)))
#: in·out = 6 · 6 = 36 = 144 // 4: the largest for which the sympy polynomials are also built
SMALL = Network((1, 2, 3), (Conv2d(1, 1, 3),))


def _rng(seed: int = 5) -> np.random.Generator:
    return np.random.default_rng(seed)


def _differ(net: Network, seed: int = 5) -> int:
    """Entries in which the flipped-kernel matrix differs, with the weights the check draws."""
    ws = cc._weights(net, _rng(seed), -4, 5)
    return int((cc.direct_matrix(net, ws, flip=True) != cc.direct_matrix(net, ws)).sum())


def _off_by_one(real: Any) -> Any:
    """A wrong copy of a symconv matrix function: entry (0, 0) one too large."""

    def wrong(*args: Any, **kw: Any) -> Any:
        m = real(*args, **kw).tolil(copy=True)
        m[0, 0] = m[0, 0] + 1
        return m.tocsr()

    return wrong


# --------------------------------------------------------------------------------------------
# matrices


@pytest.mark.parametrize("net", [BIG, SMALL], ids=["big", "small"])
def test_the_real_symconv_has_no_matrix_problem(net: Network) -> None:
    assert cc._matrix_problems(net, _rng(), False) == []


def test_the_flipped_kernel_is_reported_by_every_matrix_path() -> None:
    """The convolution (wrong variant) against symconv's cross-correlation: the float matrix,
    the modular one, both sympy paths and the first layer's conv_matrix all differ."""
    got = cc._matrix_problems(SMALL, _rng(), True)
    assert got == [
        f"network_matrix differs in {_differ(SMALL)} entries",
        "network_matrix_mod differs from the direct matrix mod 10007",
        "network_matrix_symbolic (integer weights) differs from the direct matrix",
        "network_matrix_symbolic's polynomials, evaluated, differ",
        f"conv_matrix of {SMALL.layers[0]} differs from the cross-correlation",
    ]
    assert _differ(SMALL) > 1


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("network_matrix", "network_matrix differs in 1 entries"),
        ("network_matrix_mod", "network_matrix_mod differs from the direct matrix mod 10007"),
        ("conv_matrix", f"conv_matrix of {BIG.layers[0]} differs from the cross-correlation"),
    ],
    ids=["network_matrix", "network_matrix_mod", "conv_matrix"],
)
def test_one_wrong_matrix_function_is_the_one_problem(
    monkeypatch: pytest.MonkeyPatch, name: str, problem: str
) -> None:
    monkeypatch.setattr(symconv, name, _off_by_one(getattr(symconv, name)))
    assert cc._matrix_problems(BIG, _rng(), False) == [problem]


def test_a_wrong_float_matrix_stays_reported_beside_the_sympy_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(symconv, "network_matrix", _off_by_one(symconv.network_matrix))
    real = symconv.network_matrix_symbolic
    monkeypatch.setattr(symconv, "network_matrix_symbolic", lambda n, w=None: real(n, w) * 2)
    assert cc._matrix_problems(SMALL, _rng(), False) == [
        "network_matrix differs in 1 entries",
        "network_matrix_symbolic (integer weights) differs from the direct matrix",
        "network_matrix_symbolic's polynomials, evaluated, differ",
    ]


def test_a_wrong_output_shape_is_named_with_the_entries_index_arithmetic_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Network, "out_dim", property(lambda self: 7))
    assert cc._matrix_problems(BIG, _rng(), False) == [
        f"output shape {BIG.out_shape}, index arithmetic gives {1 * 3 * 4} entries"
    ]


def test_the_matrices_get_signed_integer_weights_in_minus_4_to_4_and_a_prime(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Signed weights, so that a sign slip shows; the modular path mod the prime 10007."""
    import sympy

    seen: dict[str, Any] = {}
    real_float, real_mod = symconv.network_matrix, symconv.network_matrix_mod

    def spy_float(net: Network, ws: list[np.ndarray]) -> Any:
        seen["float"] = ws
        return real_float(net, ws)

    def spy_mod(net: Network, ws: list[np.ndarray], prime: int) -> Any:
        seen["prime"] = prime
        return real_mod(net, ws, prime)

    monkeypatch.setattr(symconv, "network_matrix", spy_float)
    monkeypatch.setattr(symconv, "network_matrix_mod", spy_mod)
    net = Network((3, 5, 5), (Conv2d(3, 3, 5), Conv2d(3, 3, 5)))  # 450 weights
    assert cc._matrix_problems(net, _rng(), False) == []
    values = np.concatenate([w.ravel() for w in seen["float"]])
    assert values.dtype == np.float64 and set(values) == set(range(-4, 5))
    want = cc._weights(net, _rng(), -4, 5)
    assert all(np.array_equal(a, b) for a, b in zip(seen["float"], want, strict=True))
    assert seen["prime"] == 10_007 and sympy.isprime(seen["prime"])


NETS_SYMBOLIC = {
    "in-out-144": (Network((1, 12, 1), (Conv2d(1, 1, 1),)), True),
    "inner-64": (Network((1, 2, 2), (Conv2d(1, 16, 1), Conv2d(16, 1, 1))), True),
    "inner-65": (Network((1, 1, 1), (Conv2d(1, 65, 1), Conv2d(65, 1, 1))), False),
    "in-out-256": (Network((1, 4, 4), (Conv2d(1, 1, 1),)), False),
    "in-out-169": (Network((1, 13, 1), (Conv2d(1, 1, 1),)), False),
}


@pytest.mark.parametrize("name", list(NETS_SYMBOLIC))
def test_sympy_runs_exactly_on_networks_within_both_limits(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """At most 144 matrix entries and no intermediate shape above 64 values: sympy's exact
    product runs there, and only there (it is slow beyond)."""
    net, runs = NETS_SYMBOLIC[name]
    calls: list[Network] = []

    def spy(n: Network, ws: list[np.ndarray], want: np.ndarray) -> list[str]:
        calls.append(n)
        return []

    monkeypatch.setattr(cc, "_symbolic_problems", spy)
    assert cc._matrix_problems(net, _rng(), False) == []
    assert calls == ([net] if runs else [])


@pytest.mark.parametrize(
    ("net", "polynomials"),
    [(SMALL, True), (Network((1, 6, 1), (Conv2d(1, 1, 1),)), True),
     (Network((1, 7, 1), (Conv2d(1, 1, 1),)), False)],
    ids=["in-out-36-3x3", "in-out-36-1x1", "in-out-49"],
)  # fmt: skip
def test_the_polynomials_are_built_up_to_36_entries(
    monkeypatch: pytest.MonkeyPatch, net: Network, polynomials: bool
) -> None:
    calls: list[Network] = []
    real = symconv.symbolic_weights

    def spy(n: Network) -> list[np.ndarray]:
        calls.append(n)
        return real(n)

    monkeypatch.setattr(symconv, "symbolic_weights", spy)
    ws = cc._weights(net, _rng(), -4, 5)
    assert cc._symbolic_problems(net, ws, cc.direct_matrix(net, ws)) == []
    assert len(calls) == int(polynomials)


@pytest.mark.parametrize("which", ["integer weights", "polynomials"])
def test_each_sympy_path_is_reported_on_its_own(
    monkeypatch: pytest.MonkeyPatch, which: str
) -> None:
    real = symconv.network_matrix_symbolic

    def wrong(n: Network, w: Any = None) -> Any:
        m = real(n, w)
        return m + m.__class__.ones(*m.shape) if (w is None) == (which == "polynomials") else m

    monkeypatch.setattr(symconv, "network_matrix_symbolic", wrong)
    ws = cc._weights(SMALL, _rng(), -4, 5)
    want = {
        "integer weights": "network_matrix_symbolic (integer weights) differs from the direct "
        "matrix",
        "polynomials": "network_matrix_symbolic's polynomials, evaluated, differ",
    }[which]
    assert cc._symbolic_problems(SMALL, ws, cc.direct_matrix(SMALL, ws)) == [want]


@pytest.mark.parametrize("short", ["layers", "weights"])
def test_symbolic_weights_of_the_wrong_count_raise_not_truncate(
    monkeypatch: pytest.MonkeyPatch, short: str
) -> None:
    """A symconv that names one layer (or one weight) too few is a disagreement reported as
    raised, not a zip that silently drops the rest."""
    net = Network((1, 2, 2), (Conv2d(1, 1, 3), Conv2d(1, 1, 1)))
    real = symconv.symbolic_weights

    def fewer(n: Network) -> list[np.ndarray]:
        arrs = real(n)
        return arrs[:-1] if short == "layers" else [a.ravel()[:-1] for a in arrs]

    monkeypatch.setattr(symconv, "symbolic_weights", fewer)
    ws = cc._weights(net, _rng(), -4, 5)
    with pytest.raises(ValueError, match="zip"):
        cc._symbolic_problems(net, ws, cc.direct_matrix(net, ws))


# --------------------------------------------------------------------------------------------
# patterns

#: non-square, 2 → 3 channels, a stride: every factor differs from its swap
PATTERN_NET = Network((2, 3, 5), (Conv2d(2, 2, 3, stride=2), Conv2d(2, 3, 1)))
#: a skip connection: no Kronecker factors, the sparse product alone
SKIP_NET = Network((2, 3, 5), (Conv2d(2, 2, 3, stride=2), Residual((Conv2d(2, 2, 1),))))


def _support(net: Network, seed: int = 5) -> np.ndarray:
    return cc.direct_matrix(net, cc._weights(net, _rng(seed), 1, 4)) != 0


def test_the_real_symconv_has_no_pattern_problem() -> None:
    assert symconv.factored_pattern(SKIP_NET) is None
    for net in (PATTERN_NET, SKIP_NET, BIG, SMALL):
        assert cc._pattern_problems(net, _rng(), "rows-cols") == []


def test_the_swapped_factor_order_is_reported_with_its_counts() -> None:
    s = _support(PATTERN_NET)
    counts = (s.shape, int(s.sum()), int((~s).sum()), bool(s.all()))
    assert cc._pattern_problems(PATTERN_NET, _rng(), "cols-rows") == [
        f"factored pattern (shape, nonzeros, zeros, full) {counts} != {counts}"
    ]


def _flip_first(real: Any, when: Any) -> Any:
    def wrong(net: Network, **kw: Any) -> np.ndarray:
        out = np.array(real(net, **kw), copy=True)
        if when(kw):
            out[0, 0] = not out[0, 0]
        return out

    return wrong


@pytest.mark.parametrize(
    ("structured", "problem"),
    [
        (False, "the sparse boolean product differs from the positive-weight support"),
        (True, "network_pattern differs from the positive-weight support"),
    ],
    ids=["sparse-product", "structured"],
)
def test_each_pattern_path_is_reported_on_its_own(
    monkeypatch: pytest.MonkeyPatch, structured: bool, problem: str
) -> None:
    real = symconv.network_pattern
    wrong = _flip_first(real, lambda kw: kw.get("structured", True) == structured)
    monkeypatch.setattr(symconv, "network_pattern", wrong)
    assert cc._pattern_problems(PATTERN_NET, _rng(), "rows-cols") == [problem]


@pytest.mark.parametrize("net", [PATTERN_NET, Network((1, 3, 3), (Conv2d(),) * 2)],
                         ids=["not-full", "full"])  # fmt: skip
def test_a_wrong_pattern_is_full_is_named_with_its_answer(
    monkeypatch: pytest.MonkeyPatch, net: Network
) -> None:
    real = symconv.pattern_is_full
    monkeypatch.setattr(symconv, "pattern_is_full", lambda n: not real(n))
    full = bool(_support(net).all())
    assert cc._pattern_problems(net, _rng(), "rows-cols") == [f"pattern_is_full says {not full}"]


class _WrongPattern:
    """A FactoredPattern whose ``dense`` or ``entry`` is wrong; everything else delegated."""

    def __init__(self, real: symconv.FactoredPattern, part: str) -> None:
        self._real, self._part = real, part

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def dense(self) -> np.ndarray:
        d = self._real.dense()
        return ~d if self._part == "dense" else d

    def entry(self, i: int, j: int) -> bool:
        return (not self._real.entry(i, j)) if self._part == "entry" else self._real.entry(i, j)


@pytest.mark.parametrize(
    ("part", "problem"),
    [("dense", "FactoredPattern.dense differs from the support"),
     ("entry", "FactoredPattern.entry differs from the support")],
    ids=["dense", "entry"],
)  # fmt: skip
def test_a_wrong_dense_or_entry_is_the_one_problem(
    monkeypatch: pytest.MonkeyPatch, part: str, problem: str
) -> None:
    real = symconv.factored_pattern
    monkeypatch.setattr(symconv, "factored_pattern", lambda n: _WrongPattern(real(n), part))  # type: ignore[arg-type]
    assert cc._pattern_problems(PATTERN_NET, _rng(), "rows-cols") == [problem]


@pytest.mark.parametrize("fault", ["contradicted", "not-witnessed", "counts"])
def test_a_wrong_certificate_is_reported_with_its_description(
    monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    real = symconv.certify
    seen: list[symconv.Certificate] = []

    def wrong(net: Network) -> symconv.Certificate:
        c = real(net)
        change: dict[str, Any] = {
            "contradicted": {"contradicted": 1},
            "not-witnessed": {"witnessed": c.witnessed - 1},
            "counts": {"nonzeros": c.nonzeros + 1, "witnessed": c.witnessed + 1},
        }[fault]
        seen.append(dataclasses.replace(c, **change))
        return seen[-1]

    monkeypatch.setattr(symconv, "certify", wrong)
    got = cc._pattern_problems(PATTERN_NET, _rng(), "rows-cols")
    nz = int(_support(PATTERN_NET).sum())
    tail = "" if fault == "not-witnessed" else f" against {nz} nonzeros"
    assert got == [f"certificate {seen[0].describe()}{tail}"]


def test_a_certificate_that_says_not_certified_with_right_counts_is_a_problem(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every count right and every entry witnessed, yet not certified: still a problem."""
    real = symconv.certify

    class Uncertified:
        def __init__(self, c: symconv.Certificate) -> None:
            self._c = c

        def __getattr__(self, name: str) -> Any:
            return getattr(self._c, name)

        certified = False

        def describe(self) -> str:
            return "uncertified"

    monkeypatch.setattr(symconv, "certify", lambda n: Uncertified(real(n)))
    assert cc._pattern_problems(PATTERN_NET, _rng(), "rows-cols") == ["certificate uncertified"]


# --------------------------------------------------------------------------------------------
# guards, depth, the per-network records


def _boom(*_: Any) -> Any:
    raise ArithmeticError("boom")


def test_symconv_raising_is_reported_with_the_exception_type_and_message() -> None:
    assert cc._guarded(_boom, BIG, _rng(), False) == ["raised ArithmeticError: boom"]
    assert cc._caught(_boom) == [{"raised": "ArithmeticError: boom"}]


def test_the_real_depths_agree() -> None:
    assert cc._depth_problems(6) == []


def _wrong_depth(monkeypatch: pytest.MonkeyPatch, when: Any) -> None:
    real = symconv.min_full_depth

    def wrong(s: int, k: int, *, dilation: int = 1) -> int | None:
        d = real(s, k, dilation=dilation)
        return (7 if d is None else d + 1) if when(s, k, dilation) else d

    monkeypatch.setattr(symconv, "min_full_depth", wrong)


@pytest.mark.parametrize(
    ("when", "record"),
    [
        (lambda s, k, dil: (s, k, dil) == (1, 5, 2),
         {"kernel": 5, "dilation": 2, "size": 1, "computed": 2, "band_powers": 1,
          "depth_bound": 1}),
        (lambda s, k, dil: (s, k, dil) == (6, 3, 1),
         {"kernel": 3, "dilation": 1, "size": 6, "computed": 6, "band_powers": 5,
          "depth_bound": 5}),
        (lambda s, k, dil: (s, k, dil) == (4, 1, 1),
         {"kernel": 1, "dilation": 1, "size": 4, "computed": 7, "band_powers": None,
          "depth_bound": None}),
    ],
    ids=["size-1-dilation-2", "largest-size", "kernel-1"],
)  # fmt: skip
def test_one_wrong_depth_is_the_one_record(
    monkeypatch: pytest.MonkeyPatch, when: Any, record: dict[str, Any]
) -> None:
    _wrong_depth(monkeypatch, when)
    assert cc._depth_problems(6) == [record]


def test_the_depth_part_covers_kernels_1_3_5_dilations_1_2_and_sizes_1_to_max(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _wrong_depth(monkeypatch, lambda s, k, dil: True)
    got = cc._depth_problems(5)
    assert [(r["kernel"], r["dilation"], r["size"]) for r in got] == [
        (k, d, s) for k in (1, 3, 5) for d in (1, 2) for s in range(1, 6)
    ]


def test_a_wrong_depth_bound_formula_is_a_record(monkeypatch: pytest.MonkeyPatch) -> None:
    real = symconv.depth_bound
    monkeypatch.setattr(
        symconv,
        "depth_bound",
        lambda s, k=3: (real(s, k) or 0) + 1 if s == 5 and k == 3 else real(s, k),
    )
    assert cc._depth_problems(5) == [
        {"kernel": 3, "dilation": 1, "size": 5, "computed": 4, "band_powers": 4, "depth_bound": 5}
    ]


@pytest.mark.parametrize(
    ("size", "kernel", "dilation", "depth"),
    [(5, 3, 1, 4), (9, 5, 1, 4), (1, 1, 1, 1), (7, 3, 1, 6), (1, 3, 2, 1)],
)
def test_band_powers_find_the_depth_at_the_limit_and_not_before(
    size: int, kernel: int, dilation: int, depth: int
) -> None:
    assert cc.band_power_depth(size, kernel, dilation, depth) == depth
    assert cc.band_power_depth(size, kernel, dilation, depth - 1) is None
    assert cc.band_power_depth(size, kernel, dilation, depth + 3) == depth


def test_each_problem_record_names_its_network(monkeypatch: pytest.MonkeyPatch) -> None:
    nets = [BIG, PATTERN_NET]
    monkeypatch.setattr(symconv, "network_matrix", _off_by_one(symconv.network_matrix))
    real = symconv.pattern_is_full
    monkeypatch.setattr(symconv, "pattern_is_full", lambda n: not real(n))
    mats, pats = cc._network_problems(nets, 3, False, "rows-cols")
    where = [{"network": n, "in_shape": net.in_shape, "layers": repr(net.layers)}
             for n, net in enumerate(nets)]  # fmt: skip
    assert mats == [{**w, "problem": "network_matrix differs in 1 entries"} for w in where]
    assert pats == [{**w, "problem": "pattern_is_full says True"} for w in where]


def test_the_weights_are_drawn_from_the_check_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first network's matrix weights are the seed's first draw: a counterexample can be
    reproduced from the seed the check records."""
    seen = []
    real = symconv.network_matrix

    def spy(net: Network, ws: list[np.ndarray]) -> Any:
        seen.append(ws)
        return real(net, ws)

    monkeypatch.setattr(symconv, "network_matrix", spy)
    cc._network_problems([BIG], 11, False, "rows-cols")
    want = cc._weights(BIG, np.random.default_rng(11), -4, 5)
    assert all(np.array_equal(a, b) for a, b in zip(seen[0], want, strict=True))


# --------------------------------------------------------------------------------------------
# the independent construction itself, against torch


def _torch_conv(x: np.ndarray, w: np.ndarray, stride: int, pad: int, dil: int) -> np.ndarray:
    torch = pytest.importorskip("torch")
    out = torch.nn.functional.conv2d(
        torch.from_numpy(x), torch.from_numpy(np.ascontiguousarray(w)),
        stride=stride, padding=pad, dilation=dil,
    )  # fmt: skip
    return out.numpy()


@pytest.mark.parametrize(
    ("shape", "k", "stride", "pad", "dil"),
    [((2, 3, 5, 7), 3, 1, 1, 1), ((1, 2, 6, 4), 2, 2, 0, 1), ((1, 1, 7, 7), 3, 3, 2, 2),
     ((2, 3, 4, 6), 5, 1, 2, 1)],
    ids=["3x3-same", "2x2-stride2", "dilated-stride3", "5x5"],
)  # fmt: skip
def test_direct_conv_is_torchs_cross_correlation_and_flip_its_convolution(
    shape: tuple[int, int, int, int], k: int, stride: int, pad: int, dil: int
) -> None:
    rng = _rng(1)
    x = rng.integers(-5, 6, size=shape).astype(np.float64)
    w = rng.integers(-5, 6, size=(2, shape[1], k, k)).astype(np.float64)
    got = cc.direct_conv(x, w, stride, pad, dil)
    np.testing.assert_array_equal(got, _torch_conv(x, w, stride, pad, dil))
    flipped = cc.direct_conv(x, w, stride, pad, dil, flip=True)
    np.testing.assert_array_equal(flipped, _torch_conv(x, w[:, :, ::-1, ::-1], stride, pad, dil))


def test_direct_matrix_passes_the_flip_to_every_layer() -> None:
    net = Network((1, 4, 5), (Conv2d(1, 2, 3), Upsample(2), Residual((Conv2d(2, 2, 3),))))
    ws = cc._weights(net, _rng(2), -4, 5)
    flipped = [w[:, :, ::-1, ::-1] for w in ws]
    np.testing.assert_array_equal(
        cc.direct_matrix(net, ws, flip=True), cc.direct_matrix(net, flipped)
    )
    assert not np.array_equal(cc.direct_matrix(net, ws, flip=True), cc.direct_matrix(net, ws))


# --------------------------------------------------------------------------------------------
# the random networks


def test_random_networks_default_to_seed_0() -> None:
    assert cc.random_networks(9) == cc.random_networks(9, 0)
    assert cc.random_networks(9, 0) != cc.random_networks(9, 1)


def test_random_networks_draw_every_input_shape_in_range_and_stay_within_9x9() -> None:
    """Inputs of 1-3 channels and 1-7 rows and columns, each value drawn; no image in any
    network (input, between layers, output) larger than 9 in either direction."""
    nets = [n for seed in range(3) for n in cc.random_networks(120, seed)[len(cc._FIXED) :]]
    assert {n.in_shape[0] for n in nets} == {1, 2, 3}
    assert {n.in_shape[1] for n in nets} == set(range(1, 8))
    assert {n.in_shape[2] for n in nets} == set(range(1, 8))
    assert max(max(s[1:]) for n in nets for s in n.shapes) == 9
    assert {len(n.layers) for n in nets} == {1, 2, 3}
