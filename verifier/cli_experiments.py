"""``verify experiment NAME | list`` and ``verify report``: the torch experiments.

torch is imported only here, lazily, so every other command runs without it.
"""

from __future__ import annotations

import importlib.util
import json
from argparse import Namespace, _ActionsContainer, _SubParsersAction
from typing import Any, TextIO

from . import args as A
from .errors import UsageError
from .options import JSON, Option, add, command


def add_parsers(sub: _SubParsersAction[Any]) -> None:
    quick = Option(
        "--quick",
        "small form: seconds to a minute per experiment on a CPU (verdicts inconclusive)",
    )
    seeds = Option(
        "--seeds",
        "seed ensemble (table1, table2, table1-init, figure1): N = seeds 0..N-1, A..B, "
        f"or A,B,C (at most {A.MAX_SEEDS}); default: 5 seeds for the tables, 3 for figure1 "
        "(quick: seed 0)",
        A.seeds(),
    )
    reading = Option(
        "--reading",
        "run only these readings (comma-separated names); 'list' lists them",
        A.names(),
    )
    images = Option(
        "--images",
        "folder of images or CIFAR-10 .bin file (experiments that train on images)",
        A.path_text(),
    )
    p = command(
        sub,
        "experiment",
        _experiment,
        Option("name", "experiment name, 'list', or 'readings'"),
        quick,
        Option("--device", "cpu (default) or cuda", A.device()),
        Option("--seed", "one random seed, 0 ≤ N < 2**32 (default 0)", A.seed()),
        seeds,
        reading,
        Option("--out", "folder for rows (JSON) and figures (PNG)", A.path_text()),
        Option("--resume", "skip rows already in --out (needs --out)"),
        images,
        JSON,
        help="rerun one of the paper's experiments (torch)",
        description="Rerun one of the paper's experiments: 'list' names them, 'readings' lists "
        "the readings of what the paper leaves open.",
    )
    _add_cluster(p.add_mutually_exclusive_group())
    _add_report(sub)


def _add_cluster(where: _ActionsContainer) -> None:
    """``--workers`` or ``--scheduler``: where the rows of an experiment run."""
    workers = Option(
        "--workers",
        "run the rows (and seed groups) as tasks on a local Dask cluster of N worker "
        "processes (needs the 'cluster' extra)",
        A.Converter("workers", lambda a, t: A.check_int(a, t, 1, _max_workers())),
    )
    scheduler = Option(
        "--scheduler",
        "run them on an existing Dask cluster (e.g. tcp://host:8786; dask-jobqueue for Slurm/PBS)",
        A.address(),
        metavar="ADDRESS",
    )
    add(where, workers, scheduler)


def _add_report(sub: _SubParsersAction[Any]) -> None:
    command(
        sub,
        "report",
        _report,
        Option("--out", "folder to write the report into", A.path_text(), required=True),
        Option("--quick", "small forms: a few minutes on a CPU (inconclusive)"),
        Option("--device", "cpu (default) or cuda (checked before any run)", A.device()),
        Option("--seed", "random seed, 0 ≤ N < 2**32 (default 0)", A.seed()),
        help="one page with every experiment and its figures",
    )


def _need_torch() -> None:
    if importlib.util.find_spec("torch") is None:
        raise UsageError(
            "experiment", "torch", "torch is not installed; pip install torch==2.13.0 (CPU)"
        )


#: The legend under a list of readings.
READINGS_LEGEND = (
    "* = runs by default; [the paper's words] = on its axis, the reading that follows the "
    "paper's own text or printed numbers"
)


def _list_readings(name: str, out: TextIO) -> None:
    import numerics

    names = [name] if name != "readings" else [n for n, _ in numerics.list_experiments()]
    for one in names:
        found = numerics.readings_of(one)
        if not found and name != "readings":
            print(f"{one}: no readings (the paper's setup is used as described)", file=out)
        for reading, text, default in found:
            mark = "*" if default else " "
            print(f"{one:<14} {mark} {reading:<16} {text}", file=out)
    print(READINGS_LEGEND, file=out)


def _experiment(args: Namespace, out: TextIO, err: TextIO) -> int:
    _need_torch()
    import numerics

    if args.name == "list":
        A.refuse_unused(args, {"--json"}, "experiment list")
        if args.json:
            items = [{"name": n, "summary": s} for n, s in numerics.list_experiments()]
            json.dump({"experiments": items}, out, indent=1)
            out.write("\n")
            return 0
        for name, summary in numerics.list_experiments():
            print(f"{name:<16} {summary}", file=out)
        return 0
    listing = args.reading == ("list",)
    if args.name == "readings" or listing:
        if args.name != "readings":
            numerics.get_experiment(args.name)  # an unknown name is refused
        used = {"--reading"} if args.name != "readings" else set()
        A.refuse_unused(args, used, f"experiment {args.name}{' --reading list' if listing else ''}")
        _list_readings(args.name, out)
        return 0
    if args.resume and args.out is None:
        raise UsageError("--resume", True, "needs --out (the folder whose rows it continues)")
    exp = numerics.get_experiment(args.name)
    if args.images is not None and exp.images_needed == 0:
        raise UsageError(
            "--images", args.images, f"not used by {args.name} (it makes its own images)"
        )
    from .runner import print_result, run_experiment

    result = run_experiment(
        args.name,
        quick=args.quick,
        device=args.device or "cpu",
        seed=args.seed,
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


def _max_workers() -> int:
    from .cluster import MAX_WORKERS

    return int(MAX_WORKERS)


def _cluster(args: Namespace) -> Any:
    """``--workers N`` / ``--scheduler ADDRESS`` as a :class:`verifier.cluster.Cluster`."""
    from .cluster import Cluster

    if args.scheduler is not None:
        return Cluster(scheduler=args.scheduler)
    if args.workers is None:
        return None
    return Cluster(workers=args.workers)


def _report(args: Namespace, out: TextIO, err: TextIO) -> int:
    _need_torch()
    from .report import write_report
    from .report_inputs import audit_table, check_outcomes
    from .runner import check_device
    from .store import check_out_folder, folder_lock

    seed = 0 if args.seed is None else args.seed
    device = check_device(args.device or "cpu")
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
