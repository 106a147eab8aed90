"""``verify experiment NAME | list`` and ``verify report``: the torch experiments.

torch is imported only here, lazily, so every other command runs without it.
"""

from __future__ import annotations

import importlib.util
import json
from argparse import Namespace, _SubParsersAction
from typing import Any, TextIO

from .errors import UsageError


def add_parsers(sub: _SubParsersAction[Any]) -> None:
    p = sub.add_parser("experiment", help="rerun one of the paper's experiments (torch)")
    p.add_argument("name", help="experiment name, 'list', or 'readings' (with --reading list)")
    p.add_argument("--quick", action="store_true", help="small form, minutes on a CPU")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--seed", default=None, help="one random seed, 0 ≤ N < 2**32 (default 0)")
    p.add_argument(
        "--seeds",
        default=None,
        help="seed ensemble (table1, table2, table1-init): N = seeds 0..N-1, A..B, or A,B,C "
        "(at most 64); default: 5 seeds for table1 and table1-init, 3 for table2 "
        "(quick: seed 0)",
    )
    p.add_argument(
        "--reading",
        default=None,
        help="run only these readings (comma-separated names); 'list' lists them",
    )
    p.add_argument("--out", default=None, help="folder for rows (JSON) and figures (PNG)")
    p.add_argument("--resume", action="store_true", help="skip rows already in --out")
    p.add_argument("--images", default=None, help="folder of images or CIFAR-10 .bin file")
    p.add_argument("--json", action="store_true")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        default=None,
        help="run the rows (and seed groups) as tasks on a local Dask cluster of N worker "
        "processes (needs the 'cluster' extra)",
    )
    where.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run them on an existing Dask cluster (e.g. tcp://host:8786; dask-jobqueue for "
        "Slurm/PBS)",
    )
    p.set_defaults(handler=_experiment)

    p = sub.add_parser("report", help="one page with every experiment and its figures")
    p.add_argument("--out", required=True, help="folder to write the report into")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--device", default="cpu", help="cpu or cuda (checked before any run)")
    p.add_argument("--seed", default="0", help="random seed, 0 ≤ N < 2**32 (default 0)")
    p.set_defaults(handler=_report)


def _need_torch() -> None:
    if importlib.util.find_spec("torch") is None:
        raise UsageError(
            "experiment", "torch", "torch is not installed; pip install torch==2.13.0 (CPU)"
        )


def _seed(text: str) -> int:
    from .runner import check_seed

    return check_seed(text)


def _experiment(args: Namespace, out: TextIO, err: TextIO) -> int:
    _need_torch()
    import numerics

    if args.name == "list":
        if args.json:
            items = [{"name": n, "summary": s} for n, s in numerics.list_experiments()]
            json.dump({"experiments": items}, out, indent=1)
            out.write("\n")
            return 0
        for name, summary in numerics.list_experiments():
            print(f"{name:<16} {summary}", file=out)
        return 0
    if args.name == "readings" or args.reading == "list":
        names = [args.name] if args.name != "readings" else ["table1", "table1-init", "table2"]
        for name in names:
            found = numerics.readings_of(name)
            if not found and args.name != "readings":
                print(f"{name}: no readings (the paper's setup is used as described)", file=out)
            for reading, text, default in found:
                mark = "*" if default else " "
                print(f"{name:<12} {mark} {reading:<16} {text}", file=out)
        print("* = runs by default", file=out)
        return 0
    from .runner import print_result, run_experiment

    result = run_experiment(
        args.name,
        quick=args.quick,
        device=args.device,
        seed=_seed(args.seed) if args.seed is not None else None,
        seeds=args.seeds,
        reading=args.reading,
        out=args.out,
        resume=args.resume,
        images=args.images,
        progress=not args.json,
        log=err,
        cluster=_cluster(args),
    )
    if args.json:
        json.dump(result, out, indent=1)
        out.write("\n")
    else:
        print_result(result, out)
    return 0


def _cluster(args: Namespace) -> Any:
    """``--workers N`` / ``--scheduler ADDRESS`` as a :class:`verifier.cluster.Cluster`."""
    from .cluster import MAX_WORKERS, Cluster

    if args.scheduler is not None:
        if not args.scheduler.strip():
            raise UsageError("--scheduler", args.scheduler, "an address such as tcp://host:8786")
        return Cluster(scheduler=args.scheduler)
    if args.workers is None:
        return None
    text = args.workers
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_WORKERS:
        raise UsageError("--workers", text, f"must be an integer in 1..{MAX_WORKERS}")
    return Cluster(workers=int(text))


def _report(args: Namespace, out: TextIO, err: TextIO) -> int:
    _need_torch()
    from .report import write_report
    from .report_inputs import audit_table, check_outcomes
    from .runner import check_device
    from .store import check_out_folder, folder_lock

    seed = _seed(args.seed or "0")
    device = check_device(args.device)
    folder = check_out_folder(args.out, "--out")
    with folder_lock(args.out, folder, "report", what="a report"):  # one report at a time
        path = write_report(
            folder,
            quick=args.quick,
            device=device,
            seed=seed,
            log=err,
            checks=check_outcomes(args.quick, err),
            audit=audit_table(),
        )
    print(f"report written to {path}", file=out)
    return 0
