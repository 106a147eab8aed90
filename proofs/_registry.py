"""The check registry: every claim of the paper the toolkit checks, registered once.

A check is an id (``thm1.closed-form``), a title, the claim in the paper's words, how it is
checked, the evidence level it produces, and a function returning a :class:`Result`.

Check functions take keyword arguments only, with defaults equal to the paper's claim, plus
``quick: bool``. Tests call them with a deliberately wrong variant of the claim and expect
``fail``: a check that cannot fail is a defect.

Check modules are imported lazily (:func:`load_all`), so the command line pays for sympy,
z3 or torch only when it runs a check that needs them.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._result import Evidence, Result, Status

__all__ = [
    "CHECK_MODULES",
    "Check",
    "Outcome",
    "default_jobs",
    "get",
    "load_all",
    "register",
    "run",
    "run_many",
]

#: Modules that register checks, in the order ``verify all`` runs them (see :func:`load_all`).
CHECK_MODULES: tuple[str, ...] = (
    "proofs.thm1",
    "proofs.thm2_activation",
    "proofs.thm2_gradient",
    "proofs.thm2_dynamics",
    "proofs.thm2_corollary",
    "proofs.thm3",
    "proofs.crosscheck",
    "proofs.lemma1",
    "proofs.premise",
    "proofs.thm4",
    "proofs.thm4_symbolic",
    "proofs.corollary_depth2",
    "proofs.kernel_depth",
    "proofs.section4",
    "proofs.audit",
    "proofs.numeric_checks",
)

_REGISTRY: dict[str, Check] = {}


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    statement: str  # the claim, as the paper states it
    method: str  # how it is checked, in words a student can follow
    evidence: Evidence
    func: Callable[..., Result]
    reference: str = ""  # where in the paper
    requires: tuple[str, ...] = ()  # importable modules needed (e.g. "torch")
    quick_params: dict[str, Any] = field(default_factory=dict)
    #: wrong variants of the claim, as keyword overrides: each must make the check ``fail``
    wrong: tuple[dict[str, Any], ...] = ()
    #: True when the check goes beyond what the paper states (a generalisation or refinement)
    extension: bool = False
    #: the idea in one or two sentences, before any method (``verify explain``)
    intuition: str = ""
    #: what the claim takes for granted: the network, the data, what "memorize" means
    assumptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    check: Check
    result: Result
    seconds: float
    #: the solver obligations the check discharged (``proofs._z3.Obligation``), in order
    obligations: tuple[Any, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out = self.result.to_json()
        return {
            "id": self.check.id,
            "title": self.check.title,
            "status": out["status"],
            "evidence": out["evidence"],
            "extension": self.check.extension,
            "seconds": round(self.seconds, 4),
            "detail": out["detail"],
            "data": out["data"],
            "obligations": [
                {
                    "what": ob.what,
                    "assumptions": list(getattr(ob, "assumptions", ())),
                    "claim": getattr(ob, "claim", ""),
                    "status": str(ob.status),
                    "confirmed_by": list(ob.confirmed_by),
                    "seconds": {k: round(v, 4) for k, v in ob.seconds.items()},
                }
                for ob in self.obligations
            ],
        }


def register(
    id: str,
    *,
    title: str,
    statement: str,
    method: str,
    evidence: Evidence | str,
    reference: str = "",
    requires: tuple[str, ...] = (),
    quick_params: dict[str, Any] | None = None,
    wrong: tuple[dict[str, Any], ...] = (),
    extension: bool = False,
    intuition: str = "",
    assumptions: tuple[str, ...] = (),
) -> Callable[[Callable[..., Result]], Callable[..., Result]]:
    """Register ``func`` as the check ``id`` (decorator). Ids are unique.

    ``wrong`` lists wrong variants of the claim as keyword overrides; the test suite runs
    each (with ``quick_params``) and expects ``fail``. ``extension`` marks a check of a
    statement the paper does not make itself. ``intuition`` is the idea in a sentence or two
    and ``assumptions`` what the claim takes for granted (both shown by ``verify explain``).
    """

    def deco(func: Callable[..., Result]) -> Callable[..., Result]:
        if id in _REGISTRY and _REGISTRY[id].func.__qualname__ != func.__qualname__:
            raise ValueError(f"check id registered twice: {id!r}")
        _REGISTRY[id] = Check(
            id=id,
            title=title,
            statement=" ".join(statement.split()),
            method=" ".join(method.split()),
            evidence=Evidence(evidence),
            func=func,
            reference=reference,
            requires=requires,
            quick_params=dict(quick_params or {}),
            wrong=tuple(dict(w) for w in wrong),
            extension=extension,
            intuition=" ".join(intuition.split()),
            assumptions=tuple(" ".join(a.split()) for a in assumptions),
        )
        return func

    return deco


def load_all() -> list[Check]:
    """Import every check module and return the checks in listing order.

    Checks follow :data:`CHECK_MODULES`, each module's in the order it registers them, except
    that the checks of one claim (one id prefix, ``thm3.``) are listed together, where the
    first of them stands. So a claim's torch check can live beside the other torch checks
    and still be listed with its claim.
    """
    for name in CHECK_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    place = {name: i for i, name in enumerate(CHECK_MODULES)}
    claims: dict[str, list[Check]] = {}
    for check in sorted(_REGISTRY.values(), key=lambda c: place.get(c.func.__module__, len(place))):
        claims.setdefault(check.id.split(".")[0], []).append(check)
    return [check for group in claims.values() for check in group]


def get(check_id: str) -> Check:
    """The check with this id; ``KeyError`` naming it when there is none."""
    load_all()
    try:
        return _REGISTRY[check_id]
    except KeyError:
        raise KeyError(check_id) from None


def run(check: Check, *, quick: bool = False, **params: Any) -> Outcome:
    """Run one check, timing it; a missing dependency gives ``skipped``, a crash ``error``."""
    missing = [m for m in check.requires if importlib.util.find_spec(m) is None]
    if missing:
        result = Result(
            Status.SKIPPED,
            check.evidence,
            f"not run: missing {', '.join(missing)} (pip install it to run this)",
        )
        return Outcome(check, result, 0.0)
    from ._z3 import recording

    kwargs = dict(check.quick_params) if quick else {}
    kwargs.update(params)
    start = time.perf_counter()
    with recording() as log:
        try:
            result = check.func(quick=quick, **kwargs)
            if not isinstance(result, Result):
                raise TypeError(f"check {check.id} returned {type(result).__name__}, not Result")
        except Exception as exc:  # the check itself broke: report, never pass
            tb = traceback.format_exc(limit=6)
            result = Result(
                Status.ERROR, check.evidence, f"{type(exc).__name__}: {exc}", {"traceback": tb}
            )
    return Outcome(check, result, time.perf_counter() - start, tuple(log))


def default_jobs() -> int:
    """Processes for :func:`run_many` by default: the CPUs this process may use, at most 4
    (28 checks, the longest about 2 s: more processes gain nothing)."""
    import os

    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


def run_many(
    checks: list[Check],
    *,
    quick: bool = False,
    jobs: int = 1,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[Outcome]:
    """Run ``checks``; the outcomes come back in the order of ``checks`` whatever ``jobs``.

    With ``jobs > 1`` (where the platform forks) the checks run in that many processes: the
    checks that need torch together in one of them, so torch loads once, the others one by
    one as processes free up. A check's result crosses the process boundary as its JSON form,
    so ``verify all --json`` prints the same whatever ``jobs``. A check that kills its process
    is ``error`` (the checks it took down with it are rerun one per process), never a pass
    and never a hang; Ctrl-C cancels the queue and stops every worker at once.
    """
    import multiprocessing

    if jobs <= 1 or len(checks) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return _run_serial(checks, quick, progress)
    return _run_forked(checks, quick, jobs, progress)


#: one check's outcome as it crosses the process boundary: id, JSON result, seconds, log
_Part = tuple[str, dict[str, Any], float, tuple[Any, ...]]


def _run_serial(
    checks: list[Check], quick: bool, progress: Callable[[int, int, str], None] | None
) -> list[Outcome]:
    """:func:`run_many` in this process, one check after the other."""
    total = len(checks)
    outcomes = []
    for i, check in enumerate(checks, 1):
        if progress is not None:
            progress(i, total, check.id)
        outcomes.append(run(check, quick=quick))
    return outcomes


def _run_forked(
    checks: list[Check],
    quick: bool,
    jobs: int,
    progress: Callable[[int, int, str], None] | None,
) -> list[Outcome]:
    """:func:`run_many` in ``jobs`` forked processes, the torch checks in one group."""
    import multiprocessing

    from ._z3 import solvers

    total = len(checks)
    heavy = [c.id for c in checks if c.requires]
    groups = ([heavy] if heavy else []) + [[c.id] for c in checks if not c.requires]
    names = solvers()
    by_id = {c.id: c for c in checks}
    done: dict[str, Outcome] = {}
    context = multiprocessing.get_context("fork")

    def record(parts: list[_Part]) -> None:
        for cid, result, seconds, log in parts:
            done[cid] = Outcome(by_id[cid], _from_json(result), seconds, log)
            if progress is not None:
                progress(len(done), total, cid)

    if _run_pool(groups, quick, names, min(jobs, len(groups)), context, record):
        # one process per check left, so a check that kills its process is the only error
        _rerun_alone([c for c in checks if c.id not in done], quick, names, context, record)
    return [done[c.id] for c in checks]


def _run_pool(
    groups: list[list[str]],
    quick: bool,
    names: tuple[str, ...],
    workers: int,
    context: Any,
    record: Callable[[list[_Part]], None],
) -> bool:
    """Run each group of check ids in a pool of ``workers``; True when a process died."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    broken = False
    pool = ProcessPoolExecutor(workers, mp_context=context)
    try:
        futures = [pool.submit(_run_group, ids, quick, names) for ids in groups]
        for future in as_completed(futures):
            try:
                record(future.result())
            except BrokenProcessPool:
                broken = True  # every pending future fails with it: rerun those alone
    except BaseException:  # Ctrl-C: stop now, not after the queued checks
        pool.shutdown(wait=False, cancel_futures=True)
        for child in multiprocessing.active_children():
            child.terminate()
        raise
    pool.shutdown()
    return broken


def _rerun_alone(
    left: list[Check],
    quick: bool,
    names: tuple[str, ...],
    context: Any,
    record: Callable[[list[_Part]], None],
) -> None:
    """Run each check in ``left`` in a process of its own; one that dies is ``error``."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    for c in left:
        with ProcessPoolExecutor(1, mp_context=context) as single:
            try:
                record(single.submit(_run_group, [c.id], quick, names).result())
            except BrokenProcessPool as exc:
                record([(c.id, _died(c, exc), 0.0, ())])


def _run_group(ids: list[str], quick: bool, names: tuple[str, ...]) -> list[_Part]:
    """In a worker process: run the checks ``ids`` under the parent's solvers."""
    import sys

    from ._z3 import using_solvers

    if "torch" in sys.modules:  # a parent's thread pool does not survive a fork: stay serial
        sys.modules["torch"].set_num_threads(1)

    out = []
    with using_solvers(names):
        for cid in ids:
            o = run(_REGISTRY[cid], quick=quick)
            out.append((cid, o.result.to_json(), o.seconds, o.obligations))
    return out


def _died(check: Check, exc: BaseException) -> dict[str, Any]:
    detail = f"the process running this check died ({type(exc).__name__}: {exc})"
    return Result(Status.ERROR, check.evidence, detail).to_json()


def _from_json(obj: dict[str, Any]) -> Result:
    return Result(Status(obj["status"]), Evidence(obj["evidence"]), obj["detail"], obj["data"])
