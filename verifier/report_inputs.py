"""What ``verify report`` needs from ``proofs``: every check's outcome and the audit rows.

``numerics`` does not import ``proofs`` (dependencies point one way); the command line
collects these here and hands them to :func:`numerics.write_report` as plain data.
"""

from __future__ import annotations

from typing import Any, TextIO

__all__ = ["audit_table", "check_outcomes"]


def check_outcomes(quick: bool, log: TextIO | None = None) -> list[dict[str, Any]]:
    """Run every registered check: ``verify all --json``'s rows plus reference and claim."""
    import proofs as _registry

    rows = []
    checks = _registry.load_all()
    for c, o in zip(
        checks, _registry.run_many(checks, quick=quick, jobs=_registry.default_jobs()), strict=True
    ):
        row = o.to_json()
        row["reference"] = c.reference
        row["statement"] = c.statement
        rows.append(row)
    if log is not None:
        bad = sum(r["status"] in ("fail", "unknown", "error") for r in rows)
        print(f"report: {len(rows)} checks run, {bad} not passed", file=log)
    return rows


def audit_table() -> tuple[list[str], list[list[str]]]:
    """``verify audit`` as a table of at most 8 columns (header, rows)."""
    from proofs import audit_tables

    header = [
        "table / row",
        "s",
        "n",
        "F",
        "layers",
        "params printed / stated",
        "bound printed / ⌈s⁴/9⌉",
        "note",
    ]
    body = [
        [
            f"{r.table} / {r.row}",
            str(r.size),
            str(r.train_examples),
            str(r.filters),
            str(r.layers_printed),
            f"{r.params_printed} / {r.params}",
            f"{r.bound_printed} / {r.bound}",
            r.note or "consistent",
        ]
        for r in audit_tables()
    ]
    return header, body
