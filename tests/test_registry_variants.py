"""Every registered check passes on the paper's claim and fails on each declared wrong variant.

The test iterates the registry: a new check registered without a wrong variant fails here.
"""

from __future__ import annotations

import importlib.util

import pytest

from proofs import Status, _registry

CHECKS = _registry.load_all()
IDS = [c.id for c in CHECKS]


def _runnable(check: _registry.Check) -> None:
    missing = [m for m in check.requires if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")


@pytest.mark.parametrize("check", CHECKS, ids=IDS)
def test_every_check_declares_a_wrong_variant(check: _registry.Check) -> None:
    assert check.wrong, f"{check.id} registers no wrong variant of its claim"


@pytest.mark.parametrize("check", CHECKS, ids=IDS)
def test_default_claim_passes(check: _registry.Check) -> None:
    _runnable(check)
    outcome = _registry.run(check, quick=True)
    assert outcome.result.status == Status.PASS, outcome.result.detail


VARIANTS = [
    pytest.param(c, w, id=f"{c.id}-wrong{i}") for c in CHECKS for i, w in enumerate(c.wrong)
]


@pytest.mark.parametrize(("check", "wrong"), VARIANTS)
def test_wrong_variant_fails(check: _registry.Check, wrong: dict) -> None:
    _runnable(check)
    outcome = _registry.run(check, quick=True, **wrong)
    assert outcome.result.status == Status.FAIL, outcome.result.detail


#: Where in the paper each group of checks is: a check's reference names its own result.
REFERENCES = {
    "thm1": ("Theorem 1", "Appendix A"),
    "thm2": ("Theorem 2", "Assumption 1", "Appendix B", "Corollary"),
    "thm3": ("Theorem 3",),
    "symconv": ("Appendix D",),
    "lemma1": ("Lemma 1",),
    "premise": ("Section 3.1",),
    "thm4": ("Theorem 4",),
    "cor": ("Corollary of Theorem 4",),
    "kernel": ("Theorem 4",),
    "sec4": ("Section 4",),
    "tables": ("Section 3.2",),
    "numeric": ("Theorem 1", "Theorem 3", "Section 3.2"),
}


@pytest.mark.parametrize("check", CHECKS, ids=[c.id for c in CHECKS])
def test_every_check_states_its_claim_and_where(check: _registry.Check) -> None:
    assert check.title and check.statement and check.method
    assert check.reference.startswith(REFERENCES[check.id.split(".")[0]]), check.reference
