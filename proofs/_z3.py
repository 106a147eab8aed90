"""z3 (and cvc5) with fixed seeds and time limits, three-valued: ``unknown`` is never a pass.

``prove(claim)`` asserts the negation of ``claim``: ``unsat`` proves the claim for every value
of its free variables; ``sat`` yields a counterexample model; anything else is ``unknown``.

Three guards keep a ``proof`` verdict honest:

* **vacuity** — before the negation is checked, the assumptions together with the claim's
  antecedent (``claim = Implies(a, b)`` → ``a``) must be satisfiable. Contradictory
  assumptions would make every claim "proved"; they give status ``error`` instead.
* **counterexample re-check** — a ``sat`` model is substituted into the *claim under test*
  (and its assumptions) and simplified with exact arithmetic; only when that evaluates to a
  violated claim is the verdict ``fail``, otherwise ``unknown``.
* **second solver** — every obligation is exported as a standalone SMT-LIB 2 script
  (:func:`smt2_text`) and, when ``cvc5`` is among the :func:`solvers` in use, re-proved by
  cvc5 from that text. ``pass`` needs both solvers to say ``unsat``; a solver saying ``sat``
  where the other says ``unsat`` is ``error``; either solver's ``unknown`` is ``unknown``.

Every call to :func:`prove` is recorded in the current :func:`obligations` log (a context
variable), so ``verify explain`` can list the machine-checked steps and ``verify
certificates`` can write them to disk.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib.util
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ._result import Evidence, Result, Status

__all__ = [
    "SEED",
    "TIMEOUT_MS",
    "Obligation",
    "Search",
    "Verdict",
    "available_solvers",
    "cvc5_check",
    "find_model",
    "obligations",
    "prove",
    "recording",
    "smt2_text",
    "solvers",
    "using_solvers",
    "verdict_result",
]

SEED = 0
TIMEOUT_MS = 10_000

_SOLVERS: contextvars.ContextVar[tuple[str, ...] | None] = contextvars.ContextVar(
    "proof_solvers", default=None
)
_LOG: contextvars.ContextVar[list[Obligation] | None] = contextvars.ContextVar(
    "proof_obligations", default=None
)


@dataclass(frozen=True)
class Verdict:
    status: Status  # PASS (proved), FAIL (counterexample), UNKNOWN, ERROR
    model: dict[str, str] | None
    reason: str
    solvers: tuple[str, ...] = ()  # the solvers that confirmed a PASS


@dataclass
class Obligation:
    """One solver obligation: the SMT-LIB script whose expected answer is ``unsat``."""

    what: str
    smt2: str
    status: Status
    confirmed_by: tuple[str, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)
    answers: dict[str, str] = field(default_factory=dict)
    #: what the claim is proved under: the assumptions, then the claim's own antecedent
    assumptions: tuple[str, ...] = ()
    claim: str = ""


def available_solvers() -> tuple[str, ...]:
    """``("z3", "cvc5")`` where cvc5 is importable, else ``("z3",)``."""
    return ("z3", "cvc5") if importlib.util.find_spec("cvc5") is not None else ("z3",)


def solvers() -> tuple[str, ...]:
    """The solvers every obligation must satisfy now (default: :func:`available_solvers`)."""
    chosen = _SOLVERS.get()
    return chosen if chosen is not None else available_solvers()


@contextlib.contextmanager
def using_solvers(names: tuple[str, ...]) -> Iterator[None]:
    """Within the block, :func:`prove` requires ``unsat`` from each solver in ``names``."""
    unknown = [n for n in names if n not in ("z3", "cvc5")]
    if unknown or "z3" not in names:
        raise ValueError(f"solvers must include z3 and be among z3, cvc5; got {names}")
    token = _SOLVERS.set(tuple(names))
    try:
        yield
    finally:
        _SOLVERS.reset(token)


@contextlib.contextmanager
def recording() -> Iterator[list[Obligation]]:
    """Collect the obligations :func:`prove` checks inside the block."""
    log: list[Obligation] = []
    token = _LOG.set(log)
    try:
        yield log
    finally:
        _LOG.reset(token)


def obligations() -> list[Obligation] | None:
    """The current recording log, or None outside :func:`recording`."""
    return _LOG.get()


def _solver(timeout_ms: int) -> Any:
    import z3

    s = z3.Solver()
    s.set("timeout", int(timeout_ms))
    s.set("random_seed", SEED)
    return s


def _model_dict(model: Any) -> dict[str, str]:
    return {str(d): str(model[d]) for d in model.decls()}


def smt2_text(solver: Any, what: str, assumptions: tuple[str, ...] = (), claim: str = "") -> str:
    """The solver's assertions as a standalone SMT-LIB 2 script whose expected answer is unsat.

    The header states the step (``what``), each assumption it is proved under and the claim,
    so the file can be read without the check's source.
    """
    body = solver.to_smt2().replace("(set-info :status unknown)", "(set-info :status unsat)")
    lines = [f"; {line}" for line in what.splitlines()] or ["; obligation"]
    shown = [f"; assuming: {a}" for a in assumptions] or ["; assuming: nothing"]
    return "\n".join(
        [
            "; obligation: the negation of the claim below, with its assumptions",
            *lines,
            *shown,
            *([f"; claim: {' '.join(claim.split())}"] if claim else []),
            "; expected: unsat",
            "; re-prove: verify reprove DIR  (z3 and cvc5 by their Python APIs), or z3 FILE",
            "(set-logic ALL)",
            body.strip(),
            "",
        ]
    )


def cvc5_check(smt2: str, timeout_ms: int = TIMEOUT_MS) -> str:
    """cvc5's answer (``sat``/``unsat``/``unknown``) to an SMT-LIB 2 script, fixed seed."""
    import cvc5

    tm = cvc5.TermManager()
    slv = cvc5.Solver(tm)
    slv.setOption("tlimit-per", str(int(timeout_ms)))
    slv.setOption("seed", str(SEED))
    slv.setOption("nl-cov", "true")  # complete for nonlinear real arithmetic (as z3's nlsat)
    parser = cvc5.InputParser(slv)
    parser.setStringInput(cvc5.InputLanguage.SMT_LIB_2_6, smt2, "obligation")
    sm = parser.getSymbolManager()
    answer = "unknown"
    while True:
        cmd = parser.nextCommand()
        if cmd.isNull():
            break
        out = str(cmd.invoke(slv, sm)).strip()
        if cmd.getCommandName() == "check-sat":
            answer = out or "unknown"
    return answer if answer in ("sat", "unsat") else "unknown"


def _antecedent(claim: Any) -> Any | None:
    import z3

    if z3.is_app_of(claim, z3.Z3_OP_IMPLIES):
        return claim.arg(0)
    return None


def _recheck(formula: Any, model: Any) -> bool | None:
    """Substitute the model's values into ``formula`` and simplify: True/False, or None."""
    import z3

    subs = []
    for d in model.decls():
        if d.arity() != 0:
            continue
        subs.append((d(), model[d]))
    val = z3.simplify(z3.substitute(formula, *subs)) if subs else z3.simplify(formula)
    if z3.is_true(val):
        return True
    if z3.is_false(val):
        return False
    # quantifiers over the substituted values (e.g. "for all pixels 0 <= i < s" at s = 3):
    # decide the closed formula on its own, a fresh query independent of the first search
    for target, answer in ((val, False), (z3.Not(val), True)):
        s = _solver(TIMEOUT_MS)
        s.add(target)
        if s.check() == z3.unsat:
            return answer
    return None


def prove(
    claim: Any,
    *,
    assumptions: tuple[Any, ...] = (),
    timeout_ms: int | None = None,
    what: str = "",
) -> Verdict:
    """Prove ``assumptions ⇒ claim`` for all values: the negation is ``unsat`` for each solver.

    ``error`` when the assumptions (with the claim's antecedent) are contradictory, ``fail``
    only for a model that violates the claim under exact substitution.
    """
    import z3

    timeout = TIMEOUT_MS if timeout_ms is None else timeout_ms
    label = what or str(claim)
    premises = list(assumptions)
    ante = _antecedent(claim)
    if ante is not None:
        premises.append(ante)
    stated = (tuple(" ".join(str(a).split()) for a in premises), " ".join(str(claim).split()))
    if _contradictory(premises, timeout):  # vacuity guard
        v = Verdict(
            Status.ERROR,
            None,
            "the assumptions are contradictory (no value satisfies them), so the claim "
            "would hold vacuously; nothing is proved",
        )
        _log(label, "", v, {}, {}, stated)
        return v
    s = _solver(timeout)
    for a in assumptions:
        s.add(a)
    s.add(z3.Not(claim))
    smt2 = smt2_text(s, label, *stated)
    times: dict[str, float] = {}
    answers: dict[str, str] = {}
    refuted = _z3_refutes(s, claim, assumptions, times, answers)
    v = refuted if refuted is not None else _second_solver(smt2, timeout, times, answers)
    _log(label, smt2, v, times, answers, stated)
    return v


def _contradictory(premises: list[Any], timeout: int) -> bool:
    """True when no value satisfies ``premises`` (z3 says ``unsat``); False for none."""
    import z3

    if not premises:
        return False
    vac = _solver(timeout)
    vac.add(*premises)
    return bool(vac.check() == z3.unsat)


def _z3_refutes(
    s: Any,
    claim: Any,
    assumptions: tuple[Any, ...],
    times: dict[str, float],
    answers: dict[str, str],
) -> Verdict | None:
    """z3's check of the negation in ``s``: None when ``unsat``, else the verdict to return.

    A ``sat`` model is ``fail`` only when substituting it violates the claim exactly.
    """
    import z3

    t0 = time.perf_counter()
    r = s.check()
    times["z3"] = time.perf_counter() - t0
    answers["z3"] = str(r)
    if r == z3.sat:
        m = s.model()
        if _recheck(z3.And(*assumptions, z3.Not(claim)), m):
            return Verdict(
                Status.FAIL, _model_dict(m), "z3: counterexample found (re-checked exactly)"
            )
        return Verdict(
            Status.UNKNOWN,
            _model_dict(m),
            "z3: a model was found but substituting it into the claim did not confirm it",
        )
    if r != z3.unsat:
        return Verdict(Status.UNKNOWN, None, f"z3: unknown ({s.reason_unknown()})")
    return None


def _second_solver(
    smt2: str, timeout: int, times: dict[str, float], answers: dict[str, str]
) -> Verdict:
    """After z3's ``unsat``: cvc5 re-proves ``smt2`` when in use; ``pass`` needs both."""
    confirmed = ["z3"]
    if "cvc5" in solvers():
        t0 = time.perf_counter()
        ans = cvc5_check(smt2, timeout)
        times["cvc5"] = time.perf_counter() - t0
        answers["cvc5"] = ans
        if ans == "sat":
            return Verdict(Status.ERROR, None, "solvers disagree: z3 says unsat, cvc5 says sat")
        if ans != "unsat":
            return Verdict(Status.UNKNOWN, None, "z3: unsat, but cvc5: unknown (time limit)")
        confirmed.append("cvc5")
    return Verdict(
        Status.PASS, None, f"the negation is unsat ({', '.join(confirmed)})", tuple(confirmed)
    )


def _log(
    what: str,
    smt2: str,
    v: Verdict,
    times: dict[str, float],
    answers: dict[str, str],
    stated: tuple[tuple[str, ...], str],
) -> None:
    log = _LOG.get()
    if log is not None:
        ob = Obligation(what, smt2, v.status, v.solvers, dict(times), dict(answers), *stated)
        log.append(ob)


@dataclass(frozen=True)
class Search:
    """What :func:`find_model` found: ``found`` is True with the ``model`` (values as z3
    prints them), False when z3 shows there is none, None when it could not decide."""

    found: bool | None
    model: dict[str, str] | None = None


def find_model(*constraints: Any, timeout_ms: int = TIMEOUT_MS) -> Search:
    """Look for values satisfying ``constraints``."""
    import z3

    s = _solver(timeout_ms)
    s.add(*constraints)
    r = s.check()
    if r == z3.sat:
        return Search(True, _model_dict(s.model()))
    return Search(False if r == z3.unsat else None)


def verdict_result(v: Verdict, what: str) -> Result:
    """A proof-level :class:`Result` from a :class:`Verdict` about the claim ``what``."""
    if v.status == Status.ERROR:
        return Result(Status.ERROR, Evidence.PROOF, f"not proved: {what}; {v.reason}")
    if v.status == Status.PASS:
        by = f" (confirmed by {' and '.join(v.solvers)})" if v.solvers else ""
        return Result.verdict(True, Evidence.PROOF, f"proved for all values: {what}{by}")
    if v.status == Status.FAIL:
        return Result.verdict(
            False,
            Evidence.PROOF,
            f"does not hold: {what}; counterexample {v.model}",
            counterexample=v.model,
        )
    return Result.verdict(None, Evidence.PROOF, f"undecided: {what}; {v.reason}")
