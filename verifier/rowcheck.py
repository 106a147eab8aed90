"""A resumed row of an experiment that declares no ``row_schema``, checked before reuse.

Tables 1–2 read a stored row back through their own schema
(:class:`numerics.tables.TableRow`). The other experiments' rows are reused as stored, so
the fields the runner, the printed table, the verdicts and the figures rely on are checked
here, with the same one-line refusal (``--resume: row 'K': field 'F': ...``): the row's key
is one the experiment makes under this configuration (a row the run would not produce is
never written back), numbers are numbers in range, lists and objects have their kind.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .errors import UsageError, shown

__all__ = ["check_resumed_rows"]

Row = dict[str, Any]


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _numbers(v: Any) -> bool:  # a diverged run writes null for a non-finite entry
    return isinstance(v, list) and all(x is None or _number(x) for x in v)


def _landing(v: Any) -> bool:  # a fraction, or a label such as "did not train"
    return (_number(v) and 0 <= v <= 1) or isinstance(v, str)


def _metrics(v: Any) -> bool:
    """Per probe set an object whose landing fields are fractions or labels and whose
    medians and counts are numbers."""
    if not isinstance(v, dict):
        return False
    for m in v.values():
        if not isinstance(m, dict):
            return False
        for k, x in m.items():
            if k in ("landed", "iterated_landed") and not _landing(x):
                return False
            if (k.endswith("_median") or k == "n") and not (x is None or _number(x)):
                return False
    return True


def _seeds(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(p, dict) and _count(p.get("seed")) for p in v)


#: field -> (test, what it must be); a field absent from a row is not checked
FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "seconds": (lambda v: _number(v) and v >= 0, "a finite number >= 0"),
    "train_seconds": (lambda v: _number(v) and v >= 0, "a finite number >= 0"),
    "loss": (lambda v: v is None or _number(v), "a finite number or null"),
    "loss_target": (_number, "a finite number"),
    "iterations": (_count, "an integer >= 0"),
    "stopped_at": (_count, "an integer >= 0"),
    "size": (_count, "an integer >= 0"),
    "depth": (_count, "an integer >= 0"),
    "filters": (_count, "an integer >= 0"),
    "n_train": (_count, "an integer >= 0"),
    "reached": (lambda v: isinstance(v, bool), "true or false"),
    "trained": (lambda v: isinstance(v, bool), "true or false"),
    "spectrum": (_numbers, "a list of numbers"),
    "top_eigenvalues": (_numbers, "a list of numbers"),
    "metrics": (_metrics, "an object of probe sets (landed: a fraction or a label)"),
    "span_angle": (lambda v: v is None or (_number(v) and v >= 0), "a number >= 0 or null"),
    "init_span_angle": (lambda v: v is None or (_number(v) and v >= 0), "a number >= 0 or null"),
    "init_spectrum": (_numbers, "a list of numbers"),
    "memorized": (lambda v: v is None or isinstance(v, bool), "true, false or null"),
    "starts_memorized": (lambda v: v is None or isinstance(v, bool), "true, false or null"),
    "loss_normalization": (lambda v: v in ("mean", "half-sum"), "'mean' or 'half-sum'"),
    "summary": (lambda v: isinstance(v, dict), "an object"),
    "arrays": (lambda v: v is None or isinstance(v, str), "a file name"),
    "per_seed": (_seeds, "a list of objects with an integer 'seed'"),
}


def check_resumed_rows(name: str, done: dict[str, Row], keys: set[str] | None) -> None:
    """Refuse (one :class:`UsageError` naming ``--resume``) a resumed row whose key is not
    in ``keys`` (``None``: any key, for seed ensembles whose rows record their reading) or
    whose known fields have the wrong kind."""
    for key, row in done.items():
        if keys is not None and key not in keys:
            known = ", ".join(sorted(keys)[:6]) + (", ..." if len(keys) > 6 else "")
            raise UsageError(
                "--resume", key, f"row {shown(key)} is not a row of {name} here (its rows: {known})"
            )
        for field, (test, what) in FIELDS.items():
            if field in row and not test(row[field]):
                raise UsageError(
                    "--resume", row[field], f"row {shown(key)}: field {field!r}: must be {what}"
                )
