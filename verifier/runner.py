"""The experiment runner behind ``verify experiment``: arguments checked, then each row
computed (or reused), stored the moment it finishes, the verdict and the figures last.

The experiments themselves (:mod:`numerics`) only declare rows; this module owns the run:
the seeds, the device, the output folder and its rows file (:mod:`verifier.store`), the
progress bars, and the printed table.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from numerics import MAX_SEEDS, Experiment, Row, RunConfig, get_experiment

from . import args as A
from .cluster import Cluster, run_on_cluster
from .errors import UsageError, shown
from .rowcheck import check_resumed_rows
from .store import OutFolder, RowStore, RunInterrupted, check_out_folder, check_run_files

__all__ = [
    "MAX_SEED",
    "check_device",
    "check_seed",
    "parse_seeds",
    "print_result",
    "run_experiment",
]


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"N"`` → seeds ``0..N−1``; ``"A..B"`` → ``A..B`` inclusive; ``"A,B,C"`` → those.

    Raises :class:`UsageError` naming ``--seeds`` on anything else (the converter of
    ``--seeds``, :func:`verifier.args.seeds`)."""
    return A.check_seeds("--seeds", text)


def check_device(device: str) -> str:
    """``device`` if this machine has it: ``cpu``, or ``cuda``/``cuda:N`` where CUDA is."""
    A.device().convert("--device", device)  # the converter's syntax, for library callers
    if device == "cpu":
        return device
    import torch

    if not torch.cuda.is_available():
        raise UsageError("--device", device, "CUDA is not available on this machine")
    index = device.partition(":")[2]
    if index and int(index) >= torch.cuda.device_count():
        raise UsageError("--device", device, f"this machine has {torch.cuda.device_count()} GPU(s)")
    return device


#: Seeds accepted by ``--seed``: numpy's and torch's generators take 0 ≤ seed < 2**32.
MAX_SEED = A.MAX_SEED


def check_seed(seed: object, argument: str = "--seed") -> int:
    """``seed`` as an int in ``0..MAX_SEED``; text is parsed by the ``--seed`` converter."""
    if isinstance(seed, bool):
        raise UsageError(argument, seed, "must be an integer")
    if isinstance(seed, str):
        return A.check_seed(argument, seed)
    if not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise UsageError(argument, seed, f"must be an integer in 0..{MAX_SEED} (2**32 − 1)")
    return seed


def _choose_seeds(
    exp: Experiment, quick: bool, seed: int | None, seeds: str | tuple[int, ...] | None
) -> tuple[int, ...]:
    if seeds is not None and seed is not None:
        raise UsageError("--seeds", seeds, "give --seed or --seeds, not both")
    if seeds is None:
        if seed is not None:
            return (seed,)
        return tuple(range(1 if quick or not exp.ensembles else exp.default_seeds))
    chosen = parse_seeds(seeds) if isinstance(seeds, str) else tuple(seeds)
    if len(chosen) > MAX_SEEDS:
        raise UsageError(
            "--seeds", seeds, f"at most {MAX_SEEDS} seeds in one run (got {len(chosen)})"
        )
    if len(set(chosen)) != len(chosen):
        raise UsageError("--seeds", seeds, "a seed appears twice")
    for s_ in chosen:
        check_seed(s_, "--seeds")
    if len(chosen) > 1 and not exp.ensembles:
        raise UsageError(
            "--seeds",
            seeds,
            f"{exp.name} runs one seed; use --seed "
            "(ensembles: table1, table2, table1-init, figure1)",
        )
    return chosen


def _choose_readings(exp: Experiment, reading: str | tuple[str, ...] | None) -> tuple[str, ...]:
    names = tuple(reading.split(",")) if isinstance(reading, str) else tuple(reading or ())
    if len(set(names)) != len(names):
        raise UsageError("--reading", ",".join(names), "a reading appears twice")
    known = {n for n, _, _ in (exp.readings() if exp.readings else [])}
    for r in names:
        if r not in known:
            raise UsageError(
                "--reading",
                r,
                f"not a reading of {exp.name}; known: " + (", ".join(sorted(known)) or "none"),
            )
    return names


def run_experiment(
    name: str,
    *,
    quick: bool = True,
    device: str = "cpu",
    seed: int | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    images: str | None = None,
    progress: bool = False,
    log: TextIO | None = None,
    seeds: str | tuple[int, ...] | None = None,
    reading: str | tuple[str, ...] | None = None,
    cluster: Cluster | None = None,
) -> dict[str, Any]:
    """Run experiment ``name``: ``{"experiment": name, "rows": [...], "figures": [...]}``
    (plus ``"verdict"`` for experiments that state one).

    ``seeds`` (``"N"``, ``"A..B"`` or a tuple) runs every row of an ensemble experiment over
    those seeds; ``seed`` is one seed; with neither, the full form runs the experiment's
    ``default_seeds`` seeds 0.. and the quick form seed 0. ``reading`` (comma-separated
    names) selects readings (see :func:`readings_of`). ``cluster`` runs the rows as Dask
    tasks (:mod:`verifier.cluster`); the rows file is still written here alone."""
    # every check first: nothing on disk changes before a refusal
    exp = get_experiment(name)
    if seed is not None:
        seed = check_seed(seed)
    chosen = _choose_seeds(exp, quick, seed, seeds)
    names = _choose_readings(exp, reading)
    device = check_device(device)
    if images is not None:
        from numerics import check_images

        check_images(images, need=exp.images_needed)
    if resume and out is None:
        raise UsageError("--resume", True, "needs --out (the folder whose rows it continues)")
    if out is not None:
        check_out_folder(out, "--out", create=False)
        check_run_files(out, name, resume=resume)
        out = check_out_folder(out, "--out")
    log = log if log is not None else sys.stderr
    cfg = RunConfig(
        quick=quick,
        device=device,
        seed=chosen[0],
        out=OutFolder(Path(out)) if out is not None else None,
        images=images,
        # progress bars redraw with carriage returns: only on a terminal, never into a log file
        progress=progress and _is_terminal(log),
        log=log,
        seeds=chosen,
        reading=names,
    )
    if out is None:
        return _run(exp, cfg, None, cluster)
    with RowStore.open(
        out, name, cfg.identity(name, per_seed=exp.ensembles), resume=resume
    ) as store:
        return _run(exp, cfg, store, cluster)


def _run(
    exp: Experiment, cfg: RunConfig, store: RowStore | None, cluster: Cluster | None = None
) -> dict[str, Any]:
    """Compute (or reuse) each row, store it at once, then draw the figures."""
    done = _resumed(exp, cfg, store) if store is not None else {}
    cfg = replace(cfg, previous=done)
    rows: list[Row] = []
    reuse = _Reuse()
    # on a cluster rows finish in any order; the file keeps the experiment's
    order = {k: i for i, (k, _) in enumerate(exp.rows(cfg))} if cluster is not None else {}

    def finished(row: Row) -> None:
        reuse.count(row, done.get(row["key"]))
        rows.append(row)
        if cluster is not None:
            rows.sort(key=lambda r: order[r["key"]])
        if store is not None:
            store.write(rows)

    try:
        if cluster is not None:
            run_on_cluster(exp, cfg, done, cluster, finished)
        for key, thunk in [] if cluster is not None else exp.rows(cfg):
            # a seed ensemble's row reuses the finished seeds of cfg.previous itself
            finished(done[key] if key in done and not exp.ensembles else {"key": key, **thunk()})
    except KeyboardInterrupt:
        kept = store.written if store is not None else 0
        raise RunInterrupted(exp.name, kept, store.path if store else None) from None
    if done:
        print(f"--resume: {exp.name}: {reuse}", file=cfg.log)
    result: dict[str, Any] = {"experiment": exp.name, "rows": rows}
    if exp.verdict is not None:
        result["verdict"] = exp.verdict(cfg, rows)
        if store is not None:
            store.write(rows, verdict=result["verdict"])
    figures: list[str] = []
    if cfg.out is not None and exp.figures is not None:
        figures = [str(p) for p in exp.figures(cfg, rows)]
    return {**result, "figures": figures}


def _resumed(exp: Experiment, cfg: RunConfig, store: RowStore) -> dict[str, Row]:
    """The rows ``--resume`` reuses, each read back through the experiment's row schema or
    (without one) checked by :func:`verifier.rowcheck.check_resumed_rows`; a bad row is one
    line naming the field, its value and the file."""
    from numerics import ExperimentError

    done = store.done
    try:
        if exp.row_schema is not None:
            return {k: {"key": k, **exp.row_schema(r)} for k, r in done.items()}
        if done:  # the fields the run relies on, and keys this configuration makes
            keys = None if exp.ensembles else {k for k, _ in exp.rows(cfg)}
            check_resumed_rows(exp.name, done, keys)
    except (UsageError, ExperimentError) as exc:
        value = "" if exc.value is None else f", was {shown(exc.value)}"
        raise UsageError("--resume", str(store.path), f"{exc.why}{value}") from None
    return done


class _Reuse:
    """What a resumed run reused and what it computed: rows, and the seeds of ensembles."""

    def __init__(self) -> None:
        self.rows = [0, 0]  # reused, computed
        self.seeds = [0, 0]  # reused, trained

    def count(self, row: Row, previous: Row | None) -> None:
        old = {p["seed"]: p for p in (previous or {}).get("per_seed", [])}
        per = row.get("per_seed") or []
        kept = sum(1 for p in per if old.get(p["seed"]) == p)
        self.seeds[0] += kept
        self.seeds[1] += len(per) - kept
        self.rows[0 if row == previous or (per and kept == len(per)) else 1] += 1

    def __str__(self) -> str:
        text = f"{self.rows[0]} row(s) reused, {self.rows[1]} computed"
        if any(self.seeds):
            text += f"; {self.seeds[0]} seed run(s) reused, {self.seeds[1]} trained"
        return text


def _short(value: Any) -> str:
    """A row value as printed: floats to 4 significant digits."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _short3(value: Any) -> str:
    """A spectrum entry as printed: 3 significant digits (``nan`` for a stored null)."""
    return f"{value:.3g}" if isinstance(value, (int, float)) else "nan"


def print_result(result: dict[str, Any], out: TextIO) -> None:
    """A readable table of the rows: configuration, loss, iterations, seconds, spectrum head;
    for seed ensembles the seeds, how many reached the target, the median leading
    eigenvalues and the verdict, with flags for quick and unreached runs."""
    print(f"experiment {result['experiment']}", file=out)
    for row in result["rows"]:
        if "per_seed" in row:
            _print_ensemble_row(row, out)
            continue
        skip = {"key", "spectrum", "loss", "iterations", "seconds"}
        parts = [
            f"{k}={_short(v)}"
            for k, v in row.items()
            if k not in skip and not isinstance(v, (list, dict))
        ]
        loss = row.get("loss")
        if isinstance(loss, (int, float)):
            parts.append(f"loss={loss:.2e}")
        if "iterations" in row:
            parts.append(f"it={row['iterations']}")
        parts.append(f"t={row.get('seconds', 0):.1f}s")
        spec = row.get("spectrum")
        if spec:
            head = ", ".join(_short3(v) for v in spec[:4]) + (" ..." if len(spec) > 4 else "")
            parts.append(f"spectrum=[{head}]")
        if row.get("reached") is False and "stopped_at" not in row:
            parts.append(" ** did not reach the loss target **")
        print(f"  {row['key']:<24} {' '.join(parts)}", file=out)
    verdict = result.get("verdict")
    if verdict:
        flag = "  (QUICK FORM: inconclusive by rule)" if verdict.get("quick") else ""
        print(f"verdict: {verdict['verdict']}{flag}", file=out)
        for name, v in verdict.get("readings", {}).items():
            claims = "; ".join(f"{c}: {d['verdict']}" for c, d in v["claims"].items())
            print(f"  reading {name:<22} {v['verdict']:<12} {claims}", file=out)
    for f in result.get("figures", []):
        print(f"  figure: {f}", file=out)


def _print_ensemble_row(row: Row, out: TextIO) -> None:
    per = row["per_seed"]
    reached = sum(1 for p in per if p.get("reached"))
    eig = (row.get("summary") or {}).get("eigenvalues") or []
    med = ", ".join(f"{e['median']:.3g}" for e in eig)
    frac = (row.get("summary") or {}).get("memorized_fraction")
    mem = "n/a" if frac is None else f"{frac:.0%}"
    flags = []
    if row.get("quick"):
        flags.append("QUICK")
    if reached < len(per):
        flags.append(f"DID NOT REACH THE TARGET: {len(per) - reached} of {len(per)} seeds")
    flag = f"  [{'; '.join(flags)}]" if flags else ""
    print(
        f"  {row['key']:<30} {row['conv_layers']}L x {row['filters']}F "
        f"reading={row.get('reading', '')} seeds={len(per)} reached={reached}/{len(per)} "
        f"memorized={mem} median eigenvalues=[{med}] it<={row.get('iterations')} "
        f"t={row.get('seconds', 0):.1f}s verdict={row.get('verdict')} "
        f"({row.get('verdict_reason', '')}){flag}",
        file=out,
    )
