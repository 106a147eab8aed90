"""Figure 1's verdict rule (:data:`VERDICT_RULE`): from the seeds of one row (a training
image under one reading) to agrees / differs / inconclusive, and the row's summary."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._metrics import DID_NOT_TRAIN, LAND_TOL, LANDING_RULE, VANISHED
from ._verdicts import MEMORIZES_AT, MIN_SEEDS, NOT_MEMORIZED_AT, REACHED_AT, combine

__all__ = [
    "SETS",
    "SET_LANDS_AT",
    "SET_MISSES_AT",
    "VERDICT_RULE",
    "row_verdict",
    "seed_outcome",
    "seed_summary",
    "set_medians",
]

#: The probe sets, in the paper's order.
SETS = ("squares", "gaussian", "held_out")
#: A seed "outputs the training image" on a set when at least this fraction of the set's
#: outputs land on it (:data:`numerics._metrics.LANDING_RULE`); it does not at most ...
SET_LANDS_AT = 0.8
SET_MISSES_AT = 0.2


VERDICT_RULE = (
    f"A seed trained when its reconstruction of the training image lands on it "
    f"(||f(x) - x|| / ||x|| <= {LAND_TOL}); otherwise it is '{DID_NOT_TRAIN}' and never "
    f"counts as memorizing. On each input set (white squares, Gaussian, held-out images) a "
    f"trained seed outputs the training image when >= {SET_LANDS_AT:.0%} of its outputs land "
    f"on it (landing rule below), does not when <= {SET_MISSES_AT:.0%} do (vanished outputs "
    f"never land), and is in between otherwise. A row (one training image, one reading) "
    f"needs the full form, >= {MIN_SEEDS} seeds and >= {REACHED_AT:.0%} of them trained, "
    f"else it is inconclusive; per set it agrees with the paper when >= {MEMORIZES_AT:.0%} "
    f"of its trained seeds output the training image, differs when <= "
    f"{NOT_MEMORIZED_AT:.0%} do, and is inconclusive in between; the row agrees when every "
    "set agrees, differs when any set differs. A reading combines its rows the same way; "
    "the experiment's verdict is the readings' common verdict, inconclusive when they "
    "disagree. Landing: " + LANDING_RULE
)


def _set_fraction(m: dict[str, Any]) -> float:
    """The landed fraction a verdict counts: a vanished set counts as 0."""
    return 0.0 if m.get("landed") == VANISHED else float(m.get("landed_fraction", 0.0))


def seed_outcome(per: dict[str, Any]) -> dict[str, str] | str:
    """``"did not train"``, or per set ``"lands"`` / ``"does not land"`` / ``"partly"``
    (:data:`VERDICT_RULE`)."""
    if not per.get("trained"):
        return DID_NOT_TRAIN
    out = {}
    for s, m in per["sets"].items():
        frac = _set_fraction(m)
        out[s] = (
            "lands" if frac >= SET_LANDS_AT else "does not land" if frac <= SET_MISSES_AT
            else "partly"
        )  # fmt: skip
    return out


def row_verdict(per_seed: list[dict[str, Any]], quick: bool) -> dict[str, Any]:
    """``{"verdict", "why", "outcome", "sets"}`` of one row from its seeds (:data:`VERDICT_RULE`).

    ``outcome``: ``"memorizes"``, ``"does not memorize"``, ``"mixed"`` or ``"did not train"``
    (fewer than the needed seeds trained) — a net that did not train never memorizes."""
    trained = [p for p in per_seed if p.get("trained")]
    need = max(MIN_SEEDS, math.ceil(REACHED_AT * len(per_seed)))
    enough = len(trained) >= need
    sets: dict[str, dict[str, Any]] = {}
    for s in SETS:
        seen = [p for p in trained if s in p.get("sets", {})]
        if not seen:
            continue
        frac = sum(1 for p in seen if _set_fraction(p["sets"][s]) >= SET_LANDS_AT) / len(seen)
        v = (
            "agrees"
            if frac >= MEMORIZES_AT
            else "differs"
            if frac <= NOT_MEMORIZED_AT
            else "inconclusive"
        )
        sets[s] = {"verdict": v, "seeds_landing": frac, "seeds": len(seen)}
    if not enough:
        outcome = DID_NOT_TRAIN if len(trained) < len(per_seed) else "too few seeds"
    else:
        found = combine([d["verdict"] for d in sets.values()])
        outcome = {"agrees": "memorizes", "differs": "does not memorize"}.get(found, "mixed")
    why = f"{len(trained)} of {len(per_seed)} seeds trained; " + "; ".join(
        f"{s}: {d['seeds_landing']:.0%} of seeds land" for s, d in sets.items()
    )
    if quick:
        return {
            "verdict": "inconclusive",
            "why": "quick form; " + why,
            "outcome": outcome,
            "sets": sets,
        }
    if not enough:
        return {
            "verdict": "inconclusive",
            "why": why + f" (needs >= {need} trained)",
            "outcome": outcome,
            "sets": sets,
        }
    verdict = combine([d["verdict"] for d in sets.values()])
    return {"verdict": verdict, "why": why, "outcome": outcome, "sets": sets}


_MEDIANS = ("nearest_median", "ray_median", "span_median", "input_median", "output_norm_median")


def set_medians(per_seed: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per set, the row's numbers as the report's metrics table shows them: ``landed`` the
    median over trained seeds of the landed fraction — or :data:`DID_NOT_TRAIN` when no
    seed trained, :data:`VANISHED` when every trained seed's outputs vanished — and the
    medians over those seeds of the distances (over all seeds when none trained)."""
    trained = [p for p in per_seed if p.get("trained")]
    out: dict[str, dict[str, Any]] = {}
    for s in SETS:
        seen = [p["sets"][s] for p in (trained or per_seed) if s in p.get("sets", {})]
        if not seen:
            continue
        row = {k: float(np.median([m[k] for m in seen])) for k in _MEDIANS if k in seen[0]}
        if not trained:
            landed: float | str = DID_NOT_TRAIN
        elif all(m.get("landed") == VANISHED for m in seen):
            landed = VANISHED
        else:
            landed = float(np.median([_set_fraction(m) for m in seen]))
        out[s] = {"landed": landed, "n": seen[0].get("n"), **row}
    return out


def seed_summary(per_seed: list[dict[str, Any]]) -> dict[str, Any]:
    """How many seeds trained, the fraction of trained seeds whose outputs land on every
    set (``memorized_fraction``), and :func:`set_medians` per set."""
    trained = [p for p in per_seed if p.get("trained")]
    outcomes = [seed_outcome(p) for p in trained]
    every = [o for o in outcomes if isinstance(o, dict) and all(v == "lands" for v in o.values())]
    return {
        "trained": f"{len(trained)} of {len(per_seed)}",
        "memorized_fraction": len(every) / len(trained) if trained else None,
        "reached_fraction": len(trained) / len(per_seed) if per_seed else 0.0,
        **set_medians(per_seed),
    }
