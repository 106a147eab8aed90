"""Small helpers shared by the checks of Theorems 1 and 2 (``proofs.thm1``, ``proofs.thm2``)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ._result import Evidence, Result, Status

__all__ = ["fraction_model", "merge"]


def merge(
    evidence: Evidence | str,
    parts: list[Result],
    ok_detail: str,
    fail_lead: str,
    **data: Any,
) -> Result:
    """:meth:`Result.combine`, with ``ok_detail`` only on a pass.

    On any other status the detail is ``fail_lead`` followed by the parts that did not pass,
    so a failing check never opens with words that sound like success. ``data`` (e.g. the
    counterexample) is added to the merged parts.
    """
    out = Result.combine(evidence, parts, ok_detail)
    if out.status != Status.PASS:
        bad = [p.detail for p in parts if p.status != Status.PASS]
        detail = "; ".join([fail_lead, *bad])
    else:
        detail = ok_detail
    return Result(out.status, out.evidence, detail, {**out.data, **data})


def fraction_model(model: dict[str, str] | None) -> dict[str, Fraction] | None:
    """z3 model values as Fractions; None when a value is not rational (e.g. ``1.41?``).

    Entries that are not variable names (z3's interpretation of division by zero, ``/0``)
    are skipped.
    """
    if model is None:
        return None
    out: dict[str, Fraction] = {}
    for k, v in model.items():
        if not k.isidentifier():
            continue
        try:
            out[k] = Fraction(v)
        except (ValueError, ZeroDivisionError):
            return None
    return out
