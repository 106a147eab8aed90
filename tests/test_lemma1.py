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


def test_forced_zero_reports_what_it_proved() -> None:
    result = check_forced_zero(dims=(2, 3))
    assert result.status == Status.PASS
    assert result.detail == (
        "for d in [2, 3] and all 13 entries (i, j): z3 found v with a nonzero projection entry "
        "(re-checked exactly); and z3 proved, for every d (writing |v|^2 = v_i^2 + v_j^2 + r "
        "with r >= 0) and for each listed d entry by entry, that the entry vanishes only when "
        "v_i = 0 or v_j = 0: a forced zero allows memorizing only a measure-zero set of v."
    )
    assert result.data["dims"] == [2, 3]
    witnesses = result.data["witnesses"]  # the first 8 of the 13, in (d, i, j) order
    assert [(w["d"], tuple(w["entry"])) for w in witnesses] == [
        (2, (0, 0)), (2, (0, 1)), (2, (1, 0)), (2, (1, 1)),
        (3, (0, 0)), (3, (0, 1)), (3, (0, 2)), (3, (1, 0)),
    ]  # fmt: skip


def test_wrong_zero_set_names_the_entry_and_the_model() -> None:
    result = check_forced_zero(dims=(2,), zero_set=lambda vi, vj: vi == 0)
    cex = result.data["counterexample"]
    reason = f"the claimed zero set of the (i, j) entry is wrong; z3 counterexample {cex['model']}"
    assert cex == {"d": 2, "entry": [0, 1], "model": cex["model"], "reason": reason}
    assert result.detail == f"d=2, entry (0, 1): {reason}."
    # (0, 1), (1, 0) and the any-d step for i != j
    assert result.data["n_counterexamples"] == 3


def _fake_search(monkeypatch: pytest.MonkeyPatch, search: object) -> None:
    """z3's search for v with v_i v_j != 0 answers ``search`` for every entry."""
    import proofs.lemma1

    monkeypatch.setattr(proofs.lemma1, "find_model", lambda *constraints: search)


def test_witness_entries_are_recomputed_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    from proofs._z3 import Search

    _fake_search(monkeypatch, Search(True, {"v0": "2", "v1": "3"}))
    result = check_forced_zero(dims=(2,))
    assert result.status == Status.PASS
    # (v v^T / v^T v)_ij = v_i v_j / 13 for v = (2, 3)
    assert result.data["witnesses"] == [
        {"d": 2, "entry": [i, j], "v": ["2", "3"], "projection_entry": entry}
        for (i, j), entry in zip(
            [(0, 0), (0, 1), (1, 0), (1, 1)], ["4/13", "6/13", "6/13", "9/13"], strict=True
        )
    ]
    wrong = check_forced_zero(dims=(2,), compatible=((0, 1),))
    reason = (
        "the projection for v = ['2', '3'] has (i, j) entry 6/13, not 0: a forced zero at "
        "(0, 1) is incompatible with memorizing this v"
    )
    assert wrong.data["counterexample"]["reason"] == reason
    assert wrong.detail == f"d=2, entry (0, 1): {reason}."


def test_a_model_on_a_hyperplane_is_no_witness(monkeypatch: pytest.MonkeyPatch) -> None:
    """A solver model with v_i v_j = 0 gives a zero entry: the exact re-check refuses it."""
    from proofs._z3 import Search

    _fake_search(monkeypatch, Search(True, {"v0": "0", "v1": "1"}))
    result = check_forced_zero(dims=(2,))
    assert result.status == Status.FAIL
    assert result.data["counterexample"]["entry"] == [0, 0]
    assert result.data["n_counterexamples"] == 3  # (0, 0), (0, 1), (1, 0); (1, 1) is 1


def test_no_v_with_a_nonzero_entry_fails_every_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    from proofs._z3 import Search

    _fake_search(monkeypatch, Search(False))
    result = check_forced_zero(dims=(2,))
    assert result.status == Status.FAIL
    assert result.data["counterexample"] == {
        "d": 2, "entry": [0, 0], "reason": "d=2, (0,0): no v with v_i v_j != 0"
    }  # fmt: skip
    assert result.data["n_counterexamples"] == 4
    assert result.data["proved"] == 2  # (b) is not tried without a witness; the any-d steps are


def test_an_undecided_search_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    from proofs._z3 import Search

    _fake_search(monkeypatch, Search(None))
    result = check_forced_zero(dims=(2,))
    assert result.status == Status.UNKNOWN
    assert result.data["undecided"] == [
        f"undecided: d=2, ({i},{j}): no v with v_i v_j != 0 (z3 could not decide)"
        for i, j in [(0, 0), (0, 1), (1, 0), (1, 1)]
    ]
    assert result.detail == result.data["undecided"][0]


def test_an_undecided_zero_set_proof_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    import proofs.lemma1
    from proofs import Result

    monkeypatch.setattr(
        proofs.lemma1,
        "prove_claim",
        lambda claim, what: Result.verdict(None, Evidence.PROOF, f"undecided: {what}"),
    )
    result = check_forced_zero(dims=(2,))
    assert result.status == Status.UNKNOWN
    assert result.data["proved"] == 0
    assert result.data["undecided"] == [
        "undecided: d=2, (0,0)", "undecided: d=2, (0,1)", "undecided: d=2, (1,0)",
        "undecided: d=2, (1,1)", "undecided: any d, i != j", "undecided: any d, i == j",
    ]  # fmt: skip
    assert result.detail == "undecided: d=2, (0,0)"
