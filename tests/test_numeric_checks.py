"""The numeric cross-checks pass on the paper's claims and fail on wrong variants."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from proofs import Evidence, Status, _registry, numeric_checks

IDS = ["numeric.fc-linear", "numeric.conv-full-rank", "numeric.deep-memorizes"]


@pytest.mark.parametrize("check_id", IDS)
def test_registered_numeric_and_passes(check_id):
    check = _registry.get(check_id)
    assert check.evidence == Evidence.NUMERIC
    assert "torch" in check.requires or check_id == "numeric.deep-memorizes"  # numpy only
    outcome = _registry.run(check, quick=True)
    assert outcome.result.status == Status.PASS, outcome.result.detail
    assert "toleran" in outcome.result.detail or "above" in outcome.result.detail


@pytest.mark.parametrize(
    ("func", "wrong"),
    [
        (numeric_checks.check_fc_linear, {"init_scale": 0.5}),
        (numeric_checks.check_fc_linear, {"tol": 0.0}),
        (numeric_checks.check_conv_full_rank, {"claimed_rank": 3}),
        (numeric_checks.check_conv_full_rank, {"size": 3, "claimed_rank": 1}),
        (numeric_checks.check_deep_memorizes, {"init_scale": 1.0}),
        (numeric_checks.check_deep_memorizes, {"depth": 1}),
    ],
    ids=[
        "fc-init-far-from-zero",
        "fc-zero-tolerance",
        "conv-rank-s2-minus-1",
        "conv-rank-1",
        "deep-init-far-from-zero",
        "deep-one-layer",
    ],
)
def test_wrong_variant_fails(func, wrong):
    result = func(**wrong)
    assert result.status == Status.FAIL, result.detail
