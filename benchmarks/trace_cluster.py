"""Where a cluster run's time goes: ``verify experiment NAME --workers N`` in this process,
each task's start and end (seconds from the run's start) and the worker process that ran
it, so that idle workers and the tail of a sweep show.

Every task (a row's seed group on a worker, and the coordinator assembling each row) is
timed where it runs and appended to a log in a temporary folder; the script prints them in
the order they started, and each worker's busy time.

    python benchmarks/trace_cluster.py --experiment table2 --full --reading identity-blocks \\
        --seeds 0..7 --workers 2        # about 3 min on 2 cores
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import verifier.cluster as cluster
from verifier.runner import run_experiment

REAL = cluster.compute_row


def traced(
    module: str, name: str, settings: dict[str, Any], key: str, previous: Any, log: str = "",
    real: Any = REAL,
) -> Any:  # fmt: skip
    """:func:`verifier.cluster.compute_row`, its start and end appended to ``log``."""
    start = time.time()
    row = real(module, name, settings, key, previous)
    entry = {"key": key, "seeds": settings["seeds"], "start": start, "end": time.time(),
             "pid": os.getpid()}  # fmt: skip
    with open(log, "a") as fh:
        fh.write(json.dumps(entry) + "\n")
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--experiment", default="table2")
    ap.add_argument("--seeds", default="0..3")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--full", action="store_true", help="the full form (default: --quick)")
    ap.add_argument("--reading", default="", help="--reading for the run (default: none)")
    args = ap.parse_args()
    if args.workers < 1:
        ap.error("--workers must be at least 1")
    with tempfile.TemporaryDirectory() as tmp:
        log = str(Path(tmp) / "tasks.jsonl")
        Path(log).touch()
        # pickled by value (this module is __main__), so the workers run the traced one
        cluster.compute_row = lambda *a: traced(*a, log=log)  # type: ignore[assignment]
        t0 = time.time()
        run_experiment(
            args.experiment, quick=not args.full, seeds=args.seeds, reading=args.reading or None,
            out=Path(tmp) / "out", log=None, cluster=cluster.Cluster(workers=args.workers),
        )  # fmt: skip
        wall = time.time() - t0
        tasks = [json.loads(line) for line in Path(log).read_text().splitlines()]
    coordinator = os.getpid()
    busy: dict[str, float] = {}
    for t in sorted(tasks, key=lambda t: t["start"]):
        who = "coordinator" if t["pid"] == coordinator else f"worker {t['pid']}"
        busy[who] = busy.get(who, 0.0) + t["end"] - t["start"]
        seeds = ",".join(map(str, t["seeds"]))
        print(f"{who:14} {t['key']:30} seeds {seeds:16} {t['start'] - t0:7.1f} "
              f"{t['end'] - t0:7.1f} s  ({t['end'] - t['start']:.1f} s)")  # fmt: skip
    print(f"wall {wall:.1f} s; busy: " + ", ".join(f"{k} {v:.1f} s" for k, v in busy.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
