"""The verdicts of Tables 1-2: a stated rule from the seeds of a row to agrees / differs /
inconclusive (:data:`VERDICT_RULE`), the claims of each table over its rows, and the
per-row summary of the seeds' spectra.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ._experiment import RunConfig
from ._readings import EXPERIMENT_AXES

__all__ = [
    "FILTER_EFFECT_TOL",
    "MEMORIZES_AT",
    "MIN_SEEDS",
    "NOT_MEMORIZED_AT",
    "ONE_TOL",
    "REACHED_AT",
    "SPAN_TOL",
    "VERDICT_RULE",
    "ZERO_TOL",
    "combine",
    "experiment_verdict",
    "median_seed",
    "memorized",
    "row_verdict",
    "seed_summary",
    "spectral_memorized",
]

#: "Memorized" (Theorem 1's limit X X⁺, on the operator): the top n eigenvalue magnitudes
#: within ONE_TOL of 1, the rest below ZERO_TOL, and the top-n eigenspace within SPAN_TOL
#: (the largest principal angle, radians) of span(X).
ONE_TOL = 0.05
ZERO_TOL = 0.05
SPAN_TOL = 0.05


def spectral_memorized(
    spec: list[float], n: int, *, one_tol: float = ONE_TOL, zero_tol: float = ZERO_TOL
) -> bool:
    """The spectrum is ``(1, …, 1, 0, …)`` with ``n`` ones, within the tolerances (the
    spectral part of the criterion: a rank-n projection onto *some* n-space)."""
    top, rest = spec[:n], spec[n:]
    return all(abs(v - 1.0) <= one_tol for v in top) and all(v <= zero_tol for v in rest)


def memorized(spec: list[float], n: int, span_angle: float | None) -> bool:
    """The trained map is the projection onto span(X): :func:`spectral_memorized` and the
    top-n eigenvectors span the training images (``span_angle`` ≤ :data:`SPAN_TOL`; a map
    whose angle could not be measured does not memorize)."""
    return spectral_memorized(spec, n) and span_angle is not None and span_angle <= SPAN_TOL


#: A row "memorizes" when at least this fraction of its seeds that reached the target do,
MEMORIZES_AT = 0.8
#: and "does not memorize" when at most this fraction do; in between it is inconclusive.
NOT_MEMORIZED_AT = 0.2
#: A verdict needs at least this many seeds reaching the loss target, and at least
#: REACHED_AT of the seeds run.
MIN_SEEDS = 3
REACHED_AT = 0.8
#: Table 1's "filters have minimal effect": at each depth the medians (over seeds) of the
#: third eigenvalue differ across filter counts by at most this much, or by at most the
#: largest interquartile range over seeds of those rows (a difference within the
#: seed-to-seed spread is not an effect of the filters).
FILTER_EFFECT_TOL = 0.2

VERDICT_RULE = (
    f"A row's seeds must reach the loss target (at least {MIN_SEEDS} seeds and "
    f"{REACHED_AT:.0%} of those run), and the run must be the full form; otherwise the "
    f"row is inconclusive. The row memorizes when >= {MEMORIZES_AT:.0%} of its seeds that "
    f"reached the target memorized (top n eigenvalues within {ONE_TOL} of 1, the rest "
    f"below {ZERO_TOL}, and the top-n eigenvectors within {SPAN_TOL} rad of span(X)), "
    "counting only seeds whose step-0 map did not already have that spectrum (a seed that "
    "starts_memorized shows nothing learned; with fewer than "
    f"{MIN_SEEDS} other seeds the row is inconclusive). It does not memorize when <= "
    f"{NOT_MEMORIZED_AT:.0%} did, and is inconclusive in between. The verdict is agrees "
    "when that matches the paper's claim "
    "for the row (Table 1: no memorization; Table 2: memorization), differs when it is "
    "the opposite. "
    "A claim over several rows agrees when every row agrees, differs when any row differs, "
    "inconclusive otherwise. Table 1 also claims the third eigenvalue falls with depth "
    "(medians over seeds, shallowest > 5 > 8 layers for every filter count: agrees; the "
    "8-layer median >= the shallowest: differs; else inconclusive) and that filters have "
    f"minimal effect (at every depth the medians across filter counts within "
    f"max({FILTER_EFFECT_TOL}, the largest interquartile range over seeds of those rows): "
    "agrees; else differs). A reading's verdict combines its claims "
    "like rows; the experiment's verdict is the readings' common verdict, inconclusive when "
    "the readings disagree."
)


def _reached_enough(per: list[dict[str, Any]]) -> bool:
    reached = [p for p in per if p.get("reached") and not p.get("diverged")]
    return len(reached) >= max(MIN_SEEDS, math.ceil(REACHED_AT * len(per)))


def row_verdict(row: dict[str, Any], claim_memorizes: bool, quick: bool) -> tuple[str, str]:
    """(verdict, why) of one ensemble row against the claim "memorizes" (Table 2) or
    "does not memorize" (Table 1), by :data:`VERDICT_RULE`."""
    per = row.get("per_seed") or []
    if quick:
        return "inconclusive", "quick form (sizes and iteration caps reduced)"
    reached = [p for p in per if p.get("reached") and not p.get("diverged")]
    if not _reached_enough(per):
        return "inconclusive", (
            f"{len(reached)} of {len(per)} seeds reached the loss target "
            f"(needs >= {MIN_SEEDS} and >= {REACHED_AT:.0%})"
        )
    fresh = [p for p in reached if not p.get("starts_memorized")]
    if len(fresh) < MIN_SEEDS:
        return "inconclusive", (
            f"{len(reached) - len(fresh)} of {len(reached)} seeds that reached the target "
            "started at the memorized spectrum (the step-0 map is already a rank-n "
            f"projection): fewer than {MIN_SEEDS} seeds show what training does"
        )
    frac = sum(1 for p in fresh if p.get("memorized")) / len(fresh)
    reached = fresh
    if frac >= MEMORIZES_AT:
        outcome = True
    elif frac <= NOT_MEMORIZED_AT:
        outcome = False
    else:
        return "inconclusive", f"{frac:.0%} of the seeds that reached the target memorized"
    what = "memorizes" if outcome else "does not memorize"
    return ("agrees" if outcome == claim_memorizes else "differs"), (
        f"{what}: {frac:.0%} of {len(reached)} seeds memorized"
    )


def combine(verdicts: list[str]) -> str:
    """Rows (or claims) → one verdict: agrees if all agree, differs if any differs."""
    if verdicts and all(v == "agrees" for v in verdicts):
        return "agrees"
    if "differs" in verdicts:
        return "differs"
    return "inconclusive"


def _median_eig(row: dict[str, Any], index: int) -> float | None:
    eig = (row.get("summary") or {}).get("eigenvalues") or []
    return eig[index - 1]["median"] if len(eig) >= index else None


def _iqr_eig(row: dict[str, Any], index: int) -> float | None:
    eig = (row.get("summary") or {}).get("eigenvalues") or []
    return eig[index - 1]["q3"] - eig[index - 1]["q1"] if len(eig) >= index else None


def _settled(row: dict[str, Any]) -> bool:
    """Enough of the row's seeds reached the loss target for a verdict."""
    return _reached_enough(row.get("per_seed") or [])


def _table1_claims(rows: list[dict[str, Any]], quick: bool) -> dict[str, dict[str, str]]:
    """Table 1's three claims on the rows of one reading (one depth chain per filter count)."""
    claims: dict[str, dict[str, str]] = {}
    claims["no memorization"] = {
        "verdict": combine([r["verdict"] for r in rows]),
        "why": "; ".join(f"{r['key']}: {r['verdict']}" for r in rows),
    }
    filters = sorted({r["filters_printed"] for r in rows})
    depths = sorted({r["conv_layers"] for r in rows})
    if quick or not all(_settled(r) for r in rows):
        reason = "quick form" if quick else "some rows did not reach the loss target"
        claims["third eigenvalue falls with depth"] = {"verdict": "inconclusive", "why": reason}
        claims["filters have minimal effect"] = {"verdict": "inconclusive", "why": reason}
        return claims
    lam = {(r["filters_printed"], r["conv_layers"]): _median_eig(r, 3) for r in rows}
    verdicts: list[str] = []
    why: list[str] = []
    for f in filters:
        chain = [v for d in depths if (v := lam.get((f, d))) is not None]
        if len(chain) < 2:
            continue
        falls = all(a > b for a, b in itertools.pairwise(chain))
        verdicts.append(
            "agrees" if falls else "differs" if chain[-1] >= chain[0] else "inconclusive"
        )
        why.append(f"F{f}: " + " > ".join(f"{v:.3g}" for v in chain))
    claims["third eigenvalue falls with depth"] = {
        "verdict": combine(verdicts) if verdicts else "inconclusive",
        "why": "; ".join(why) or "fewer than two depths",
    }
    iqr = {(r["filters_printed"], r["conv_layers"]): _iqr_eig(r, 3) for r in rows}
    verdicts, why = [], []
    for d in depths:
        vals = [v for f in filters if (v := lam.get((f, d))) is not None]
        if len(vals) < 2:
            continue
        spread = max(vals) - min(vals)
        noise = max(iqr.get((f, d)) or 0.0 for f in filters)
        tol = max(FILTER_EFFECT_TOL, noise)
        verdicts.append("agrees" if spread <= tol else "differs")
        why.append(f"{d} layers: medians differ by {spread:.3g} (allowed {tol:.3g})")
    claims["filters have minimal effect"] = {
        "verdict": combine(verdicts) if verdicts else "inconclusive",
        "why": "; ".join(why) or "fewer than two filter counts",
    }
    return claims


def _groups(rows: list[dict[str, Any]], table: int) -> dict[str, list[dict[str, Any]]]:
    """Rows per reading. Table 1: one group per (init, depth reading), the depth-2/3 rows
    of that depth reading with the 5- and 8-layer rows of that init (and loss reading)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    if table == 2:
        for r in rows:
            groups.setdefault(r["reading"], []).append(r)
        return groups
    inits = list(dict.fromkeys(r["readings"]["init"] for r in rows))
    depth_r = list(dict.fromkeys(r["readings"]["depth"] for r in rows if "depth" in r["readings"]))
    losses = list(dict.fromkeys(r["readings"].get("loss", "") for r in rows))
    for init, loss in itertools.product(inits, losses):
        mine = [r for r in rows if (r["readings"]["init"], r["readings"].get("loss", "")) ==
                (init, loss)]  # fmt: skip
        for dr in depth_r or [""]:
            sel = [r for r in mine if r["readings"].get("depth", dr) == dr]
            if sel:  # a run stopped early may have no row of this reading yet
                label = "+".join(x for x in (dr, init, loss) if x)
                groups[label] = sel
    return groups


def experiment_verdict(name: str) -> Callable[[RunConfig, list[dict[str, Any]]], dict[str, Any]]:
    """The verdict of experiment ``name`` from its rows, per reading (see VERDICT_RULE)."""
    table = 2 if name == "table2" else 1

    def verdict(cfg: RunConfig, rows: list[dict[str, Any]]) -> dict[str, Any]:
        readings: dict[str, Any] = {}
        for label, group in _groups([r for r in rows if r.get("per_seed")], table).items():
            if table == 1:
                claims = _table1_claims(group, cfg.quick)
            else:
                skip = group[0].get("skip_every", 0) > 0
                claims = {
                    f"memorization ({'skip rows' if skip else 'rows without skips'})": {
                        "verdict": combine([r["verdict"] for r in group]),
                        "why": "; ".join(f"{r['key']}: {r['verdict']}" for r in group),
                    }
                }
            seeds = sorted({s for r in group for s in r.get("seeds", [])})
            readings[label] = {
                "verdict": combine([c["verdict"] for c in claims.values()]),
                "claims": claims,
                "seeds": seeds,
            }
        found = [v["verdict"] for v in readings.values()]
        overall = found[0] if found and len(set(found)) == 1 else "inconclusive"
        return {
            "verdict": overall,
            "quick": cfg.quick,
            "readings": readings,
            "rule": VERDICT_RULE,
            "paper_words": {a: w for a, (_, w) in EXPERIMENT_AXES[name].items()},
        }

    return verdict


def seed_summary(per: list[dict[str, Any]], n: int) -> dict[str, Any]:
    spectra = [p["spectrum"] for p in per if p.get("spectrum")]
    eig = []
    for i in range(min(n + 2, min((len(s) for s in spectra), default=0))):
        v = np.array([s[i] for s in spectra])
        q1, med, q3 = (float(x) for x in np.percentile(v, [25, 50, 75]))
        eig.append({"index": i + 1, "median": med, "q1": q1, "q3": q3,
                    "min": float(v.min()), "max": float(v.max())})  # fmt: skip
    reached = [p for p in per if p.get("reached")]
    fresh = [p for p in reached if not p.get("starts_memorized")]  # see row_verdict
    return {
        "eigenvalues": eig,
        "memorized_fraction": (
            sum(1 for p in fresh if p.get("memorized")) / len(fresh) if fresh else None
        ),
        "reached_fraction": len(reached) / len(per) if per else 0.0,
        "seeds": len(per),
    }


def median_seed(per: list[dict[str, Any]], n: int) -> dict[str, Any]:
    """The seed whose (n+1)-th eigenvalue is the (lower) median over seeds with a spectrum."""
    ok = [p for p in per if len(p.get("spectrum") or []) > n] or per
    ranked = sorted(ok, key=lambda p: p["spectrum"][n] if len(p["spectrum"]) > n else 0.0)
    return ranked[(len(ranked) - 1) // 2]
