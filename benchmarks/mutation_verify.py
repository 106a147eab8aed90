"""Which symconv mutants does ``verify all --quick`` alone catch (no test suite)?

    python benchmarks/mutation.py --profile symconv   # generates the mutants first
    python benchmarks/mutation_verify.py [--paths symconv/_patterns.py ...] [--json FILE]

Uses the mutants mutmut generated under ``.mutation/symconv/mutants/`` (its trampolines
switch a function to one of its mutants when ``MUTANT_UNDER_TEST`` names it). The
checks of ``verify all
--quick`` run in-process, each mutant in its own forked process (the parent has imported
everything, so a mutant costs only its checks):

1. once per check, with ``MUTANT_UNDER_TEST=stats``, the trampolines record which mutated
   functions the check calls;
2. for each mutant, the checks that call its function run with the mutant active; it is
   *caught* when one of them does not pass (fail, error, unknown; a check that runs past
   ``--timeout`` seconds is caught as a timeout). A check that never calls the function
   runs the unmutated code and passes as before, so it is not run: the answer is the same
   as running all of ``verify all``, only faster. The torch checks are left out (a machine
   without torch reports them skipped); they could only catch more.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import pickle
import signal
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / ".mutation" / "symconv" / "mutants"  # benchmarks/mutation.py --profile symconv


def _fork(job: Any, timeout: float) -> tuple[str, Any]:
    """Run ``job()`` in a forked child; ("ok", value), ("timeout", None) or ("died", code)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r)
        signal.alarm(int(timeout) + 1)
        try:
            value = ("ok", job())
        except BaseException as exc:
            value = ("raised", f"{type(exc).__name__}: {exc}")
        with os.fdopen(w, "wb") as f:
            pickle.dump(value, f)
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    if data:
        return pickle.loads(data)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGALRM:
        return ("timeout", None)
    return ("died", status)


def _attempt(task: tuple[str, list[str], float]) -> tuple[str, str]:
    """In a fresh fork of the parent: run the checks ``ids`` with mutant ``name`` active."""
    name, ids, timeout = task

    def alarm(signum: int, frame: Any) -> None:
        raise TimeoutError

    signal.signal(signal.SIGALRM, alarm)
    signal.alarm(int(timeout))
    os.environ["MUTANT_UNDER_TEST"] = name
    from proofs import _registry

    try:
        for cid in ids:
            status = str(_registry.run(_registry.get(cid), quick=True).result.status)
            if status != "pass":
                return name, f"caught: {cid} {status}"
    except TimeoutError:
        return name, "caught: timeout"
    except BaseException as exc:
        return name, f"caught: raised {type(exc).__name__}"
    finally:
        signal.alarm(0)
    return name, "survived"


def _mutants(paths: list[str], limit: int | None = None) -> dict[str, list[str]]:
    out = {}
    for path in paths:
        meta = MUTANTS / (path + ".meta")
        if not meta.exists():
            raise SystemExit(f"no mutants for {path}: run benchmarks/mutation.py --profile symconv")
        out[path] = list(json.loads(meta.read_text())["exit_code_by_key"])[:limit]
    return out


def _args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = ["symconv/_layers.py", "symconv/_matrices.py", "symconv/_patterns.py",
               "symconv/_certify.py", "symconv/_depth.py"]  # fmt: skip
    ap.add_argument("--paths", nargs="+", default=default)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per mutant")
    ap.add_argument("--json", type=Path, help="write {mutant: outcome} here")
    ap.add_argument("--limit", type=int, help="only the first N mutants of each module")
    ap.add_argument("--jobs", type=int, default=1, help="mutants run at once (default 1)")
    ap.add_argument("--again", type=Path, help="a --json file: rerun only what it did not catch")
    return ap.parse_args(argv)


def _calls() -> tuple[dict[str, list[str]], dict[str, float]]:
    """Each check of ``verify all --quick`` (torch checks left out) once, unmutated, with
    mutmut's call recording: which checks call each function, and each check's seconds."""
    from mutmut.state import state

    from proofs import _registry

    checks = [c for c in _registry.load_all() if not c.requires]
    print(f"{len(checks)} checks of verify all --quick (torch checks left out)", flush=True)

    def hits(check: _registry.Check) -> Any:
        def job() -> tuple[str, set[str]]:
            os.environ["MUTANT_UNDER_TEST"] = "stats"
            state()._stats.clear()
            status = str(_registry.run(check, quick=True).result.status)
            return status, set(state()._stats)

        return job

    calls: dict[str, list[str]] = defaultdict(list)
    seconds: dict[str, float] = {}
    for check in checks:
        t0 = time.perf_counter()
        kind, value = _fork(hits(check), 600)
        seconds[check.id] = time.perf_counter() - t0
        if kind != "ok" or value[0] != "pass":
            raise SystemExit(f"{check.id} does not pass unmutated: {kind} {value}")
        for fn in value[1]:
            calls[fn].append(check.id)
    return calls, seconds


def _report(by_path: dict[str, list[str]], outcome: dict[str, str], seconds: float) -> None:
    for path, names in by_path.items():
        caught = sum(outcome[n].startswith("caught") for n in names)
        print(f"{path:28} caught {caught:4d} / {len(names):4d}", flush=True)
    total = len(outcome)
    caught = sum(o.startswith("caught") for o in outcome.values())
    print(f"{'all':28} caught {caught:4d} / {total:4d} = {100 * caught / max(total, 1):.1f}% "
          f"in {seconds:.0f} s")  # fmt: skip
    print(Counter(o.split(":")[0] for o in outcome.values()))
    print("\nnot caught by verify all:")
    for name, o in outcome.items():
        if not o.startswith("caught"):
            print(f"  {name}  [{o}]")


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    by_path = _mutants(args.paths, args.limit)
    before: dict[str, str] = json.loads(args.again.read_text()) if args.again else {}

    os.chdir(MUTANTS)  # mutmut's trampolined copy of the packages
    sys.path.insert(0, str(MUTANTS))
    os.environ["MUTANT_UNDER_TEST"] = ""
    import numpy  # noqa: F401  (imported once, before the forks)
    import scipy.sparse  # noqa: F401
    import sympy  # noqa: F401
    import z3  # noqa: F401

    calls, seconds = _calls()
    # fast checks first: a caught mutant stops at the first check that does not pass
    order = {cid: i for i, cid in enumerate(sorted(seconds, key=seconds.__getitem__))}
    todo = []
    outcome: dict[str, str] = {}
    for names in by_path.values():
        for name in names:
            if before.get(name, "").startswith("caught"):
                outcome[name] = before[name]  # the checks only grew: caught stays caught
                continue
            ids = sorted(calls.get(name.partition("__mutmut_")[0], []), key=order.__getitem__)
            if ids:
                todo.append((name, ids, args.timeout))
            else:
                outcome[name] = "not reached"
    start = time.perf_counter()
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(args.jobs, maxtasksperchild=1) as pool:  # a fresh fork per mutant
        for name, result in pool.imap_unordered(_attempt, todo):
            outcome[name] = result
    _report(by_path, outcome, time.perf_counter() - start)
    if args.json:
        args.json.write_text(json.dumps(outcome, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
