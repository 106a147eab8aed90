"""``verify all | list | check ID | explain ID``."""

from __future__ import annotations

import json
import textwrap
from typing import TextIO

from . import _registry
from ._errors import UsageError
from ._registry import Outcome
from ._result import Status

_BAD = (Status.FAIL, Status.UNKNOWN, Status.ERROR)


def add_parsers(sub) -> None:  # type: ignore[no-untyped-def]
    p = sub.add_parser("all", help="run every registered check")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quick", action="store_true", help="small default sizes")
    p.add_argument(
        "--only", default="", help="comma-separated id prefixes to run (e.g. thm4,lemma1)"
    )
    p.set_defaults(handler=_all)

    p = sub.add_parser("list", help="list the registered checks")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_list)

    p = sub.add_parser("check", help="run one check")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quick", action="store_true")
    p.set_defaults(handler=_check)

    p = sub.add_parser("explain", help="the claim, the method and the result, in words")
    p.add_argument("id")
    p.add_argument("--quick", action="store_true")
    p.set_defaults(handler=_explain)


def _lookup(check_id: str) -> _registry.Check:
    try:
        return _registry.get(check_id)
    except KeyError:
        known = ", ".join(c.id for c in _registry.load_all())
        raise UsageError("ID", check_id, f"no such check; known ids: {known}") from None


def _progress(err: TextIO):  # type: ignore[no-untyped-def]
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


def _summary(outcomes: list[Outcome]) -> str:
    counts = {s: sum(o.result.status == s for o in outcomes) for s in Status}
    total = sum(o.seconds for o in outcomes)
    parts = ", ".join(f"{counts[s]} {s}" for s in Status if counts[s])
    return f"{len(outcomes)} checks: {parts} ({total:.2f} s)"


def _all(args, out: TextIO, err: TextIO) -> int:  # type: ignore[no-untyped-def]
    checks = _registry.load_all()
    if args.only:
        prefixes = [p.strip() for p in args.only.split(",") if p.strip()]
        checks = [c for c in checks if any(c.id.startswith(p) for p in prefixes)]
        if not checks:
            raise UsageError("--only", args.only, "no check id starts with these prefixes")
    show, done = _progress(err)
    outcomes = []
    for i, c in enumerate(checks, 1):
        show(i, len(checks), c.id)
        outcomes.append(_registry.run(c, quick=args.quick))
    done()
    if args.json:
        json.dump({"checks": [o.to_json() for o in outcomes]}, out, indent=1)
        out.write("\n")
    else:
        _table(outcomes, out)
        print(_summary(outcomes), file=out)
    return 1 if any(o.result.status in _BAD for o in outcomes) else 0


def _list(args, out: TextIO, err: TextIO) -> int:  # type: ignore[no-untyped-def]
    checks = _registry.load_all()
    if args.json:
        rows = [
            {"id": c.id, "title": c.title, "evidence": str(c.evidence), "reference": c.reference}
            for c in checks
        ]
        json.dump({"checks": rows}, out, indent=1)
        out.write("\n")
        return 0
    w = max([len(c.id) for c in checks] + [2])
    for c in checks:
        print(f"{c.id:<{w}}  {c.evidence!s:<8}  {c.title}", file=out)
    return 0


def _check(args, out: TextIO, err: TextIO) -> int:  # type: ignore[no-untyped-def]
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


def _explain(args, out: TextIO, err: TextIO) -> int:  # type: ignore[no-untyped-def]
    c = _lookup(args.id)
    o = _registry.run(c, quick=args.quick)
    fill = lambda s: textwrap.fill(s, 88, initial_indent="  ", subsequent_indent="  ")  # noqa: E731
    print(f"{c.id}: {c.title}", file=out)
    if c.reference:
        print(f"  ({c.reference})", file=out)
    print("\nThe claim:", file=out)
    print(fill(c.statement), file=out)
    print("\nHow it is checked:", file=out)
    print(fill(c.method), file=out)
    print(f"\nEvidence level: {c.evidence}", file=out)
    print(fill(_EVIDENCE_WORDS[str(c.evidence)]), file=out)
    print(f"\nResult: {o.result.status} ({o.seconds:.3f} s)", file=out)
    print(fill(o.result.detail), file=out)
    return 1 if o.result.status in _BAD else 0


_EVIDENCE_WORDS = {
    "proof": "A proof: the claim holds for every size and value it speaks of, shown by a "
    "symbolic identity or by the solver z3 finding that the claim's negation has no solution.",
    "exact": "Exact on instances: exact arithmetic (integers, rationals, certified witnesses) "
    "on the stated sizes. No rounding is involved, but only these instances are covered.",
    "numeric": "Numeric: floating-point computation agreeing within the stated tolerance. "
    "Evidence, not proof.",
}
