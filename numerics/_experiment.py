"""The experiment protocol: what an experiment declares, and what a run gives it.

An :class:`Experiment` yields its rows as ``(key, thunk)`` pairs; the ``verify`` program's
runner (:mod:`verifier.runner`) computes each row, stores every finished row at once (an
interrupted run keeps them), skips rows already stored with ``--resume``, then draws the
figures. Experiments never open files: what they write (figures, arrays) goes through the
run's :class:`Output`.

A thunk takes no argument. With ``--resume`` the runner hands the rows of the previous run
to the experiment as ``cfg.previous`` (each checked first by the experiment's
``row_schema``, when it declares one) and reuses a stored row as it is, except in seed
ensembles (Tables 1-2, ``ensembles=True``): there every row runs over the seeds
``cfg.seeds``, and its thunk reuses every seed the stored row of its key finished (none is
ever dropped) and trains only the missing ones. ``readings`` name the choices the paper
leaves open; ``verdict`` turns the rows into the experiment's verdict against the paper's
claims.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO


class ExperimentError(ValueError):
    """A bad experiment argument (a reading, a size, an image source): ``argument`` names
    it, ``value`` is what was given, ``why`` says what is wrong."""

    def __init__(self, argument: str, value: object, why: str) -> None:
        self.argument = argument
        self.value = value
        self.why = why
        super().__init__(f"{argument}: {why} (got {value!r})")


class Output(Protocol):
    """Where a run's files go (the output folder of ``verify experiment --out``).

    ``write`` stores ``data`` as the file ``name`` (a plain name, no folder) atomically and
    returns its path; ``read`` returns the bytes of a file the run may read back (arrays a
    resumed row saved), or ``None`` when there is none."""

    def write(self, name: str, data: bytes) -> Path: ...

    def read(self, name: str) -> bytes | None: ...


@dataclass(frozen=True)
class RunConfig:
    quick: bool = True
    device: str = "cpu"
    seed: int = 0
    out: Output | None = None
    images: str | None = None  # folder of images or a CIFAR-10 binary batch file
    progress: bool = False
    log: TextIO = field(default=sys.stderr)
    #: the seeds of an ensemble run (``seed`` is the first); on ``--resume`` finished seeds
    #: of a row are reused one by one, so the seeds are not part of a run's identity
    seeds: tuple[int, ...] = (0,)
    #: ``--reading`` names selecting the readings to run (empty: the experiment's defaults);
    #: rows record the reading they ran, so a resumed row is reused only for its own reading
    reading: tuple[str, ...] = ()
    #: the rows of the run ``--resume`` continues, by key (checked by ``row_schema``)
    previous: Mapping[str, Any] = field(default_factory=dict)

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
    #: ``(key, thunk)`` per row; the thunk computes the row (the previous run's rows, if
    #: any, are in ``cfg.previous``)
    rows: Callable[[RunConfig], Iterable[tuple[str, Callable[[], Row]]]]
    figures: Callable[[RunConfig, list[Row]], list[Path]] | None = None
    notes: str = ""  # the paper's setup and our choices where it is silent (for the report)
    ensembles: bool = False  # rows run over cfg.seeds, adding seeds to a resumed row
    default_seeds: int = 1  # seeds of the full form when neither --seed nor --seeds is given
    #: the readings this experiment offers: ``[(name, description, runs by default)]``
    readings: Callable[[], list[tuple[str, str, bool]]] | None = None
    #: the experiment's verdict from its rows: ``{"verdict": ..., "rule": ..., ...}``
    verdict: Callable[[RunConfig, list[Row]], dict[str, Any]] | None = None
    #: images the experiment takes from ``--images`` (checked before any training)
    images_needed: int = 0
    #: a stored row read back by ``--resume``, checked (``ExperimentError`` naming
    #: ``--resume`` and the bad field) and returned as the experiment writes it
    row_schema: Callable[[Row], Row] | None = None
    #: a rough relative cost of each row (any unit, by key), so that a cluster starts the
    #: largest rows first and the small ones fill in at the end; ``None``: the rows' order.
    #: An estimate, never a measurement: it orders work and changes no result.
    cost: Callable[[RunConfig], dict[str, float]] | None = None


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


def readings_of(name: str) -> list[tuple[str, str, bool]]:
    """The readings experiment ``name`` offers: ``(name, description, runs by default)``."""
    exp = get_experiment(name)
    return exp.readings() if exp.readings is not None else []
