"""Every guard has a test that trips it: a check that raises is ``error`` (never pass), the
registry's bookkeeping, thm4's independent re-verification of certificates entry by entry."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from proofs import Evidence, Result, Status, _registry


def _raises(*, quick: bool = False) -> Result:
    raise RuntimeError("the check broke")


def _not_a_result(*, quick: bool = False) -> object:
    return True


def _records(*, quick: bool = False, size: int = 1) -> Result:
    return Result.verdict(True, Evidence.EXACT, f"quick={quick} size={size}")


@pytest.fixture
def broken() -> Iterator[dict[str, _registry.Check]]:
    funcs = {"test.raises": _raises, "test.not-a-result": _not_a_result, "test.records": _records}
    for cid, func in funcs.items():
        texts = {"title": cid, "statement": " a  claim\n spread ", "method": "m"}
        _registry.register(
            cid, evidence="proof", wrong=({"size": 2},), quick_params={"size": 3}, **texts
        )(func)
    yield {cid: _registry._REGISTRY[cid] for cid in funcs}
    for cid in funcs:
        _registry._REGISTRY.pop(cid, None)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_check_that_raises_is_an_error_not_a_pass(broken, jobs: int) -> None:
    checks = [broken["test.raises"], broken["test.not-a-result"], broken["test.records"]]
    outcomes = _registry.run_many(checks, jobs=jobs)
    raised, wrong_type, fine = (o.result for o in outcomes)
    assert raised.status == Status.ERROR and not raised.ok
    assert raised.detail == "RuntimeError: the check broke"
    assert "the check broke" in raised.data["traceback"]
    assert raised.evidence == Evidence.PROOF
    assert wrong_type.status == Status.ERROR
    assert "returned bool, not Result" in wrong_type.detail
    assert fine.status == Status.PASS


def test_run_applies_quick_params_then_overrides(broken) -> None:
    check = broken["test.records"]
    assert _registry.run(check).result.detail == "quick=False size=1"
    assert _registry.run(check, quick=True).result.detail == "quick=True size=3"
    assert _registry.run(check, quick=True, size=5).result.detail == "quick=True size=5"
    assert _registry.run(check, size=7).result.detail == "quick=False size=7"


def test_register_records_the_check(broken) -> None:
    check = broken["test.records"]
    assert check.statement == "a claim spread"  # whitespace folded
    assert check.evidence == Evidence.PROOF and check.wrong == ({"size": 2},)
    assert check.quick_params == {"size": 3} and check.extension is False
    assert _registry.get("test.records") is check
    with pytest.raises(KeyError, match=r"no\.such"):
        _registry.get("no.such")


def test_an_id_registered_twice_by_another_function_is_refused(broken) -> None:
    with pytest.raises(ValueError, match="registered twice"):
        _registry.register("test.records", title="t", statement="s", method="m", evidence="exact")(
            _raises
        )


def test_a_missing_dependency_is_skipped_with_the_reason(broken, monkeypatch) -> None:
    check = broken["test.records"]
    monkeypatch.setitem(
        _registry._REGISTRY,
        "test.records",
        _registry.Check(**{**check.__dict__, "requires": ("no_such_module_xyz",)}),
    )
    outcome = _registry.run(_registry._REGISTRY["test.records"])
    assert outcome.result.status == Status.SKIPPED and outcome.result.ok
    assert "no_such_module_xyz" in outcome.result.detail and outcome.seconds == 0.0


def test_outcome_json_carries_the_obligations() -> None:
    outcome = _registry.run(_registry.get("thm1.step-size"), quick=True)
    out = outcome.to_json()
    assert out["id"] == "thm1.step-size" and out["status"] == "pass"
    assert out["obligations"] and all(o["status"] == "pass" for o in out["obligations"])
    assert all("z3" in o["confirmed_by"] for o in out["obligations"])
    assert out["extension"] is False and out["seconds"] >= 0


def test_listing_keeps_a_claims_checks_together() -> None:
    ids = [c.id for c in _registry.load_all()]
    prefixes = [i.split(".")[0] for i in ids]
    seen: list[str] = []
    for p in prefixes:
        if not seen or seen[-1] != p:
            assert p not in seen, f"checks of {p} are split in the listing"
            seen.append(p)
    assert ids.index("thm3.torch") == ids.index("thm3.exceptional-image") + 1
    assert ids[0] == "thm1.closed-form"


def test_default_jobs_is_between_1_and_4() -> None:
    assert 1 <= _registry.default_jobs() <= 4


# --------------------------------------------------------------------------------------------
# thm4: the certificates are re-verified entry by entry


def _patched_mod(monkeypatch: pytest.MonkeyPatch, change) -> None:
    import symconv

    real = symconv.network_matrix_mod

    def fake(net, weights, prime):
        m = real(net, weights, prime).toarray()
        change(m)
        import scipy.sparse as sp

        return sp.csr_matrix(m)

    monkeypatch.setattr(symconv, "network_matrix_mod", fake)


def test_thm4_recheck_finds_a_witnessed_entry_that_stays_zero(monkeypatch) -> None:
    """Every witnessed entry must be recomputed nonzero, not just one of them."""
    from proofs.thm4 import _certificate_problem
    from symconv import certify, conv_stack

    net = conv_stack(4, 3)
    cert = certify(net)
    assert _certificate_problem(net, cert, 4) is None

    def zero_one(m: np.ndarray) -> None:
        m[0, 5] = 0

    _patched_mod(monkeypatch, zero_one)
    problem = _certificate_problem(net, cert, 4)
    assert problem == "s=4: 1 entries the certificate witnessed stay 0"


def test_thm4_recheck_finds_a_nonzero_structural_zero(monkeypatch) -> None:
    from proofs.thm4 import _certificate_problem
    from symconv import certify, conv_stack

    net = conv_stack(5, 2)
    cert = certify(net)
    assert cert.forced_zeros > 0

    def fill(m: np.ndarray) -> None:
        m[0, 24] = 1  # opposite corners: a forced zero at depth 2

    _patched_mod(monkeypatch, fill)
    assert (
        _certificate_problem(net, cert, 5) == "s=5: a structurally zero entry has a nonzero value"
    )


def test_thm4_recheck_compares_counts_and_skips_large_sizes() -> None:
    from dataclasses import replace

    from proofs.thm4 import _RECHECK_MAX_SIZE, _certificate_problem
    from symconv import certify, conv_stack

    net = conv_stack(5, 2)
    cert = certify(net)
    nz, fz = cert.nonzeros, cert.forced_zeros
    wrong = [replace(cert, nonzeros=nz + d) for d in (1, -1)]
    wrong += [replace(cert, forced_zeros=fz + d) for d in (1, -1)]
    for bad in wrong:  # too many and too few, on either count
        assert "the independent pattern has" in _certificate_problem(net, bad, 5)
    big = conv_stack(_RECHECK_MAX_SIZE + 1, 2)
    fake = replace(certify(big), nonzeros=0)
    assert _certificate_problem(big, fake, _RECHECK_MAX_SIZE + 1) is None
    at_limit = conv_stack(_RECHECK_MAX_SIZE, 2)
    fake = replace(certify(at_limit), nonzeros=0)
    assert _certificate_problem(at_limit, fake, _RECHECK_MAX_SIZE) is not None
    # an uncertified certificate is not re-verified entry by entry (it fails elsewhere)
    assert _certificate_problem(net, replace(cert, witnessed=0), 5) is None
