"""The experiment protocol and runner behind ``verify experiment``.

An :class:`Experiment` yields its rows as ``(key, thunk)`` pairs; the runner computes each
row, writes every finished row to ``OUT/NAME.json`` at once (an interrupted run keeps them),
skips rows already there with ``resume``, then draws the figures.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ._store import RowStore, RunInterrupted, check_out_folder

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
        super().__init__(f"{argument}: {why} (got {_shown(value)})")


@dataclass(frozen=True)
class RunConfig:
    quick: bool = True
    device: str = "cpu"
    seed: int = 0
    out: Path | None = None
    images: str | None = None  # folder of images or a CIFAR-10 binary batch file
    progress: bool = False
    log: TextIO = field(default=sys.stderr)

    def identity(self, name: str) -> dict[str, Any]:
        """What makes two runs' rows interchangeable (stored as ``config`` in ``NAME.json``;
        ``--resume`` reuses rows only under an equal identity): the experiment, quick or
        full, the seed, the images (absolute path plus size and modification time of each
        file) and the row format. Not the device, the output folder or the logging."""
        from ._data import images_identity

        return {
            "experiment": name,
            "row_format": ROW_FORMAT,
            "quick": bool(self.quick),
            "seed": int(self.seed),
            "images": images_identity(self.images),
        }


#: Version of the rows' fields; a change makes older rows files non-resumable.
ROW_FORMAT = 1

#: Images an experiment takes from ``--images`` (checked before any training).
IMAGES_NEEDED: dict[str, int] = {
    "downsampling": 2,
    "nonlinear": 10,
    "early-stopping": 2,
    "initialization": 1,
}

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
    seed: int = 0,
    out: str | Path | None = None,
    resume: bool = False,
    images: str | None = None,
    progress: bool = False,
    log: TextIO | None = None,
) -> dict[str, Any]:
    """Run experiment ``name``: ``{"experiment": name, "rows": [...], "figures": [...]}``."""
    exp = get_experiment(name)
    seed = check_seed(seed)
    if images is not None:
        from ._data import check_images

        check_images(images, need=IMAGES_NEEDED.get(name, 0))
    if out is not None:
        out = check_out_folder(out, "--out")  # before any work: '' or a file is refused
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
    if out is None:
        return _run(exp, cfg, None)
    with RowStore.open(out, name, cfg.identity(name), resume=resume) as store:
        return _run(exp, cfg, store)


def _run(exp: Experiment, cfg: RunConfig, store: RowStore | None) -> dict[str, Any]:
    """Compute (or reuse) each row, store it at once, then draw the figures."""
    done = store.done if store is not None else {}
    rows: list[Row] = []
    try:
        for key, thunk in exp.rows(cfg):
            rows.append(done[key] if key in done else {"key": key, **thunk()})
            if store is not None:
                store.write(rows)
    except KeyboardInterrupt:
        kept = store.written if store is not None else 0
        raise RunInterrupted(exp.name, kept, store.path if store else None) from None
    figures: list[str] = []
    if cfg.out is not None and exp.figures is not None:
        figures = [str(p) for p in exp.figures(cfg, rows)]
    return {"experiment": exp.name, "rows": rows, "figures": figures}


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


def _shown(value: object, limit: int = 120) -> str:
    """``repr(value)``, cut to ``limit`` characters (a 5000-character value stays one short
    line, still recognisable by its start and its length)."""
    text = repr(value)
    if len(text) <= limit:
        return text
    n = len(value) if isinstance(value, (str, bytes)) else len(text)
    return f"{text[: limit - 30]}… ({n} characters)"
