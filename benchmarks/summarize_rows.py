"""Recompute the verdict and the figures of a Tables 1–2 rows file that a run left partial.

A full ensemble run writes every finished row to ``DIR/NAME.json`` at once and adds the
experiment's verdict when it ends. A run stopped early (a deadline, Ctrl-C) keeps its rows
but has no verdict yet; this script applies the same rule (``numerics.tables``'s
``experiment_verdict``, which skips readings without a finished row) to the rows that are
there, marks the file ``stopped_early``, and redraws the spectra figure. No row is changed
or recomputed.

    python benchmarks/summarize_rows.py table2 docs/results
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from numerics import RunConfig, get_experiment, tables
from verifier import write_atomic

NAMES = ("table1", "table1-init", "table2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=NAMES)
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    path = args.folder / f"{args.name}.json"
    obj = json.loads(path.read_text())
    cfg = RunConfig(quick=bool(obj.get("config", {}).get("quick", False)), out=args.folder)
    rows = obj["rows"]
    obj["verdict"] = tables.experiment_verdict(args.name)(cfg, rows)
    obj["stopped_early"] = True
    write_atomic(path, json.dumps(obj, indent=1))
    figures = get_experiment(args.name).figures
    assert figures is not None
    figures(cfg, rows)  # the experiment's own figures, titles included
    print(f"{path}: {len(rows)} rows, verdict {obj['verdict']['verdict']}")


if __name__ == "__main__":
    main()
