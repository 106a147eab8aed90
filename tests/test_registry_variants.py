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
