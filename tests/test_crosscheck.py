"""``symconv.two-paths``: a wrong symconv makes ``verify all`` fail, not only the tests.

Each mutation below is a realistic slip in symconv (the kernel flipped, a factor built from
the wrong axis, a count that drops a factor, an off-by-one tap); applied to the loaded
source, it must turn the check's verdict to ``fail``.
"""

from __future__ import annotations

import pytest

import symconv._depth
import symconv._layers
import symconv._matrices
import symconv._patterns
from proofs import Status
from proofs.crosscheck import check_two_paths, random_networks
from tests._mutate import mutate

MUTATIONS = [
    ("kernel-flip", symconv._matrices, "* k + p) * k + q", "* k + (k - 1 - p)) * k + (k - 1 - q)"),
    (
        "cols-from-height",
        symconv._patterns,
        "cols = np.eye(w, dtype=bool)",
        "cols = np.eye(h, dtype=bool)",
    ),
    (
        "full-ignores-cols",
        symconv._patterns,
        "self.rows.all() and self.cols.all()",
        "self.rows.all()",
    ),
    ("nonzeros-drop-channels", symconv._patterns, "int(self.channels.sum()) * int(", "int("),
    ("channels-all-not-any", symconv._patterns, "ch.any(axis=0", "ch.all(axis=0"),
    ("entry-rows-by-height", symconv._patterns, "orem // w2, irem // w]", "orem // w2, irem // h]"),
    (
        "tap-off-by-one",
        symconv._matrices,
        "i_in = i_out * stride - pad + p * dil",
        "i_in = i_out * stride - pad + p * dil + 1",
    ),
    (
        "slice-first-off-by-one",
        symconv._matrices,
        "first = max(0, -(-(pad - p * dil) // stride))",
        "first = max(0, -(-(pad - p * dil) // stride) + 1)",
    ),
    ("upsample-axis", symconv._matrices, "(ii // s) * w + (jj // s)", "(jj // s) * w + (ii // s)"),
    (
        "reach-one-narrower",
        symconv._depth,
        "np.arange(size) - layer.pad + kernel - 1,",
        "np.arange(size) - layer.pad + kernel - 2,",
    ),
    (
        "dilated-called-full",
        symconv._depth,
        "return 1 if size == 1 else None",
        "return 1 if size >= 1 else None",
    ),
    (
        "stride-ignored",
        symconv._layers,
        "m = (n + 2 * self.pad - span) // self.stride + 1",
        "m = (n + 2 * self.pad - span) + 1",
    ),
    ("skip-dropped", symconv._matrices, "mat = (mat + body).tocsr()", "mat = body.tocsr()"),
]


@pytest.fixture(autouse=True)
def _fresh_caches():
    """conv_entries and the taps are cached: clear them around each mutation."""
    from symconv._matrices import conv_entries, tap_slices, taps_1d, upsample_entries

    for f in (conv_entries, tap_slices, taps_1d, upsample_entries):
        f.cache_clear()
    yield
    for f in (conv_entries, tap_slices, taps_1d, upsample_entries):
        f.cache_clear()


def test_the_check_passes_on_symconv() -> None:
    result = check_two_paths(quick=True, networks=16, max_size=9)
    assert result.status == Status.PASS, result.detail
    assert result.data["networks"] == 16
    assert [p["status"] for p in result.data["parts"]] == ["pass"] * 4


@pytest.mark.parametrize(("name", "module", "old", "new"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_a_wrong_symconv_fails_the_check(
    monkeypatch: pytest.MonkeyPatch, name: str, module, old: str, new: str
) -> None:
    mutate(monkeypatch, module, old, new)
    result = check_two_paths(quick=True)
    assert result.status == Status.FAIL, f"{name}: {result.detail}"
    assert result.data["counterexample"]


#: What the check reports for each wrong symconv above: the first counterexample's problem
#: (or, for the depth part, its record), so that a check that fails for the wrong reason,
#: or names the wrong problem, fails this test.
REPORTED = {
    "kernel-flip": "network_matrix differs in 96 entries",
    "cols-from-height": "raised IndexError: index 1 is out of bounds for axis 0 with size 1",
    "full-ignores-cols": "pattern_is_full says True",
    "nonzeros-drop-channels": "factored pattern (shape, nonzeros, zeros, full) "
    "((75, 75), 361, 5264, False) != ((75, 75), 3249, 2376, False)",
    "channels-all-not-any": "network_pattern differs from the positive-weight support",
    "entry-rows-by-height": "raised IndexError: index 4 is out of bounds for axis 1 with size 2",
    "tap-off-by-one": "network_matrix differs in 101 entries",
    "slice-first-off-by-one": "network_pattern differs from the positive-weight support",
    "upsample-axis": "raised ValueError: axis 1 index 29 exceeds matrix dimension 24",
    "reach-one-narrower": {"kernel": 3, "dilation": 1, "size": 2, "computed": None,
                           "band_powers": 1, "depth_bound": 1},
    "dilated-called-full": {"kernel": 1, "dilation": 2, "size": 2, "computed": 1,
                            "band_powers": None, "depth_bound": None},
    "stride-ignored": "output shape (1, 8, 14), index arithmetic gives 32 entries",
    "skip-dropped": "network_matrix differs in 536 entries",
}  # fmt: skip


@pytest.mark.parametrize(("name", "module", "old", "new"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_a_wrong_symconv_is_reported_with_its_problem(
    monkeypatch: pytest.MonkeyPatch, name: str, module, old: str, new: str
) -> None:
    mutate(monkeypatch, module, old, new)
    cex = check_two_paths(quick=True).data["counterexample"]
    want = REPORTED[name]
    if isinstance(want, dict):
        assert cex == want
    elif want.startswith("raised "):  # numpy's wording of its errors may change; the type not
        assert cex["problem"].split(":")[0] == want.split(":")[0]
    else:
        assert cex["problem"] == want


def test_the_wrong_variants_fail_their_own_part() -> None:
    flip = check_two_paths(quick=True, convention="convolution")
    order = check_two_paths(quick=True, factor_order="cols-rows")
    assert [p["status"] for p in flip.data["parts"]] == ["fail", "pass", "pass", "pass"]
    assert [p["status"] for p in order.data["parts"]] == ["pass", "fail", "pass", "pass"]
    assert "convolution" in flip.detail and "cols-rows" not in order.detail


def test_random_networks_are_what_the_check_says() -> None:
    nets = random_networks(40)
    assert len(nets) == 40 and len(set(nets)) == 40
    assert sum(n.in_shape[1] != n.in_shape[2] for n in nets) >= 20  # non-square
    assert sum(n.in_shape[0] > 1 for n in nets) >= 15  # multi-channel
    kinds = {type(layer).__name__ for n in nets for layer in n.layers}
    assert kinds == {"Conv2d", "Upsample", "Residual"}
    assert any(getattr(layer, "stride", 1) > 1 for n in nets for layer in n.layers)
    assert any(getattr(layer, "dilation", 1) > 1 for n in nets for layer in n.layers)
    assert random_networks(7, seed=3) == random_networks(7, seed=3)


@pytest.mark.parametrize(
    ("name", "module", "old", "new"),
    [
        (
            "skip-block-off-by-one",
            symconv._layers,
            "convs[start : start + skip_every]",
            "convs[start : start + skip_every + 1]",
        ),
        (
            "hidden-width-channels",
            symconv._layers,
            "[filters] * (depth - 1)",
            "[channels] * (depth - 1)",
        ),
        ("message-dropped", symconv._layers, 'f"input has {c} channels"', '"wrong input"'),
        (
            "heuristic-name",
            symconv._depth,
            'check_positive_int("size", size)\n    check_positive_int("kernel", kernel)\n    ret',
            'check_positive_int("n", size)\n    check_positive_int("kernel", kernel)\n    ret',
        ),
    ],
    # the mutation's name alone: ids carrying the source snippets (quotes, newlines) are
    # node ids that pytest cannot select again
    ids=["skip-block-off-by-one", "hidden-width-channels", "message-dropped", "heuristic-name"],
)
def test_a_wrong_description_fails_the_check(
    monkeypatch: pytest.MonkeyPatch, name: str, module, old: str, new: str
) -> None:
    mutate(monkeypatch, module, old, new)
    result = check_two_paths(quick=True, networks=4, max_size=4)
    assert result.status == Status.FAIL, name
    assert result.data["parts"][3]["status"] == "fail"


def test_the_random_draws_cover_every_layer_the_check_names() -> None:
    """The drawn networks (after the fixed ones) have each kind of layer, and each range of
    its parameters: kernels 1-5 (even ones with explicit padding), 'same' and explicit
    padding on odd kernels, strides 1-3, dilations 1-2, 1-3 output channels, upsampling by
    2 and 3, skip connections around kernels 1, 3 and 5."""
    from proofs.crosscheck import _FIXED
    from symconv import Conv2d, Residual, Upsample

    drawn = random_networks(40)[len(_FIXED) :]
    layers = [layer for net in drawn for layer in net.layers]
    convs = [c for c in layers if isinstance(c, Conv2d)]
    assert {c.kernel for c in convs} == {1, 2, 3, 4, 5}
    assert {c.stride for c in convs} == {1, 2, 3}
    assert {c.dilation for c in convs} == {1, 2}
    assert {c.out_channels for c in convs} == {1, 2, 3}
    assert {c.padding for c in convs if c.kernel % 2 == 0} == {0, 1, 2}
    assert {c.padding for c in convs if c.kernel % 2 == 1} == {None, 0, 1, 2}
    assert {c.kernel for c in convs if c.padding is None} == {1, 3, 5}
    assert {u.scale for u in layers if isinstance(u, Upsample)} == {2, 3}
    assert {r.body[0].kernel for r in layers if isinstance(r, Residual)} == {1, 3, 5}


def test_every_drawn_layer_is_valid_and_in_its_range() -> None:
    """Only the image size can refuse a drawn layer (a kernel larger than the padded image):
    no draw is a zero stride, channel count or dilation, or an even kernel with 'same'
    padding, so a network keeps every layer it drew that fits. Upsampling is by 2 or 3,
    kernels are 1-5 (1, 3, 5 in skip connections), padding 'same' or 0-2."""
    import numpy as np

    from proofs.crosscheck import _layer, _random_spec

    rng = np.random.default_rng(0)
    specs = [_random_spec(rng, 1 + n % 3) for n in range(400)]
    for spec in specs:
        _layer(spec)  # raises SymconvError on an invalid layer
    ranges = {
        kind: sorted({(s[2:] if kind == "res" else s[1:]) for s in specs if s[0] == kind})
        for kind in ("up", "res")
    }
    assert ranges["up"] == [(2,), (3,)]
    assert {k for (k,) in ranges["res"]} == {1, 3, 5}
    convs = [s for s in specs if s[0] == "conv"]
    assert {s[3] for s in convs} == {1, 2, 3, 4, 5}
    assert {s[5] for s in convs} == {None, 0, 1, 2}
    assert ({s[2] for s in convs}, {s[4] for s in convs}, {s[6] for s in convs}) == (
        {1, 2, 3},
        {1, 2, 3},
        {1, 2},
    )
