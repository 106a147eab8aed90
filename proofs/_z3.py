"""z3 with fixed seeds and time limits, three-valued: a solver's ``unknown`` is never a pass.

``prove(claim)`` asserts the negation of ``claim``: ``unsat`` proves the claim for every value
of its free variables; ``sat`` yields a counterexample model; anything else is ``unknown``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._result import Evidence, Result, Status

__all__ = ["SEED", "TIMEOUT_MS", "Verdict", "find_model", "prove", "verdict_result"]

SEED = 0
TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class Verdict:
    status: Status  # PASS (proved), FAIL (counterexample), UNKNOWN
    model: dict[str, str] | None
    reason: str


def _solver(timeout_ms: int):
    import z3

    s = z3.Solver()
    s.set("timeout", int(timeout_ms))
    s.set("random_seed", SEED)
    return s


def _model_dict(model: Any) -> dict[str, str]:
    return {str(d): str(model[d]) for d in model.decls()}


def prove(
    claim: Any, *, assumptions: tuple[Any, ...] = (), timeout_ms: int = TIMEOUT_MS
) -> Verdict:
    """Prove ``assumptions ⇒ claim`` for all values: z3 ``unsat`` of the negation."""
    import z3

    s = _solver(timeout_ms)
    for a in assumptions:
        s.add(a)
    s.add(z3.Not(claim))
    r = s.check()
    if r == z3.unsat:
        return Verdict(Status.PASS, None, "z3: the negation is unsat")
    if r == z3.sat:
        return Verdict(Status.FAIL, _model_dict(s.model()), "z3: counterexample found")
    return Verdict(Status.UNKNOWN, None, f"z3: unknown ({s.reason_unknown()})")


def find_model(
    *constraints: Any, timeout_ms: int = TIMEOUT_MS
) -> tuple[Status, dict[str, str] | None, Any]:
    """Look for values satisfying ``constraints``: (PASS, model, z3 model) when found,
    (FAIL, None, None) when z3 shows there are none, (UNKNOWN, None, None) otherwise."""
    import z3

    s = _solver(timeout_ms)
    s.add(*constraints)
    r = s.check()
    if r == z3.sat:
        m = s.model()
        return Status.PASS, _model_dict(m), m
    if r == z3.unsat:
        return Status.FAIL, None, None
    return Status.UNKNOWN, None, None


def verdict_result(v: Verdict, what: str) -> Result:
    """A proof-level :class:`Result` from a :class:`Verdict` about the claim ``what``."""
    if v.status == Status.PASS:
        return Result.passed(Evidence.PROOF, f"proved for all values: {what}")
    if v.status == Status.FAIL:
        return Result.failed(
            Evidence.PROOF,
            f"does not hold: {what}; counterexample {v.model}",
            counterexample=v.model,
        )
    return Result.unknown(Evidence.PROOF, f"undecided: {what}; {v.reason}")
