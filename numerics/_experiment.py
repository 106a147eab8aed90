"""The experiment protocol and runner behind ``verify experiment``.

An :class:`Experiment` yields its rows as ``(key, thunk)`` pairs; the runner computes each
row, writes every finished row to ``OUT/NAME.json`` at once (an interrupted run keeps them),
skips rows already there with ``resume``, then draws the figures.

Seed ensembles (Tables 1-2): an experiment with ``ensembles=True`` runs every row over the
seeds ``cfg.seeds`` and its thunk takes the previous row of that key (``None`` when there is
none): with ``resume``, seeds already in its ``per_seed`` list are reused and only the
missing ones are trained. ``readings`` name the choices the paper leaves open; ``verdict``
turns the rows into the experiment's verdict against the paper's claims.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from symconv import ArgumentError

from ._store import RowStore, RunInterrupted, check_out_folder


class ExperimentError(ArgumentError):
    """A bad experiment argument; the message names the argument and its value."""


@dataclass(frozen=True)
class RunConfig:
    quick: bool = True
    device: str = "cpu"
    seed: int = 0
    out: Path | None = None
    images: str | None = None  # folder of images or a CIFAR-10 binary batch file
    progress: bool = False
    log: TextIO = field(default=sys.stderr)
    #: the seeds of an ensemble run (``seed`` is the first); on ``--resume`` finished seeds
    #: of a row are reused one by one, so the seeds are not part of a run's identity
    seeds: tuple[int, ...] = (0,)
    #: ``--reading`` names selecting the readings to run (empty: the experiment's defaults);
    #: rows record the reading they ran, so a resumed row is reused only for its own reading
    reading: tuple[str, ...] = ()

    def identity(self, name: str, *, per_seed: bool = False) -> dict[str, Any]:
        """What makes two runs' rows interchangeable (stored as ``config`` in ``NAME.json``;
        ``--resume`` reuses rows only under an equal identity): the experiment, quick or
        full, the seed, the images (absolute path plus size and modification time of each
        file) and the row format. Not the device, the output folder or the logging.

        ``per_seed``: the experiment's rows keep one entry per seed (the ensembles of
        Tables 1–2) and a resumed row reuses exactly its finished seeds, so the seeds are
        not part of the identity; each row also records its reading, and is reused only for
        it, so the ``--reading`` selection is not either."""
        from ._data import images_identity

        ident: dict[str, Any] = {
            "experiment": name,
            "row_format": ROW_FORMAT,
            "quick": bool(self.quick),
            "seed": int(self.seed),
            "images": images_identity(self.images),
        }
        if per_seed:
            del ident["seed"]
        else:  # one row per configuration: the reading decides what the rows mean
            ident["reading"] = list(self.reading)
        return ident


#: Version of the rows' fields; a change makes older rows files non-resumable.
#: 2: Tables 1–2 rows hold one entry per seed (``per_seed``) and their reading.
ROW_FORMAT = 2

#: At most this many seeds in one ensemble run (each seed is a full training).
MAX_SEEDS = 64

Row = dict[str, Any]


@dataclass(frozen=True)
class Experiment:
    name: str
    summary: str
    #: ``(key, thunk)`` per row; the thunk takes no argument, or with ``ensembles`` the
    #: previous row of that key (``None`` when there is none)
    rows: Callable[[RunConfig], Iterable[tuple[str, Callable[..., Row]]]]
    figures: Callable[[RunConfig, list[Row]], list[Path]] | None = None
    notes: str = ""  # the paper's setup and our choices where it is silent (for the report)
    ensembles: bool = False  # rows run over cfg.seeds; thunks take the previous row
    default_seeds: int = 1  # seeds of the full form when neither --seed nor --seeds is given
    #: the readings this experiment offers: ``[(name, description, runs by default)]``
    readings: Callable[[], list[tuple[str, str, bool]]] | None = None
    #: the experiment's verdict from its rows: ``{"verdict": ..., "rule": ..., ...}``
    verdict: Callable[[RunConfig, list[Row]], dict[str, Any]] | None = None
    #: images the experiment takes from ``--images`` (checked before any training)
    images_needed: int = 0


#: Experiment name -> module defining ``EXPERIMENTS: list[Experiment]`` (imported lazily).
EXPERIMENT_MODULES: dict[str, str] = {
    "table1": "numerics.tables",
    "table2": "numerics.tables",
    "table1-init": "numerics.tables",
    "downsampling": "numerics.downsampling",
    "nonlinear": "numerics.nonlinear",
    "early-stopping": "numerics.early_stopping",
    "initialization": "numerics.initialization",
    "figure1": "numerics.figure1",
}


def get_experiment(name: str) -> Experiment:
    if name not in EXPERIMENT_MODULES:
        raise ExperimentError(
            "NAME", name, f"unknown experiment; known: {', '.join(EXPERIMENT_MODULES)}"
        )
    module = importlib.import_module(EXPERIMENT_MODULES[name])
    for exp in module.EXPERIMENTS:
        if exp.name == name:
            return exp
    raise ExperimentError("NAME", name, f"not defined in {EXPERIMENT_MODULES[name]}")


def list_experiments() -> list[tuple[str, str]]:
    out = []
    for name in EXPERIMENT_MODULES:
        try:
            out.append((name, get_experiment(name).summary))
        except ImportError as exc:
            out.append((name, f"(unavailable: {exc})"))
    return out


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"N"`` → seeds ``0..N−1``; ``"A..B"`` → ``A..B`` inclusive; ``"A,B,C"`` → those.

    Raises :class:`ExperimentError` naming ``--seeds`` on anything else."""
    t = text.strip()
    try:
        if ".." in t:
            a, _, b = t.partition("..")
            lo, hi = int(a), int(b)
            if lo < 0 or hi < lo:
                raise ValueError
            if hi - lo + 1 > MAX_SEEDS:
                raise ExperimentError("--seeds", text, f"at most {MAX_SEEDS} seeds in one run")
            return tuple(range(lo, hi + 1))
        if "," in t:
            out = tuple(int(v) for v in t.split(","))
            if any(v < 0 for v in out) or len(set(out)) != len(out):
                raise ValueError
            return out
        n = int(t)
        if n < 1:
            raise ValueError
        if n > MAX_SEEDS:
            raise ExperimentError("--seeds", text, f"at most {MAX_SEEDS} seeds in one run")
        return tuple(range(n))
    except ValueError:
        raise ExperimentError(
            "--seeds", text, "expected N (seeds 0..N-1), A..B with 0 <= A <= B, or A,B,C"
        ) from None


def check_device(device: str) -> str:
    if device == "cpu":
        return device
    import torch

    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ExperimentError("--device", device, "must be cpu or cuda")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ExperimentError("--device", device, "CUDA is not available on this machine")
    return device


#: Seeds accepted by ``--seed``: numpy's and torch's generators take 0 ≤ seed < 2**32.
MAX_SEED = 2**32 - 1


def check_seed(seed: object, argument: str = "--seed") -> int:
    """``seed`` as an int in ``0..MAX_SEED``; text is parsed (one line naming ``--seed``)."""
    if isinstance(seed, bool):
        raise ExperimentError(argument, seed, "must be an integer")
    if isinstance(seed, str):
        try:
            seed = int(seed.strip())
        except ValueError:
            raise ExperimentError(argument, seed, "must be an integer") from None
    if not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ExperimentError(argument, seed, f"must be an integer in 0..{MAX_SEED} (2**32 − 1)")
    return seed


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
) -> dict[str, Any]:
    """Run experiment ``name``: ``{"experiment": name, "rows": [...], "figures": [...]}``
    (plus ``"verdict"`` for experiments that state one).

    ``seeds`` (``"N"``, ``"A..B"`` or a tuple) runs every row of an ensemble experiment over
    those seeds; ``seed`` is one seed; with neither, the full form runs the experiment's
    ``default_seeds`` seeds 0.. and the quick form seed 0. ``reading`` (comma-separated
    names) selects readings (see :func:`readings_of`)."""
    exp = get_experiment(name)
    if seed is not None:
        seed = check_seed(seed)
    if images is not None:
        from ._data import check_images

        check_images(images, need=exp.images_needed)
    if out is not None:
        out = check_out_folder(out, "--out")  # before any work: '' or a file is refused
    log = log if log is not None else sys.stderr
    if seeds is not None and seed is not None:
        raise ExperimentError("--seeds", seeds, "give --seed or --seeds, not both")
    if seeds is not None:
        chosen = parse_seeds(seeds) if isinstance(seeds, str) else tuple(seeds)
        if len(chosen) > MAX_SEEDS:
            raise ExperimentError(
                "--seeds", seeds, f"at most {MAX_SEEDS} seeds in one run (got {len(chosen)})"
            )
        for s_ in chosen:
            check_seed(s_, "--seeds")
        if len(chosen) > 1 and not exp.ensembles:
            raise ExperimentError(
                "--seeds",
                seeds,
                f"{name} runs one seed; use --seed (ensembles: table1, table2, table1-init)",
            )
    elif seed is not None:
        chosen = (seed,)
    else:
        chosen = tuple(range(1 if quick or not exp.ensembles else exp.default_seeds))
    names = tuple(reading.split(",")) if isinstance(reading, str) else tuple(reading or ())
    if names:
        known = {n for n, _, _ in (exp.readings() if exp.readings else [])}
        for r in names:
            if r not in known:
                raise ExperimentError(
                    "--reading",
                    r,
                    f"not a reading of {name}; known: " + (", ".join(sorted(known)) or "none"),
                )
    cfg = RunConfig(
        quick=quick,
        device=check_device(device),
        seed=chosen[0],
        out=Path(out) if out is not None else None,
        images=images,
        # progress bars redraw with carriage returns: only on a terminal, never into a log file
        progress=progress and _is_terminal(log),
        log=log,
        seeds=chosen,
        reading=names,
    )
    if out is None:
        return _run(exp, cfg, None)
    with RowStore.open(
        out, name, cfg.identity(name, per_seed=exp.ensembles), resume=resume
    ) as store:
        return _run(exp, cfg, store)


def _run(exp: Experiment, cfg: RunConfig, store: RowStore | None) -> dict[str, Any]:
    """Compute (or reuse) each row, store it at once, then draw the figures."""
    done = store.done if store is not None else {}
    rows: list[Row] = []
    try:
        for key, thunk in exp.rows(cfg):
            if exp.ensembles:  # reuses the finished seeds of the previous row, trains the rest
                row = {"key": key, **thunk(done.get(key))}
            elif key in done:
                row = done[key]
            else:
                row = {"key": key, **thunk()}
            rows.append(row)
            if store is not None:
                store.write(rows)
    except KeyboardInterrupt:
        kept = store.written if store is not None else 0
        raise RunInterrupted(exp.name, kept, store.path if store else None) from None
    result: dict[str, Any] = {"experiment": exp.name, "rows": rows}
    if exp.verdict is not None:
        result["verdict"] = exp.verdict(cfg, rows)
        if store is not None:
            store.write(rows, verdict=result["verdict"])
    figures: list[str] = []
    if cfg.out is not None and exp.figures is not None:
        figures = [str(p) for p in exp.figures(cfg, rows)]
    return {**result, "figures": figures}


def readings_of(name: str) -> list[tuple[str, str, bool]]:
    """The readings experiment ``name`` offers: ``(name, description, runs by default)``."""
    exp = get_experiment(name)
    return exp.readings() if exp.readings is not None else []


def _short(value: Any) -> str:
    """A row value as printed: floats to 4 significant digits."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


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
            head = ", ".join(f"{v:.3g}" for v in spec[:4]) + (" ..." if len(spec) > 4 else "")
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
