"""Tests for proofs.thm4_symbolic: Theorem 4 on small sizes, with sympy and exact witnesses."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from proofs import Evidence, Status, _registry
from proofs.thm4_symbolic import check_symbolic, entry_polynomial, full_support_witness


def test_default_claim_passes() -> None:
    outcome = _registry.run(_registry.get("thm4.symbolic"), quick=True)
    assert outcome.result.status == Status.PASS, outcome.result.detail
    assert outcome.result.evidence == Evidence.EXACT
    rows = outcome.result.data["cases"]
    assert {(r["size"], r["filters"]) for r in rows} == {(3, 1), (4, 1), (4, 2)}
    assert all(r["entry_below"] == "0" for r in rows)


def test_claiming_depth_s_minus_2_fails_naming_the_corner() -> None:
    result = check_symbolic(sizes=(3, 4), filter_sizes=(), claimed_depth=lambda s: s - 2)
    assert result.status == Status.FAIL
    cex = result.data["counterexample"]
    assert (cex["size"], cex["depth"], cex["entry"]) == (3, 1, [0, 8])
    assert "M[0, 8]" in result.detail


def test_claiming_depth_s_fails_with_a_full_support_witness() -> None:
    result = check_symbolic(sizes=(3,), filter_sizes=(), claimed_depth=lambda s: s)
    assert result.status == Status.FAIL
    cex = result.data["counterexample"]
    assert cex["depth"] == 2
    ws = [np.array(w) for w in cex["witness"]]
    # re-check the witness independently: the 9x9 product of two layers has no zero entry
    from symconv import conv_stack, network_matrix

    m = network_matrix(conv_stack(3, 2), ws).toarray()
    assert np.all(np.rint(m) != 0)


@pytest.mark.parametrize("s", [3, 4, 5], ids=["s3", "s4", "s5"])
def test_corner_entry_is_a_single_path_at_depth_s_minus_1(s: int) -> None:
    # opposite corners are s-1 apart: exactly one path, moving diagonally every layer
    poly = entry_polynomial(s, s - 1, 0, s * s - 1)
    letters = "ABCDEFGH"[: s - 1]
    assert poly == sympy.Mul(*[sympy.Symbol(f"{c}9") for c in letters])
    assert entry_polynomial(s, s - 2, 0, s * s - 1) == 0


def test_entry_polynomial_agrees_with_symconv_product() -> None:
    from symconv import conv_stack, network_matrix_symbolic

    m = network_matrix_symbolic(conv_stack(3, 2))
    for i, j in [(0, 0), (0, 8), (4, 4), (2, 6), (7, 1)]:
        assert sympy.expand(m[i, j] - entry_polynomial(3, 2, i, j)) == 0


@pytest.mark.parametrize("filters", [1, 2], ids=["F1", "F2"])
def test_filters_do_not_remove_the_forced_zero(filters: int) -> None:
    assert entry_polynomial(4, 2, 0, 15, filters=filters) == 0
    assert entry_polynomial(4, 2, 15, 0, filters=filters) == 0
    assert entry_polynomial(4, 3, 0, 15, filters=filters) != 0


def test_full_support_witness_reports_always_zero_entries() -> None:
    ws, zeros = full_support_witness(3, 1, tries=2)
    assert ws is None
    assert (0, 8) in zeros and (8, 0) in zeros


def _max_norm_apart(size: int, depth: int) -> set[tuple[int, int]]:
    """The entries whose pixels are more than ``depth`` apart: the forced zeros at that depth."""
    return {
        (p, q)
        for p in range(size * size)
        for q in range(size * size)
        if max(abs(p // size - q // size), abs(p % size - q % size)) > depth
    }


def test_the_detail_states_each_size_with_its_numbers() -> None:
    result = check_symbolic(sizes=(2, 3), filter_sizes=())
    assert result.status == Status.PASS, result.detail
    assert result.detail == (
        "s=2, F=1: M[0, 3] (output pixel (0, 0) <- input pixel (1, 1)) = 0 at depth 0, "
        "all 16 entries nonzero at depth 1; "
        "s=3, F=1: M[0, 8] (output pixel (0, 0) <- input pixel (2, 2)) = 0 at depth 1, "
        "all 81 entries nonzero at depth 2."
    )
    # s = 2 too: the corner is computed at depth 0 (the identity), not only named
    assert [r["entry_below"] for r in result.data["cases"]] == ["0", "0"]


def test_a_claimed_depth_of_zero_fails_on_the_identity() -> None:
    result = check_symbolic(sizes=(2,), filter_sizes=(), claimed_depth=lambda s: s - 2)
    assert result.status == Status.FAIL
    assert result.data["counterexample"]["depth"] == 0
    assert "entry_below" not in result.data["cases"][0]  # no depth −1 to look at


def test_the_claimed_depth_s_minus_2_counterexample_in_full() -> None:
    result = check_symbolic(sizes=(3,), filter_sizes=(), claimed_depth=lambda s: s - 2)
    assert result.data["counterexample"] == {
        "size": 3,
        "filters": 1,
        "depth": 1,
        "entry": [0, 8],
        "reason": "s=3: at the claimed depth 1 the entry M[0, 8] (output pixel (0, 0) <- input "
        "pixel (2, 2)) is identically zero (a forced zero), so the claimed depth does not "
        "remove all forced zeros",
    }


def test_depth_s_with_filters_fails_naming_the_multi_filter_network() -> None:
    result = check_symbolic(sizes=(), filter_sizes=(3,), claimed_depth=lambda s: s, seed=4)
    assert result.status == Status.FAIL
    row = result.data["cases"][0]
    # at depth s − 1 = 2 the corner is joined by one path per hidden filter
    assert row["entry_below"] == "A9[1,1]*B9[1,1] + A9[2,1]*B9[1,2]"
    cex = result.data["counterexample"]
    assert (cex["size"], cex["filters"], cex["depth"]) == (3, 2, 2)
    assert cex["reason"] == (
        "s=3, F=2: depth 2 already has no forced zero (integer weights make all 81 entries "
        "nonzero), so fewer than the claimed 3 layers suffice for full support"
    )
    want, _ = full_support_witness(3, 2, filters=2, seed=4)
    assert want is not None
    assert cex["witness"] == [w.tolist() for w in want]  # the check's seed, the F-filter net


def test_the_seed_chooses_the_full_support_witness() -> None:
    result = check_symbolic(sizes=(3,), filter_sizes=(), seed=5)
    want, _ = full_support_witness(3, 2, seed=5)
    assert want is not None
    assert result.data["cases"][0]["witness"] == [w.tolist() for w in want]
    single = check_symbolic(sizes=(3,), filter_sizes=(), claimed_depth=lambda s: s, seed=5)
    assert single.data["counterexample"]["witness"] == [w.tolist() for w in want]
    assert single.data["counterexample"]["filters"] == 1
    assert single.data["cases"][0]["entry_below"] == "A9*B9"  # the corner's single path


def test_entry_polynomial_sums_one_path_per_filter() -> None:
    # opposite corners at depth s − 1: one diagonal path through each hidden filter
    poly = entry_polynomial(4, 3, 0, 15, filters=2)
    terms = sympy.Add.make_args(poly)
    assert len(terms) == 4  # 2 filters after layer 1 × 2 after layer 2
    assert all(sympy.Poly(t).total_degree() == 3 for t in terms)


def test_full_support_witness_draws_in_the_bound_reproducibly() -> None:
    ws, zeros = full_support_witness(4, 3, filters=3)
    assert ws is not None and zeros == []
    assert [w.shape for w in ws] == [(3, 1, 3, 3), (3, 3, 3, 3), (1, 3, 3, 3)]
    values = set(np.concatenate([w.ravel() for w in ws]).tolist())
    assert values == set(range(-9, 10))  # entries in [−bound, bound], all of them drawn
    again, _ = full_support_witness(4, 3, filters=3, seed=0)
    assert again is not None
    assert all(np.array_equal(a, b) for a, b in zip(ws, again, strict=True))
    small, _ = full_support_witness(3, 2, bound=3)
    assert small is not None
    assert set(np.concatenate([w.ravel() for w in small]).tolist()) <= set(range(-3, 4))
    single, _ = full_support_witness(3, 2)  # the default network has one filter
    assert single is not None and [w.shape for w in single] == [(1, 1, 3, 3)] * 2


def test_full_support_witness_returns_exactly_the_forced_zeros() -> None:
    """Zeros by chance (a weight drawn 0) differ between tries; only the forced ones stay."""
    for size, depth in [(3, 1), (4, 1), (4, 2)]:
        ws, zeros = full_support_witness(size, depth)
        assert ws is None
        assert set(zeros) == _max_norm_apart(size, depth)
        assert zeros == sorted(zeros)


def _failing_witness(monkeypatch: pytest.MonkeyPatch, at_depth: int, zeros: list) -> None:
    """``full_support_witness`` finding nothing at ``at_depth`` (a search that gave up)."""
    import proofs.thm4_symbolic as mod

    real = mod.full_support_witness

    def search(size: int, depth: int, **kw):
        return (None, list(zeros)) if depth == at_depth else real(size, depth, **kw)

    monkeypatch.setattr(mod, "full_support_witness", search)


def test_no_witness_below_the_claimed_depth_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    _failing_witness(monkeypatch, 2, [])
    result = check_symbolic(sizes=(3,), filter_sizes=(), claimed_depth=lambda s: s)
    assert result.status == Status.UNKNOWN
    assert result.detail == (
        "s=3: M[0, 8] (output pixel (0, 0) <- input pixel (2, 2)) is not zero at depth 2, "
        "and no full-support witness was found"
    )
    assert result.data["cases"][0]["undecided"] == result.detail


def test_no_witness_at_the_claimed_depth_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    """Entries that stayed zero but are nonzero polynomials are not a forced zero."""
    _failing_witness(monkeypatch, 2, [(0, 8), (4, 4)])
    result = check_symbolic(sizes=(3,), filter_sizes=())
    assert result.status == Status.UNKNOWN
    assert result.detail == (
        "s=3: no full-support witness at depth 2 and no forced zero found among the entries "
        "that stayed zero"
    )
    assert result.data["cases"][0]["undecided"] == result.detail
