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
"""

from __future__ import annotations

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
    def passed(cls, evidence: Evidence | str, detail: str, **data: Any) -> Result:
        return cls(Status.PASS, Evidence(evidence), detail, data)

    @classmethod
    def failed(cls, evidence: Evidence | str, detail: str, **data: Any) -> Result:
        return cls(Status.FAIL, Evidence(evidence), detail, data)

    @classmethod
    def unknown(cls, evidence: Evidence | str, detail: str, **data: Any) -> Result:
        return cls(Status.UNKNOWN, Evidence(evidence), detail, data)

    @classmethod
    def skipped(cls, evidence: Evidence | str, detail: str, **data: Any) -> Result:
        return cls(Status.SKIPPED, Evidence(evidence), detail, data)

    @classmethod
    def verdict(cls, holds: bool, evidence: Evidence | str, detail: str, **data: Any) -> Result:
        """``pass`` when ``holds`` else ``fail``, with the same detail and data."""
        return cls(Status.PASS if holds else Status.FAIL, Evidence(evidence), detail, data)

    @classmethod
    def combine(cls, evidence: Evidence | str, parts: list[Result], detail: str = "") -> Result:
        """Merge sub-results: fail beats error beats unknown beats pass.

        The merged detail lists every part that did not pass, so a failure names itself.
        """
        order = [Status.FAIL, Status.ERROR, Status.UNKNOWN, Status.SKIPPED, Status.PASS]
        status = Status.PASS
        for s in order:
            if any(p.status == s for p in parts):
                status = s
                break
        if not parts:
            status = Status.ERROR
        bad = [p.detail for p in parts if p.status != Status.PASS]
        text = detail if status == Status.PASS else "; ".join([detail, *bad]).strip("; ")
        return cls(status, Evidence(evidence), text, {"parts": [p.to_json() for p in parts]})

    def to_json(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "evidence": str(self.evidence),
            "detail": self.detail,
            "data": _jsonable(self.data),
        }


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
        return int(value)
    except (TypeError, ValueError):
        pass
    return str(value)
