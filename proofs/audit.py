"""Section 3.2's heuristic depth ⌈s⁴/9⌉, parameter counts, and an audit of Tables 1–2.

The heuristic: a single-filter 3×3 network needs ``⌈s⁴/9⌉`` layers to have as many
parameters (9 per layer) as the ``s⁴`` of a fully connected layer on s×s images. The
audit recomputes, for every printed row of Tables 1 and 2, the heuristic bound and the
parameter count of the stated architecture (``9·(2F + (L − 2)F²)`` weights for L layers
of F filters, no biases) and reports the rows whose printed numbers do not follow. The
printed rows themselves are :data:`paperdata.TABLE1` and :data:`paperdata.TABLE2`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from ._kit import size_range
from ._registry import register
from ._result import Evidence, Result

__all__ = ["AuditRow", "audit_tables"]


@dataclass(frozen=True)
class AuditRow:
    table: int
    row: int  # 1-based, as printed
    size: int
    train_examples: int
    filters: int
    layers_printed: int
    params_printed: int
    bound_printed: int
    bound: int  # ⌈s⁴/9⌉
    params: int  # of the stated architecture
    layers_from_params: int | None  # depth whose parameter count equals the printed one
    consistent: bool
    note: str


def audit_tables() -> list[AuditRow]:
    """Every printed row of Tables 1–2 against the recomputed bound and parameter count."""
    from paperdata import TABLE1, TABLE2, depth_for_params
    from symconv import conv_stack, heuristic_depth

    rows: list[AuditRow] = []
    items = [(t, i, r) for t, rs in ((1, TABLE1), (2, TABLE2)) for i, r in enumerate(rs, 1)]
    for table, i, r in items:
        s, n, f = r.size, r.train_examples, r.filters
        bound_p, layers_p, params_p = r.bound_printed, r.layers_printed, r.params_printed
        bound = heuristic_depth(s)
        params = conv_stack(s, layers_p, filters=f).n_params
        from_params = depth_for_params(params_p, f)
        notes = []
        if bound != bound_p:
            notes.append(f"printed bound {bound_p} ≠ ⌈{s}⁴/9⌉ = {bound}")
        if params != params_p:
            implied = (
                f"; the printed count is that of {from_params} layers"
                if from_params is not None
                else "; no depth gives the printed count"
            )
            notes.append(f"printed params {params_p} ≠ {params} for {layers_p} layers{implied}")
            if table == 1 and layers_p == s - 1 and from_params is not None:
                notes.append(
                    f"two readings: the text says these rows test Theorem 4's bound s − 1 = "
                    f"{s - 1} layers (then the parameter count is the typo), while the printed "
                    f"count is that of {from_params} layers (then the depth is the typo)"
                )
        rows.append(
            AuditRow(
                table,
                i,
                s,
                n,
                f,
                layers_p,
                params_p,
                bound_p,
                bound,
                params,
                from_params,
                not notes,
                "; ".join(notes),
            )
        )
    return rows


def _ceil_formula(s: int) -> int:
    from symconv import heuristic_depth

    return heuristic_depth(s)


@register(
    "tables.heuristic",
    title="Heuristic depth ceil(s^4/9): the least single-filter depth with s^4 parameters",
    statement="Using a single filter per layer with kernel size 3, the network needs ⌈s⁴/9⌉ "
    "layers to achieve the same number of parameters as a fully connected network (s⁴).",
    method="For each s the least depth L whose single-filter 3×3 network (built with symconv) "
    "has at least s⁴ weights is found by counting the network's parameters, and compared "
    "with the formula. The detail also reports the audit of the paper's Tables 1–2 (rows "
    "whose printed bound, layer or parameter counts do not follow from the stated "
    "architecture); those are typos of the tables, not of the claim, and do not change the "
    "status. `verify audit` prints the audit in full.",
    intuition=(
        "A fully connected layer on s×s images has s⁴ weights and a single-filter 3×3 "
        "layer 9: matching the parameter count takes ⌈s⁴/9⌉ layers, far more than "
        "Theorem 4's necessary s − 1."
    ),
    assumptions=(
        "one filter per layer, 3×3, no bias",
        "a heuristic (Section 3.2): a parameter count, not a theorem about memorization",
    ),
    evidence="exact",
    reference="Section 3.2; Tables 1–2",
    quick_params={"max_size": 32},
    wrong=({"formula": lambda s: s**4 // 9}, {"formula": lambda s: -(-(s**4) // 9) + 1}),
)
def check_heuristic(
    *, quick: bool = False, max_size: int = 64, formula: Callable[[int], int] = _ceil_formula
) -> Result:
    from symconv import stack_params

    bad = []
    for s in size_range((1, max_size)):
        # least L with 9·L ≥ s⁴ weights: grow geometrically, then bisect on parameter counts
        hi = 1
        while stack_params(hi) < s**4:
            hi *= 2
        lo = 0
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if stack_params(mid) >= s**4 else (mid, hi)
        least = hi
        if least != formula(s):
            bad.append({"size": s, "counted": least, "formula": formula(s)})
    audit = [r for r in audit_tables() if not r.consistent]
    notes = "; ".join(f"Table {r.table} row {r.row}: {r.note}" for r in audit)
    detail = f"⌈s⁴/9⌉ equals the counted least depth for s in 1..{max_size}"
    if notes:
        detail += f". Audit of the printed tables (informational): {notes}"
    return Result.verdict(
        not bad,
        Evidence.EXACT,
        detail,
        fail_lead="the formula disagrees with the counted depth",
        counterexamples=bad,
        audit=[asdict(r) for r in audit],
    )
