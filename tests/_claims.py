"""What the tests of the claim modules assert alike."""

from __future__ import annotations

from collections.abc import Callable

from proofs import Evidence, Result, Status


def assert_default_claim_passes(func: Callable[..., Result], evidence: Evidence) -> None:
    """The paper's claim (the check's defaults, quick sizes) passes at ``evidence``, with no
    counterexample."""
    result = func(quick=True)
    assert result.status == Status.PASS, result.detail
    assert result.evidence == evidence
    assert "counterexample" not in result.data
