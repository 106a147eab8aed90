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
