"""Each symconv-backed check passes on the paper's claim and fails on a wrong variant."""

from __future__ import annotations

from math import ceil

import pytest

from proofs import Status
from proofs.audit import audit_tables, check_heuristic
from proofs.corollary_depth2 import check_depth2
from proofs.kernel_depth import check_depth_formula
from proofs.premise import check_single_layer
from proofs.section4 import check_downsampling_depth
from proofs.thm4 import check_all_sizes, check_depth_bound, check_filters_invariant, check_tight

SMALL = (2, 12)

CASES = [
    ("thm4.depth-bound", check_depth_bound, {"sizes": SMALL}, {"claimed": lambda s: s}),
    ("thm4.tight", check_tight, {"sizes": SMALL}, {"claimed": lambda s: s - 2}),
    ("thm4.filters-invariant", check_filters_invariant, {"sizes": (2, 5)}, {"claim": "grows"}),
    ("thm4.all-sizes", check_all_sizes, {}, {"claimed": lambda s: s - 2}),
    ("cor.depth2", check_depth2, {"max_size": 12}, {"min_size": 3}),
    ("premise.single-layer", check_single_layer, {"max_size": 12}, {"min_size": 2}),
    (
        "kernel.depth-formula",
        check_depth_formula,
        {"max_size": 20, "certify_up_to": 8},
        {"formula": lambda s, k: max(1, ceil((s - 1) / (k - 1)))},
    ),
    (
        "sec4.downsampling-depth",
        check_downsampling_depth,
        {"max_size": 16},
        {"claimed": lambda s: s - 1},
    ),
    ("tables.heuristic", check_heuristic, {"max_size": 12}, {"formula": lambda s: s**4 // 9}),
]


@pytest.mark.parametrize(("cid", "func", "small", "wrong"), CASES, ids=[c[0] for c in CASES])
def test_claim_passes(cid, func, small, wrong) -> None:
    result = func(quick=True, **small)
    assert result.status == Status.PASS, result.detail


@pytest.mark.parametrize(("cid", "func", "small", "wrong"), CASES, ids=[c[0] for c in CASES])
def test_wrong_variant_fails(cid, func, small, wrong) -> None:
    result = func(quick=True, **small, **wrong)
    assert result.status == Status.FAIL, result.detail
    assert result.data.get("counterexample"), result.data


def test_depth_bound_names_the_size_where_zeros_are_gone() -> None:
    result = check_depth_bound(sizes=(3, 6), claimed=lambda s: s)
    assert result.data["counterexample"]["size"] == 3
    # every one of the 4 sizes x 2 filter counts is a counterexample: sizes 3, 4, 5 and 6
    assert result.data["n_counterexamples"] == 4 * 2


def test_z3_timeout_is_unknown_not_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """An injected z3 ``unknown`` (a timeout) is reported as unknown, never as pass."""
    import proofs._z3 as z3h

    def timed_out(claim, **kw):
        return z3h.Verdict(Status.UNKNOWN, None, "z3: unknown (timeout)")

    monkeypatch.setattr(z3h, "prove", timed_out)
    result = check_all_sizes()
    assert result.status == Status.UNKNOWN
    assert "timeout" in result.detail
    verdict = z3h.Verdict(Status.UNKNOWN, None, "z3: unknown (timeout)")
    assert z3h.verdict_result(verdict, "x").status == Status.UNKNOWN


def test_audit_finds_the_table_typos() -> None:
    bad = {(r.table, r.row) for r in audit_tables() if not r.consistent}
    assert bad == {(1, 1), (1, 2), (1, 3), (2, 9)}
    row = next(r for r in audit_tables() if (r.table, r.row) == (1, 2))
    assert row.layers_from_params == 3
