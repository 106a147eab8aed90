"""Results of a check: a status and an evidence level, never blurred.

| status  | meaning                                                                   |
| ------- | ------------------------------------------------------------------------- |
| pass    | the check ran and the claim held                                          |
| fail    | the check ran and the claim did not hold (counterexample in ``data``)     |
| unknown | the check could not decide (a z3 timeout, ``z3.unknown``): never a pass   |
| error   | the check itself broke                                                    |
| skipped | a dependency is missing (torch), with the reason                          |

| evidence | meaning                                                                  |
| -------- | ------------------------------------------------------------------------ |
| proof    | holds for all sizes/values of the statement (symbolic identity, z3 unsat) |
| exact    | exact arithmetic (integers, rationals, certified witnesses) on instances |
| numeric  | floating point agreement within a stated tolerance                       |

A check builds its result one of two ways: :meth:`Result.verdict` for a single condition
(``True`` pass, ``False`` fail, ``None`` undecided), :meth:`Result.combine` for sub-results.
A failing result never opens with words that sound like success: both take a ``fail_lead``
that replaces the passing detail.

**The counterexample** is always under the data key ``counterexample``: the first one
found (a dict, or a solver's model). A check that collects several (a sweep over sizes)
passes them to :meth:`Result.verdict` as ``counterexamples=[...]``, and
:meth:`Result.combine` collects those of its failing parts; then ``counterexample`` is the
first of them and ``n_counterexamples`` says how many were found. A passing result has no
``counterexample``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["Evidence", "Result", "Status"]


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"
    ERROR = "error"
    SKIPPED = "skipped"


class Evidence(StrEnum):
    PROOF = "proof"
    EXACT = "exact"
    NUMERIC = "numeric"


#: How sub-results merge: the first status present wins.
_PRECEDENCE = (Status.FAIL, Status.ERROR, Status.UNKNOWN, Status.SKIPPED, Status.PASS)


@dataclass(frozen=True)
class Result:
    """The outcome of one check.

    ``detail`` is one or a few sentences a student can read; ``data`` carries the
    machine-readable particulars (a counterexample, the sizes covered, a tolerance).
    """

    status: Status
    evidence: Evidence
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True only for ``pass`` (and ``skipped``, which decides nothing and fails nothing)."""
        return self.status in (Status.PASS, Status.SKIPPED)

    @classmethod
    def verdict(
        cls,
        holds: bool | None,
        evidence: Evidence | str,
        detail: str,
        *,
        fail_lead: str = "",
        counterexamples: Sequence[Any] = (),
        **data: Any,
    ) -> Result:
        """``pass`` when ``holds``, ``fail`` when not, ``unknown`` when it is ``None``.

        On a fail with a ``fail_lead`` the detail is the lead followed by the first three
        ``counterexamples`` (the passing ``detail`` is dropped). Only a fail reports them.
        """
        status = Status.UNKNOWN if holds is None else Status.PASS if holds else Status.FAIL
        if status != Status.FAIL:
            counterexamples = ()
        elif fail_lead:
            detail = f"{fail_lead}: {list(counterexamples[:3])}" if counterexamples else fail_lead
        return cls(status, Evidence(evidence), detail, _with_counterexample(data, counterexamples))

    @classmethod
    def combine(
        cls,
        evidence: Evidence | str,
        parts: Sequence[Result],
        detail: str = "",
        *,
        fail_lead: str = "",
        **data: Any,
    ) -> Result:
        """Merge sub-results: fail beats error beats unknown beats skipped beats pass.

        ``detail`` is kept only on a pass; otherwise the detail is ``fail_lead`` followed by
        every part that did not pass, so a failure names itself. No parts is an ``error``.
        The counterexamples of the failing parts become the result's (unless ``data`` names
        one); ``data`` is added beside the list of the parts.
        """
        status = next((s for s in _PRECEDENCE if any(p.status == s for p in parts)), Status.ERROR)
        if status != Status.PASS:
            bad = [p.detail for p in parts if p.status != Status.PASS]
            detail = "; ".join([fail_lead or detail, *bad]).strip("; ")
        found = [
            p.data["counterexample"]
            for p in parts
            if p.status == Status.FAIL and "counterexample" in p.data
        ]
        merged = {"parts": [p.to_json() for p in parts], **data}
        return cls(status, Evidence(evidence), detail, _with_counterexample(merged, found))

    def to_json(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "evidence": str(self.evidence),
            "detail": self.detail,
            "data": _jsonable(self.data),
        }


def _with_counterexample(data: dict[str, Any], found: Sequence[Any]) -> dict[str, Any]:
    """``data`` with the counterexample rule applied (module docstring); a ``None``
    counterexample is left out."""
    if found and data.get("counterexample") is None:
        data = {**data, "counterexample": found[0], "n_counterexamples": len(found)}
    if "counterexample" in data and data["counterexample"] is None:
        data = {k: v for k, v in data.items() if k != "counterexample"}
    return data


def _jsonable(value: Any) -> Any:
    """Best-effort conversion of check data (numpy, fractions, sympy) to JSON values."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if hasattr(value, "tolist"):
        return _jsonable(value.tolist())
    try:
        as_int = int(value)
    except (TypeError, ValueError):
        return str(value)
    # an exact integer (numpy, sympy, Fraction 4/2) is a number; anything int() would
    # truncate (Fraction 1/2, sympy 1/2) keeps its exact text
    return as_int if as_int == value else str(value)
