"""``verify experiment --workers N``: a seed sweep on a local Dask cluster of 1 and 2 workers,
beside the same sweep in one plain process (no Dask), in the same run.

    python benchmarks/bench_cluster.py                       # table1-init quick, seeds 0..7
    python benchmarks/bench_cluster.py --experiment table2 --seeds 0..5 --repeat 3
    python benchmarks/bench_cluster.py --experiment table2 --full --reading identity-blocks \
        --seeds 0..7 --repeat 1                              # a full-form sweep: minutes a task

Quick sweeps are overhead-bound (each task trains for a second or less, while starting a
cluster and its worker processes costs seconds), so they show what a cluster costs; a
full-form sweep, whose tasks train for tens of seconds, shows what it gains.

Each run is a fresh ``python -m verifier experiment ... --json`` process, the settings
alternating so that a machine's drift affects them alike; prints the best and median wall
time of each, the speed-up of 2 workers over 1, and checks that every run gave the same
rows (the numbers; timings aside).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any


def _numbers(rows: list[dict[str, Any]]) -> list[Any]:
    drop = {"seconds", "train_seconds"}

    def clean(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items() if k not in drop}
        if isinstance(v, list):
            return [clean(x) for x in v]
        return v

    return clean(rows)


def once(
    experiment: str, seeds: str, workers: str, full: bool = False, reading: str = ""
) -> tuple[float, list[Any]]:
    with tempfile.TemporaryDirectory() as out:
        argv = [sys.executable, "-m", "verifier", "experiment", experiment]
        argv += [] if full else ["--quick"]
        argv += ["--reading", reading] if reading else []
        argv += ["--seeds", seeds, "--out", out, "--json"]
        argv += ["--workers", workers] if workers else []
        t0 = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t0
    return wall, _numbers(json.loads(done.stdout)["rows"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experiment", default="table1-init")
    ap.add_argument("--seeds", default="0..7")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--full", action="store_true", help="the full form (default: --quick)")
    ap.add_argument("--reading", default="", help="--reading for the runs (default: none)")
    ap.add_argument(
        "--runs", default="one process,1 worker,2 workers",
        help="which settings to run, comma-separated (default: all three)",
    )  # fmt: skip
    args = ap.parse_args()
    every = {"one process": "", "1 worker": "1", "2 workers": "2"}
    chosen = [r.strip() for r in args.runs.split(",")]
    if any(r not in every for r in chosen):  # an empty name too ("a,,b")
        ap.error(f"--runs: choose from {', '.join(every)} (got {args.runs[:60]!r})")
    settings = {k: every[k] for k in chosen}
    walls: dict[str, list[float]] = {k: [] for k in settings}
    results = {}
    for _ in range(args.repeat):
        for name, workers in settings.items():
            wall, rows = once(args.experiment, args.seeds, workers, args.full, args.reading)
            walls[name].append(wall)
            results[name] = rows
    first = next(iter(results.values()))
    same = all(rows == first for rows in results.values())
    for name, w in walls.items():
        print(f"{name:<12} best {min(w):6.1f} s  median {statistics.median(w):6.1f} s")
    if "1 worker" in walls and "2 workers" in walls:
        speedup = statistics.median(walls["1 worker"]) / statistics.median(walls["2 workers"])
        print(f"2 workers vs 1: {speedup:.2f}x (medians)")
    print(f"same rows in every run: {same}")
    for name, rows in results.items():  # which rows differ, if any
        for a, b in zip(first, rows, strict=True):
            if a != b:
                print(f"  {name}: row {a.get('key')!r} differs from the first setting's")


if __name__ == "__main__":
    main()
