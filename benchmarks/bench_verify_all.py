"""``verify all`` in one process and in several: wall time of the whole command.

    python benchmarks/bench_verify_all.py                # --jobs 1 and the default, 3 each
    python benchmarks/bench_verify_all.py --jobs 1,2,4 --repeat 5 --quick

Each run is a fresh ``python -m proofs all`` process (imports included, as a user sees it),
alternating the job counts so that a machine's drift affects them alike; prints the best and
the median per job count, and checks that every run gave the same statuses.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time


def once(jobs: str, quick: bool) -> tuple[float, list[tuple[str, str]]]:
    argv = [sys.executable, "-m", "proofs", "all", "--json"]
    argv += ["--jobs", jobs] if jobs else []
    argv += ["--quick"] if quick else []
    t0 = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    statuses = [(c["id"], c["status"]) for c in json.loads(out.stdout)["checks"]]
    return wall, statuses


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", default="1,", help="comma-separated job counts ('' = default)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    counts = [j.strip() for j in args.jobs.split(",")]
    walls: dict[str, list[float]] = {j: [] for j in counts}
    seen = set()
    for _ in range(args.repeat):
        for j in counts:
            wall, statuses = once(j, args.quick)
            walls[j].append(wall)
            seen.add(tuple(statuses))
    report = {
        (f"jobs={j}" if j else "jobs=default"): {
            "best_s": round(min(w), 2),
            "median_s": round(statistics.median(w), 2),
        }
        for j, w in walls.items()
    }
    report["same_statuses_every_run"] = len(seen) == 1
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
