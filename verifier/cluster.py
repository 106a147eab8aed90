"""``verify experiment NAME --workers N | --scheduler ADDRESS``: the rows as Dask tasks.

Dask (``distributed``) is optional (``pip install -e ".[cluster]"``); without it the
command runs in one process as before. The work is cut into tasks of two kinds:

* a row of a one-seed experiment is one task;
* a row of a seed ensemble (Tables 1–2) is one task per *seed group*: the seeds the row
  still has to train (all of them, unless ``--resume`` found some finished) cut into at
  most ``workers`` groups, each trained together in one process. The coordinator then
  assembles the row from the groups' ``per_seed`` entries through the experiment's own
  resume path (every seed is then a finished one, so nothing trains twice) — the same row
  a single process computes.

Tasks go out largest row first (the experiment's ``cost`` estimate, where it gives one:
Tables 1–2 estimate multiply-adds × step cap), so that the small rows fill in at the end
instead of one worker finishing a large row alone; the order changes no result.

A task names the experiment's module, the run's settings and the row's key; the worker
builds the experiment itself (nothing but plain data crosses the wire), computes the row
and returns it. The coordinator alone writes the rows file: the lock, the atomic writes
and ``--resume`` are exactly those of a local run. A worker that dies costs only its
task, which the scheduler runs again (up to :data:`RETRIES` times).

On a batch system, start the cluster with dask-jobqueue (``SLURMCluster``,
``PBSCluster``, ...) and pass its scheduler's address with ``--scheduler``; the workers need
this toolkit installed, and the experiments that save arrays (Sections 4–6) need ``--out``
on a file system the workers share.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from typing import Any

from numerics import EXPERIMENT_MODULES, Experiment, Row, RunConfig

from .errors import UsageError
from .interrupts import deferred

__all__ = ["RETRIES", "Cluster", "compute_row", "connect", "largest_first", "run_on_cluster"]

#: How often a task whose worker died is run again before the run gives up.
RETRIES = 3
#: Most local worker processes ``--workers`` starts.
MAX_WORKERS = 64
#: Tasks a local worker thread is sent at a time: one, so that the tasks wait on the
#: scheduler and go out largest first as workers free up (Dask's default, 1.1, sends a
#: single-threaded worker two, and a large task queued behind a running one can leave the
#: other worker idle at the end of a sweep).
SATURATION = 1.0
#: A task: a row's key and the seeds it trains.
Task = tuple[str, tuple[int, ...]]


@dataclass(frozen=True)
class Cluster:
    """Where the tasks run: ``workers`` local processes, or an existing ``scheduler``."""

    workers: int | None = None
    scheduler: str | None = None


def _client_type() -> Any:
    try:
        from distributed import Client
    except ImportError:
        raise UsageError(
            "--workers", "distributed", 'Dask is not installed; pip install -e ".[cluster]"'
        ) from None
    return Client


@contextmanager
def connect(cluster: Cluster) -> Iterator[Any]:
    """A ``distributed.Client`` for the run: a fresh ``LocalCluster`` of single-threaded
    worker processes, or the scheduler at ``cluster.scheduler``; closed afterwards."""
    client_type = _client_type()
    if cluster.scheduler is not None:
        try:
            client = client_type(cluster.scheduler, timeout=30)
        except (OSError, TimeoutError, ValueError) as exc:
            why = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            raise UsageError("--scheduler", cluster.scheduler, f"cannot connect ({why})") from None
        with client:
            yield client
        return
    import dask
    from distributed import LocalCluster

    local = client = None
    try:
        # a signal while the cluster starts is raised once it has started (cut halfway,
        # distributed's exit handler would print a traceback closing it); each worker
        # holds one task at a time (SATURATION), the rest wait on the scheduler in order
        with deferred(), dask.config.set({"distributed.scheduler.worker-saturation": SATURATION}):
            local = LocalCluster(
                n_workers=cluster.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=50,  # logging.CRITICAL: the run's output stays the toolkit's own
            )
            client = client_type(local)
        yield client
    finally:
        with deferred():  # the workers are stopped whatever arrives meanwhile
            if client is not None:
                client.close()
            if local is not None:
                local.close()


def _settings(cfg: RunConfig) -> dict[str, Any]:
    """The run's settings as plain data for a worker (no streams, no progress bars)."""
    quiet = replace(cfg, progress=False)
    return {f.name: getattr(quiet, f.name) for f in fields(quiet) if f.name not in _LOCAL}


#: RunConfig fields a worker does not get: the log stream, and the resumed rows (a task
#: carries the one row it continues)
_LOCAL = ("log", "previous")


def compute_row(
    module: str, name: str, settings: dict[str, Any], key: str, previous: Row | None
) -> Row:
    """On a worker: build experiment ``name`` from ``module`` and compute row ``key``
    under ``settings`` (reusing the finished seeds of ``previous``)."""
    exp = _experiment(module, name)
    cfg = RunConfig(**settings, previous={key: previous} if previous is not None else {})
    for k, thunk in exp.rows(cfg):
        if k == key:
            return {"key": key, **thunk()}
    raise KeyError(f"{name} has no row {key!r} under these settings")


def _experiment(module: str, name: str) -> Experiment:
    for exp in importlib.import_module(module).EXPERIMENTS:
        if exp.name == name:
            return exp
    raise KeyError(f"{module} defines no experiment {name!r}")


def _groups(seeds: tuple[int, ...], workers: int) -> list[tuple[int, ...]]:
    """``seeds`` cut into at most ``workers`` groups of near-equal size, in order."""
    n = max(1, min(workers, len(seeds)))
    size, extra = divmod(len(seeds), n)
    out, start = [], 0
    for i in range(n):
        stop = start + size + (1 if i < extra else 0)
        out.append(seeds[start:stop])
        start = stop
    return out


def _merged(parts: list[Row], previous: Row | None) -> Row:
    """One row whose ``per_seed`` holds every group's seeds (and the finished ones of
    ``previous``): the experiment's resume path then assembles the row without training."""
    base = dict(parts[0])
    seen: dict[int, Any] = {}
    for part in [previous or {}, *parts]:
        for entry in part.get("per_seed", []):
            seen.setdefault(entry["seed"], entry)
    base["per_seed"] = list(seen.values())
    return base


def largest_first(keys: list[str], cost: dict[str, float]) -> list[str]:
    """``keys`` by decreasing estimated ``cost`` (ties, and keys without one, in their own
    order): the workers start on the largest rows and the small ones fill in at the end,
    so that no worker idles while another finishes a large row (longest first)."""
    return sorted(keys, key=lambda k: -cost.get(k, 0.0))


def _missing(cfg: RunConfig, previous: Row | None) -> tuple[int, ...]:
    """The seeds of ``cfg`` that ``previous`` (a resumed row) has not finished."""
    finished = {entry["seed"] for entry in (previous or {}).get("per_seed", [])}
    return tuple(s for s in cfg.seeds if s not in finished)


def _plan(exp: Experiment, cfg: RunConfig, done: dict[str, Row], workers: int) -> list[Task]:
    """The tasks of a sweep, largest first: ``(key, seeds)`` per row (one-seed experiments)
    or per seed group (ensembles: the seeds a row still has to train, cut into one group per
    worker, ordered by the estimated work left, a seed's cost × the seeds left; a finished
    row is one task that only assembles it)."""
    cost = exp.cost(cfg) if exp.cost else {}
    keys = [k for k, _ in exp.rows(cfg)]
    if not exp.ensembles:
        return [(k, cfg.seeds) for k in largest_first(keys, cost)]
    left = {k: _missing(cfg, done.get(k)) for k in keys}
    work = {k: cost[k] * len(left[k]) for k in keys if k in cost}
    return [
        (k, group)
        for k in largest_first(keys, work)
        for group in (_groups(left[k], workers) if left[k] else [cfg.seeds])
    ]


def run_on_cluster(
    exp: Experiment,
    cfg: RunConfig,
    done: dict[str, Row],
    cluster: Cluster,
    on_row: Callable[[Row], None],
) -> None:
    """Compute every row of ``exp`` that ``done`` lacks as tasks on ``cluster``; hand each
    finished row to ``on_row`` (the coordinator stores it) as soon as it is complete."""
    from distributed import as_completed

    module = EXPERIMENT_MODULES[exp.name]
    with connect(cluster) as client:
        workers = max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})))
        tasks: dict[Any, Task] = {}
        for key, group in _plan(exp, cfg, done, workers):
            if key in done and not exp.ensembles:
                on_row(done[key])
                continue
            settings = _settings(replace(cfg, seeds=group, seed=group[0]))
            future = client.submit(
                compute_row, module, exp.name, settings, key, done.get(key),
                retries=RETRIES, pure=False, priority=-len(tasks),
            )  # fmt: skip
            tasks[future] = (key, group)
        _collect(exp, cfg, done, tasks, as_completed(list(tasks)), on_row)


def _collect(
    exp: Experiment,
    cfg: RunConfig,
    done: dict[str, Row],
    tasks: dict[Any, Task],
    finished: Any,
    on_row: Callable[[Row], None],
) -> None:
    """Gather the tasks as they finish; a row is handed on when all its groups are in."""
    expected: dict[str, int] = {}
    for key, _ in tasks.values():
        expected[key] = expected.get(key, 0) + 1
    parts: dict[str, list[Row]] = {}
    for future in finished:
        key, _ = tasks[future]
        parts.setdefault(key, []).append(future.result())
        if len(parts[key]) < expected[key]:
            continue
        if exp.ensembles:  # assemble through the resume path: every seed is finished
            merged = _merged(parts[key], done.get(key))
            on_row(compute_row(EXPERIMENT_MODULES[exp.name], exp.name, _settings(cfg), key, merged))
        else:
            on_row(parts[key][0])
