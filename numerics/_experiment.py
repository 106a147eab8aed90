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
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

__all__ = [
    "EXPERIMENT_MODULES",
    "Experiment",
    "ExperimentError",
    "RunConfig",
    "get_experiment",
    "list_experiments",
    "parse_seeds",
    "print_result",
    "readings_of",
    "run_experiment",
]


class ExperimentError(ValueError):
    """A bad experiment argument; the message names the argument and its value."""

    def __init__(self, argument: str, value: object, why: str) -> None:
        self.argument = argument
        self.value = value
        super().__init__(f"{argument}: {why} (got {value!r})")


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


Row = dict[str, Any]


@dataclass(frozen=True)
class Experiment:
    name: str
    summary: str
    rows: Callable[[RunConfig], Iterable[tuple[str, Callable[[], Row]]]]
    figures: Callable[[RunConfig, list[Row]], list[Path]] | None = None
    notes: str = ""  # the paper's setup and our choices where it is silent (for the report)
    ensembles: bool = False  # rows run over cfg.seeds; thunks take the previous row
    default_seeds: int = 1  # seeds of the full form when neither --seed nor --seeds is given
    #: the readings this experiment offers: ``[(name, description, runs by default)]``
    readings: Callable[[], list[tuple[str, str, bool]]] | None = None
    #: the experiment's verdict from its rows: ``{"verdict": ..., "rule": ..., ...}``
    verdict: Callable[[RunConfig, list[Row]], dict[str, Any]] | None = None


#: Experiment name -> module defining ``EXPERIMENTS: list[Experiment]`` (imported lazily).
EXPERIMENT_MODULES: dict[str, str] = {
    "table1": "numerics.tables",
    "table2": "numerics.tables",
    "table1-init": "numerics.tables",
    "downsampling": "numerics.downsampling",
    "nonlinear": "numerics.nonlinear",
    "early-stopping": "numerics.early_stopping",
    "initialization": "numerics.initialization",
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
            return tuple(range(lo, hi + 1))
        if "," in t:
            out = tuple(int(v) for v in t.split(","))
            if any(v < 0 for v in out) or len(set(out)) != len(out):
                raise ValueError
            return out
        n = int(t)
        if n < 1:
            raise ValueError
        return tuple(range(n))
    except ValueError:
        raise ExperimentError(
            "--seeds", text, "expected N (seeds 0..N-1), A..B with 0 <= A <= B, or A,B,C"
        ) from None


def _check_device(device: str) -> str:
    import torch

    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ExperimentError("--device", device, "must be cpu or cuda")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ExperimentError("--device", device, "CUDA is not available on this machine")
    return device


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
    if images is not None and not Path(images).exists():
        raise ExperimentError("--images", images, "no such file or folder")
    if seeds is not None and seed is not None:
        raise ExperimentError("--seeds", seeds, "give --seed or --seeds, not both")
    if seeds is not None:
        chosen = parse_seeds(seeds) if isinstance(seeds, str) else tuple(seeds)
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
        device=_check_device(device),
        seed=chosen[0],
        out=Path(out) if out is not None else None,
        images=images,
        progress=progress,
        log=log if log is not None else sys.stderr,
        seeds=chosen,
        reading=names,
    )
    done: dict[str, Row] = {}
    path = None
    if cfg.out is not None:
        cfg.out.mkdir(parents=True, exist_ok=True)
        path = cfg.out / f"{name}.json"
        if resume and path.exists():
            for row in json.loads(path.read_text()).get("rows", []):
                done[row["key"]] = row
    rows: list[Row] = []
    for key, thunk in exp.rows(cfg):
        if exp.ensembles:  # reuses the finished seeds of the previous row, trains the rest
            row = {"key": key, **thunk(done.get(key))}  # type: ignore[call-arg]
        elif key in done:
            row = done[key]
        else:
            row = {"key": key, **thunk()}
        rows.append(row)
        if path is not None:
            tmp = path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps({"experiment": name, "rows": rows}, indent=1))
            tmp.replace(path)
    result: dict[str, Any] = {"experiment": name, "rows": rows}
    if exp.verdict is not None:
        result["verdict"] = exp.verdict(cfg, rows)
        if path is not None:
            tmp = path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(result, indent=1))
            tmp.replace(path)
    figures: list[str] = []
    if cfg.out is not None and exp.figures is not None:
        figures = [str(p) for p in exp.figures(cfg, rows)]
    return {**result, "figures": figures}


def readings_of(name: str) -> list[tuple[str, str, bool]]:
    """The readings experiment ``name`` offers: ``(name, description, runs by default)``."""
    exp = get_experiment(name)
    return exp.readings() if exp.readings is not None else []


def print_result(result: dict[str, Any], out: TextIO) -> None:
    """A readable table of the rows: configuration, loss, iterations, seconds, spectrum head;
    for seed ensembles the seeds, how many reached the target, the median leading
    eigenvalues and the verdict, with flags for quick and unreached runs."""
    print(f"experiment {result['experiment']}", file=out)
    for row in result["rows"]:
        if "per_seed" in row:
            _print_ensemble_row(row, out)
            continue
        spec = row.get("spectrum")
        head = (
            ", ".join(f"{v:.3g}" for v in spec[:4]) + (" ..." if spec and len(spec) > 4 else "")
            if spec
            else ""
        )
        skip = {"key", "spectrum", "loss", "iterations", "seconds"}
        conf = " ".join(
            f"{k}={v}" for k, v in row.items() if k not in skip and not isinstance(v, (list, dict))
        )
        loss = row.get("loss")
        loss_s = f"loss={loss:.2e}" if isinstance(loss, (int, float)) else ""
        print(
            f"  {row['key']:<24} {conf} {loss_s} it={row.get('iterations', '')} "
            f"t={row.get('seconds', 0):.1f}s spectrum=[{head}]",
            file=out,
        )
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
