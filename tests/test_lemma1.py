"""Tests for proofs.lemma1: a forced zero rules out memorizing an arbitrary input."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs import Evidence, Status, _registry
from proofs.lemma1 import check_conv_layer, check_forced_zero, projection


@pytest.mark.parametrize(
    ("check_id", "evidence"),
    [("lemma1.forced-zero", Evidence.PROOF), ("lemma1.conv-layer", Evidence.EXACT)],
    ids=["forced-zero", "conv-layer"],
)
def test_default_claim_passes(check_id: str, evidence: Evidence) -> None:
    outcome = _registry.run(_registry.get(check_id), quick=True)
    assert outcome.result.status == Status.PASS, outcome.result.detail
    assert outcome.result.evidence == evidence


def test_forced_zero_covers_every_entry() -> None:
    result = check_forced_zero(dims=(2, 3))
    assert result.data["entries"] == 4 + 9
    assert result.data["proved"] == 4 + 9 + 2  # per entry, plus the two any-d proofs


@pytest.mark.parametrize("pair", [(0, 0), (0, 1), (2, 1)], ids=["diagonal", "0-1", "2-1"])
def test_claiming_a_compatible_forced_zero_fails(pair: tuple[int, int]) -> None:
    result = check_forced_zero(dims=(3,), compatible=(pair,))
    assert result.status == Status.FAIL
    cex = result.data["counterexample"]
    assert tuple(cex["entry"]) == pair
    v = [Fraction(x) for x in cex["v"]]
    assert v[pair[0]] * v[pair[1]] != 0
    assert projection(v)[pair[0]][pair[1]] == Fraction(cex["projection_entry"]) != 0


def test_wrong_zero_set_fails_with_z3_counterexample() -> None:
    # claiming the (i, j) entry vanishes only when v_i = 0 (forgetting v_j = 0)
    result = check_forced_zero(dims=(2,), zero_set=lambda vi, vj: vi == 0)
    assert result.status == Status.FAIL
    model = result.data["counterexample"]["model"]
    assert model is not None and "p" in model


def test_claiming_memorization_for_all_v_fails() -> None:
    # the zero set "always true" says every v gives a zero entry: refuted by z3
    import z3

    result = check_forced_zero(dims=(2,), zero_set=lambda vi, vj: z3.BoolVal(True))
    assert result.status == Status.FAIL


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-20, 20), min_size=2, max_size=6).filter(any), st.data())
def test_projection_entry_formula(v: list[int], data: st.DataObject) -> None:
    d = len(v)
    i = data.draw(st.integers(0, d - 1), label="i")
    j = data.draw(st.integers(0, d - 1), label="j")
    p = projection(v)
    norm = sum(x * x for x in v)
    assert p[i][j] == Fraction(v[i] * v[j], norm)
    assert (p[i][j] == 0) == (v[i] == 0 or v[j] == 0)
    # p is the memorizing solution: p v = v
    assert [sum(p[r][c] * v[c] for c in range(d)) for r in range(d)] == v


def test_projection_rejects_zero_vector() -> None:
    with pytest.raises(ValueError, match="v: must be nonzero"):
        projection([0, 0, 0])


def test_conv_layer_fails_for_a_basis_image() -> None:
    # v = e_0: the projection e0 e0^T is zero wherever the layer is forced to be zero
    result = check_conv_layer(sizes=(3,), images={3: [1] + [0] * 8})
    assert result.status == Status.FAIL
    assert result.data["counterexample"]["forced_zeros"] == 32


def test_conv_layer_forced_zero_counts() -> None:
    result = check_conv_layer()
    counts = {c["size"]: c["forced_zeros"] for c in result.data["cases"]}
    # s^4 entries minus the nonzero taps: s=3 has 81 - 49, s=4 has 256 - 100
    assert counts == {3: 32, 4: 156}
