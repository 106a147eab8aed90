"""``verify all | list | check ID | explain ID | certificates --out DIR``."""

from __future__ import annotations

import contextlib
import json
import os
import textwrap
import time
from argparse import Namespace, _SubParsersAction
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

import proofs as _registry
from proofs import Evidence, Outcome, Status

from . import args as A
from .errors import UsageError
from .options import JSON, QUICK, Option, command

_BAD = (Status.FAIL, Status.UNKNOWN, Status.ERROR)


#: ``--solvers`` of the commands that run proofs.
_SOLVERS = Option(
    "--solvers",
    "solvers every proof obligation must satisfy: z3 or z3,cvc5 "
    "(default: both where cvc5 is installed)",
    A.solvers(),
)


def _only(text: str) -> Option:
    return Option("--only", text, A.names())


def add_parsers(sub: _SubParsersAction[Any]) -> None:
    jobs = Option(
        "--jobs",
        "processes to run the checks in (default: the usable CPUs, at most 4; "
        f"1 runs them one after another in this process; at most {A.MAX_JOBS})",
        A.jobs(),
    )
    only = _only("comma-separated id prefixes to run (e.g. thm4,lemma1)")
    command(sub, "all", _all, JSON, QUICK, only, jobs, _SOLVERS, help="run every registered check")
    command(sub, "list", _list, JSON, help="list the registered checks")
    check_id = Option("id", "a check id (verify list shows them)")
    json_outcome = Option("--json", "print the outcome as one JSON object")
    command(sub, "check", _check, check_id, json_outcome, QUICK, help="run one check")
    verbose = Option("--verbose", "also list every solver obligation as a formula")
    explain_id = Option("id", "a check id, or a prefix such as thm4")
    command(
        sub,
        "explain",
        _explain,
        explain_id,
        QUICK,
        verbose,
        _SOLVERS,
        help="the claim, the method and the result, in words (a prefix such as thm4 lists "
        "the checks it starts)",
    )
    out = Option(
        "--out", "directory to write the .smt2 and .py files into", A.path_text(), required=True
    )
    command(
        sub,
        "certificates",
        _certificates,
        out,
        _only("comma-separated id prefixes (e.g. thm1,lemma1)"),
        _SOLVERS,
        help="write every solver obligation behind a proof verdict as a standalone SMT-LIB 2 "
        "file (expected answer: unsat), re-proved by each solver, and every sympy identity "
        "behind one as a standalone Python script (prints OK NAME when it holds)",
    )
    _add_reprove(sub)


def _add_reprove(sub: _SubParsersAction[Any]) -> None:
    command(
        sub,
        "reprove",
        _reprove,
        Option("dir", "a certificates folder", A.path_text(), metavar="DIR"),
        Option("--solvers", "z3 or z3,cvc5 (default: both)", A.solvers(), ("z3", "cvc5")),
        JSON,
        help="re-prove a folder of .smt2 certificates with z3 and cvc5 (their Python APIs)",
        description="Re-prove every .smt2 file under DIR (written by verify certificates) with "
        "each solver, through the solvers' Python APIs: no solver command needs to be "
        "installed. Exit 0 when every file gets its expected answer from every solver.",
    )


@contextlib.contextmanager
def _with_solvers(chosen: tuple[str, ...] | None) -> Iterator[tuple[str, ...]]:
    from proofs import available_solvers, using_solvers

    names = chosen or available_solvers()
    with using_solvers(names):
        yield names


def _select(only: tuple[str, ...] | None) -> list[_registry.Check]:
    checks = _registry.load_all()
    if only:
        checks = [c for c in checks if any(c.id.startswith(p) for p in only)]
        if not checks:
            raise UsageError("--only", ",".join(only), "no check id starts with these prefixes")
    return checks


def _lookup(check_id: str) -> _registry.Check:
    try:
        return _registry.get(check_id)
    except KeyError:
        groups = ", ".join(sorted({c.id.split(".")[0] for c in _registry.load_all()}))
        raise UsageError(
            "ID", check_id, f"no such check (verify list shows the ids; groups: {groups})"
        ) from None


def _progress(err: TextIO) -> tuple[Callable[[int, int, str], None], Callable[[], None]]:
    """A one-line live status on a terminal, silent otherwise."""
    tty = hasattr(err, "isatty") and err.isatty()

    def show(i: int, n: int, cid: str) -> None:
        if tty:
            err.write(f"\r[{i}/{n}] {cid:<40}")
            err.flush()

    def done() -> None:
        if tty:
            err.write("\r" + " " * 50 + "\r")
            err.flush()

    return show, done


def _table(outcomes: list[Outcome], out: TextIO) -> None:
    w = max([len(o.check.id) for o in outcomes] + [2])
    print(f"{'id':<{w}}  {'status':<7}  {'evidence':<8}  {'seconds':>8}  title", file=out)
    for o in outcomes:
        r = o.result
        print(
            f"{o.check.id:<{w}}  {r.status!s:<7}  {r.evidence!s:<8}  {o.seconds:8.3f}  "
            f"{o.check.title}",
            file=out,
        )
        if r.status in _BAD:
            for line in textwrap.wrap(r.detail, 100):
                print(f"{'':<{w}}    {line}", file=out)


def _summary(outcomes: list[Outcome], wall: float | None = None, jobs: int = 1) -> str:
    counts = {s: sum(o.result.status == s for o in outcomes) for s in Status}
    total = sum(o.seconds for o in outcomes)
    parts = ", ".join(f"{counts[s]} {s}" for s in Status if counts[s])
    when = f"{total:.2f} s"
    if wall is not None and jobs > 1:
        when += f" of checks, {wall:.2f} s wall in {jobs} processes"
    return f"{len(outcomes)} checks: {parts} ({when})"


def _all(args: Namespace, out: TextIO, err: TextIO) -> int:
    checks = _select(args.only)
    jobs = args.jobs if args.jobs is not None else _registry.default_jobs()
    with _with_solvers(args.solvers) as names:
        show, done = _progress(err)
        start = time.perf_counter()
        outcomes = _registry.run_many(checks, quick=args.quick, jobs=jobs, progress=show)
        wall = time.perf_counter() - start
        done()
    if args.json:
        json.dump({"solvers": list(names), "checks": [o.to_json() for o in outcomes]}, out,
                  indent=1)  # fmt: skip
        out.write("\n")
    else:
        _table(outcomes, out)
        print(_summary(outcomes, wall, min(jobs, len(outcomes))), file=out)
        print(_solver_summary(outcomes, names), file=out)
    return 1 if any(o.result.status in _BAD for o in outcomes) else 0


def _solver_summary(outcomes: list[Outcome], names: tuple[str, ...]) -> str:
    obs = [ob for o in outcomes for ob in o.obligations]
    times = {n: sum(ob.seconds.get(n, 0.0) for ob in obs) for n in names}
    spent = ", ".join(f"{n} {s:.2f} s" for n, s in times.items())
    confirmed = sum(len(ob.confirmed_by) == len(names) for ob in obs)
    return (
        f"solver obligations: {len(obs)}, {confirmed} confirmed by {' and '.join(names)} ({spent})"
    )


def _list(args: Namespace, out: TextIO, err: TextIO) -> int:
    checks = _registry.load_all()
    if args.json:
        rows = [
            {"id": c.id, "title": c.title, "evidence": str(c.evidence), "reference": c.reference,
             "extension": c.extension}
            for c in checks
        ]  # fmt: skip
        json.dump({"checks": rows}, out, indent=1)
        out.write("\n")
        return 0
    w = max([len(c.id) for c in checks] + [2])
    print(f"{'id':<{w}}  {'evidence':<8}  {'paper':<9}  title [reference]", file=out)
    for c in checks:
        kind = "extension" if c.extension else "claim"
        ref = f" [{c.reference}]" if c.reference else ""
        print(f"{c.id:<{w}}  {c.evidence!s:<8}  {kind:<9}  {c.title}{ref}", file=out)
    print(
        "\npaper: 'claim' checks a statement of the paper; 'extension' checks one that goes "
        "beyond it (a generalisation or a refinement).",
        file=out,
    )
    return 0


def _check(args: Namespace, out: TextIO, err: TextIO) -> int:
    c = _lookup(args.id)
    o = _registry.run(c, quick=args.quick)
    if args.json:
        json.dump(o.to_json(), out, indent=1)
        out.write("\n")
    else:
        _table([o], out)
        if o.result.status not in _BAD:
            print(textwrap.fill(o.result.detail, 100), file=out)
    return 1 if o.result.status in _BAD else 0


def _explain(args: Namespace, out: TextIO, err: TextIO) -> int:
    checks = _registry.load_all()
    if args.id not in {c.id for c in checks}:
        matching = [c for c in checks if c.id.startswith(args.id)]
        if not matching:
            known = sorted({c.id.split(".")[0] for c in checks})
            raise UsageError(
                "ID", args.id, f"no check id is or starts with this; groups: {', '.join(known)}"
            )
        w = max(len(c.id) for c in matching)
        print(f"{len(matching)} checks start with {args.id!r}:", file=out)
        for c in matching:
            print(f"  {c.id:<{w}}  {c.title}", file=out)
        print(f"\nverify explain {matching[0].id} explains one of them.", file=out)
        return 0
    c = _lookup(args.id)
    with _with_solvers(args.solvers) as names:
        o = _registry.run(c, quick=args.quick)
    fill = lambda s: textwrap.fill(s, 88, initial_indent="  ", subsequent_indent="  ")  # noqa: E731
    print(f"{c.id}: {c.title}", file=out)
    if c.reference:
        print(f"  ({c.reference})", file=out)
    if c.extension:
        print("  Extension: the paper does not state this claim itself; it generalises or "
              "refines one.", file=out)  # fmt: skip
    print("\nThe claim:", file=out)
    print(fill(c.statement), file=out)
    if c.intuition:
        print("\nThe idea:", file=out)
        print(fill(c.intuition), file=out)
    if c.assumptions:
        print("\nAssumptions:", file=out)
        for a in c.assumptions:
            print(textwrap.fill(a, 88, initial_indent="  - ", subsequent_indent="    "), file=out)
    print("\nHow it is checked:", file=out)
    print(fill(c.method), file=out)
    print(f"\nEvidence level: {c.evidence}", file=out)
    print(fill(_EVIDENCE_WORDS[str(c.evidence)]), file=out)
    if o.obligations:
        _print_obligations(o.obligations, names, args.verbose, c.id, out)
    print(f"\nResult: {o.result.status} ({o.seconds:.3f} s)", file=out)
    print(fill(o.result.detail), file=out)
    return 1 if o.result.status in _BAD else 0


def _print_obligations(
    obligations: tuple[Any, ...], names: tuple[str, ...], verbose: bool, check_id: str, out: TextIO
) -> None:
    """The solver steps: a one-paragraph summary, or (``--verbose``) every formula."""
    fill = lambda s: textwrap.fill(s, 88, initial_indent="  ", subsequent_indent="  ")  # noqa: E731
    print(f"\nMachine-checked steps (solvers required: {', '.join(names)}):", file=out)
    if not verbose:
        tally: dict[str, int] = {}
        for ob in obligations:
            by = " and ".join(ob.confirmed_by) if ob.confirmed_by else "not confirmed"
            key = f"{ob.status}, confirmed by {by}"
            tally[key] = tally.get(key, 0) + 1
        parts = "; ".join(f"{n} {key}" for key, n in tally.items())
        more = f"verify explain {check_id} --verbose lists each formula."
        print(fill(f"{len(obligations)} solver obligations: {parts}. {more}"), file=out)
        return
    for i, ob in enumerate(obligations, 1):
        by = " and ".join(ob.confirmed_by) if ob.confirmed_by else "not confirmed"
        line = f"{i}. [{ob.status}; {by}] {' '.join(ob.what.split())}"
        print(textwrap.fill(line, 88, initial_indent="  ", subsequent_indent="     "), file=out)
        for text in [f"assuming: {a}" for a in ob.assumptions] or ["assuming: nothing"]:
            print(_indented(text), file=out)
        if ob.claim:
            print(_indented(f"claim: {ob.claim}"), file=out)
    note = (
        "Each step is proved by showing that its negation, together with its assumptions, "
        "has no solution; the assumptions are listed in the step and were first checked "
        "to be satisfiable (not contradictory)."
    )
    print(fill(note), file=out)


def _indented(text: str) -> str:
    return textwrap.fill(
        " ".join(text.split()), 88, initial_indent="     ", subsequent_indent="       "
    )


#: The names through which a check discharges obligations (``proofs._z3`` and its users).
_SOLVER_NAMES = frozenset({"_z3", "prove", "prove_claim", "find_model"})


def _uses_solver(check: _registry.Check) -> bool:
    """Checks that discharge obligations through ``proofs._z3``: those of evidence ``proof``,
    and those whose function, or a function of its module it calls, names the solver layer."""
    import sys
    import types

    if check.evidence == Evidence.PROOF:
        return True
    module = sys.modules.get(check.func.__module__)
    seen: set[types.CodeType] = set()
    todo = [check.func.__code__]
    while todo:
        code = todo.pop()
        if code in seen:
            continue
        seen.add(code)
        if _SOLVER_NAMES & set(code.co_names):
            return True
        todo += [c for c in code.co_consts if isinstance(c, types.CodeType)]  # inner functions
        for name in code.co_names:
            called = getattr(module, name, None)
            if (
                isinstance(called, types.FunctionType)
                and called.__module__ == check.func.__module__
            ):
                todo.append(called.__code__)
    return False


def _certificates(args: Namespace, out: TextIO, err: TextIO) -> int:
    from .store import check_out_folder, write_atomic

    check_out_folder(args.out, "--out", create=False)  # refuse before any side effect
    checks = _select(args.only)
    target = check_out_folder(args.out, "--out")
    written, bad, start = 0, 0, time.perf_counter()
    with _with_solvers(args.solvers) as names:
        outcomes = [_registry.run(c) for c in checks if _uses_solver(c)]
    index = []
    for o in outcomes:
        for i, ob in enumerate(o.obligations, 1):
            if not ob.smt2:
                continue
            name = f"{o.check.id}.{i:02d}.smt2"
            write_atomic(target / name, ob.smt2)
            written += 1
            bad += ob.status != Status.PASS
            index.append({"file": name, "check": o.check.id, "kind": "smt2", "what": ob.what,
                          "status": str(ob.status), "confirmed_by": list(ob.confirmed_by),
                          "assumptions": list(ob.assumptions), "claim": ob.claim,
                          "seconds": {k: round(v, 4) for k, v in ob.seconds.items()}})  # fmt: skip
    times = {n: sum(r["seconds"].get(n, 0.0) for r in index) for n in names}
    scripts, bad_identities = _sympy_scripts(target, {c.id for c in checks}, index)
    write_atomic(target / "index.json", json.dumps({"solvers": list(names), "files": index},
                                                    indent=1) + "\n")  # fmt: skip
    sources = len({r["check"] for r in index})  # the checks whose obligations were written
    print(
        f"{written} obligations (SMT-LIB 2, .smt2) from {sources} checks and "
        f"{scripts} sympy identities (standalone .py scripts) written to {target} "
        f"(obligations expect unsat; {', '.join(f'{n} {s:.2f} s' for n, s in times.items())}; "
        f"{time.perf_counter() - start:.1f} s in all)",
        file=out,
    )
    if bad:
        print(f"{bad} obligations were not confirmed by every solver (see index.json)", file=out)
    if bad_identities:
        print(f"{bad_identities} sympy identities do not hold (see index.json)", file=out)
    bad += bad_identities
    return 1 if bad or any(o.result.status in _BAD for o in outcomes) else 0


def _reprove(args: Namespace, out: TextIO, err: TextIO) -> int:
    """``verify reprove DIR``: every .smt2 under DIR against its expected answer."""
    from dataclasses import asdict

    from proofs import reprove

    if not os.path.isdir(args.dir):
        raise UsageError("DIR", args.dir, "not a folder")
    results = reprove(args.dir, solvers=tuple(args.solvers))
    if not results:
        raise UsageError("DIR", args.dir, "holds no .smt2 file")
    ok = sum(r.ok for r in results)
    if args.json:
        rows = [{**asdict(r), "ok": r.ok} for r in results]
        json.dump({"files": rows, "ok": ok, "total": len(results)}, out, indent=1)
        out.write("\n")
    else:
        for r in results:
            said = ", ".join(f"{k} {v}" for k, v in r.answers.items())
            print(f"{'ok  ' if r.ok else 'FAIL'} {r.file}: expected {r.expected}; {said}", file=out)
        print(f"{ok} of {len(results)} obligations re-proved by {','.join(args.solvers)}", file=out)
    return 0 if ok == len(results) else 1


def _sympy_scripts(target: Path, check_ids: set[str], index: list[dict]) -> tuple[int, int]:
    """Write each sympy identity behind the selected checks as ``<name>.py``; add to ``index``.

    Returns (scripts written, identities that do not hold).
    """
    from proofs import identities as _identities

    from .store import write_atomic

    written, bad = 0, 0
    for identity in _identities.for_checks(check_ids):
        begin = time.perf_counter()
        holds = _identities.evaluate(identity.name)[2] is None
        name = f"{identity.name}.py"
        write_atomic(target / name, _identities.script(identity.name))
        written += 1
        bad += not holds
        index.append({"file": name, "check": identity.check, "kind": "sympy",
                      "what": identity.statement, "status": "pass" if holds else "fail",
                      "expects": f"OK {identity.name}",
                      "seconds": {"sympy": round(time.perf_counter() - begin, 4)}})  # fmt: skip
    return written, bad


_EVIDENCE_WORDS = {
    "proof": "A proof: the claim holds for every size and value it speaks of, shown by a "
    "symbolic identity or by the solvers z3 and cvc5 (where installed) each finding that the "
    "claim's negation has no solution.",
    "exact": "Exact on instances: exact arithmetic (integers, rationals, certified witnesses) "
    "on the stated sizes. No rounding is involved, but only these instances are covered.",
    "numeric": "Numeric: floating-point computation agreeing within the stated tolerance. "
    "Evidence, not proof.",
}
