"""The experiment protocol and runner behind ``verify experiment``.

An :class:`Experiment` yields its rows as ``(key, thunk)`` pairs; the runner computes each
row, writes every finished row to ``OUT/NAME.json`` at once (an interrupted run keeps them),
skips rows already there with ``resume``, then draws the figures.
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
    "print_result",
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


Row = dict[str, Any]


@dataclass(frozen=True)
class Experiment:
    name: str
    summary: str
    rows: Callable[[RunConfig], Iterable[tuple[str, Callable[[], Row]]]]
    figures: Callable[[RunConfig, list[Row]], list[Path]] | None = None
    notes: str = ""  # the paper's setup and our choices where it is silent (for the report)


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


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


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
    seed: int = 0,
    out: str | Path | None = None,
    resume: bool = False,
    images: str | None = None,
    progress: bool = False,
    log: TextIO | None = None,
) -> dict[str, Any]:
    """Run experiment ``name``: ``{"experiment": name, "rows": [...], "figures": [...]}``."""
    exp = get_experiment(name)
    if images is not None and not Path(images).exists():
        raise ExperimentError("--images", images, "no such file or folder")
    log = log if log is not None else sys.stderr
    cfg = RunConfig(
        quick=quick,
        device=_check_device(device),
        seed=seed,
        out=Path(out) if out is not None else None,
        images=images,
        # progress bars redraw with carriage returns: only on a terminal, never into a log file
        progress=progress and _is_terminal(log),
        log=log,
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
        if key in done:
            row = done[key]
        else:
            row = {"key": key, **thunk()}
        rows.append(row)
        if path is not None:
            tmp = path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps({"experiment": name, "rows": rows}, indent=1))
            tmp.replace(path)
    figures: list[str] = []
    if cfg.out is not None and exp.figures is not None:
        figures = [str(p) for p in exp.figures(cfg, rows)]
    return {"experiment": name, "rows": rows, "figures": figures}


def print_result(result: dict[str, Any], out: TextIO) -> None:
    """A readable table of the rows: configuration, loss, iterations, seconds, spectrum head."""
    print(f"experiment {result['experiment']}", file=out)
    for row in result["rows"]:
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
        flag = (
            "  ** did not reach the loss target **"
            if row.get("reached") is False and "stopped_at" not in row
            else ""
        )
        print(
            f"  {row['key']:<24} {conf} {loss_s} it={row.get('iterations', '')} "
            f"t={row.get('seconds', 0):.1f}s spectrum=[{head}]{flag}",
            file=out,
        )
    for f in result.get("figures", []):
        print(f"  figure: {f}", file=out)
