"""Re-prove a folder of exported solver obligations with z3 and cvc5, after ``pip install``.

``verify certificates --out DIR`` writes every solver obligation behind a ``proof`` verdict
as a standalone SMT-LIB 2 file whose header says ``; expected: unsat``. Installing the
toolkit gives the solvers as Python packages (``z3-solver``, ``cvc5``), not as commands, so
this module re-proves the files through their Python APIs: ``proofs.reprove(DIR)`` from
Python, and :func:`main` for the command line (``verify reprove DIR [--solvers z3,cvc5]
[--json]``). Each file is given, as text, to z3 (fixed seed,
time limit) and to cvc5 (option ``nl-cov``, fixed seed, time limit); a file is ``ok`` when
every solver answers what its header expects. The exit status is 0 when every file is ok,
1 otherwise (2 for a folder with no ``.smt2`` file).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ._z3 import SEED, TIMEOUT_MS, cvc5_check

__all__ = ["Reproved", "expected_answer", "reprove", "z3_check"]


@dataclass(frozen=True)
class Reproved:
    """One file's answers: ``ok`` when every solver gave the ``expected`` answer."""

    file: str
    expected: str
    answers: dict[str, str]
    seconds: dict[str, float]

    @property
    def ok(self) -> bool:
        return bool(self.answers) and all(a == self.expected for a in self.answers.values())


def expected_answer(text: str) -> str:
    """The answer the file's header expects (``; expected: unsat``); ``unsat`` if none."""
    for line in text.splitlines():
        if line.startswith("; expected:"):
            return line.removeprefix("; expected:").strip()
        if line and not line.startswith(";"):
            break
    return "unsat"


def z3_check(smt2: str, timeout_ms: int = TIMEOUT_MS) -> str:
    """z3's answer (``sat``/``unsat``/``unknown``) to an SMT-LIB 2 script, fixed seed."""
    import z3

    s = z3.Solver()
    s.set("timeout", int(timeout_ms))
    s.set("random_seed", SEED)
    s.from_string(smt2)
    return str(s.check())


def reprove(
    folder: str | Path,
    *,
    solvers: tuple[str, ...] = ("z3", "cvc5"),
    timeout_ms: int = TIMEOUT_MS,
) -> list[Reproved]:
    """Re-prove every ``*.smt2`` under ``folder`` (sorted by path) with each of ``solvers``."""
    unknown = [s for s in solvers if s not in ("z3", "cvc5")]
    if unknown or not solvers:
        raise ValueError(f"solvers must be among z3, cvc5; got {solvers}")
    check = {"z3": z3_check, "cvc5": cvc5_check}
    root = Path(folder)
    out = []
    for path in sorted(root.rglob("*.smt2")):
        text = path.read_bytes().decode()  # UTF-8, whatever the locale
        answers, seconds = {}, {}
        for name in solvers:
            t0 = time.perf_counter()
            answers[name] = check[name](text, timeout_ms)
            seconds[name] = round(time.perf_counter() - t0, 4)
        out.append(Reproved(str(path.relative_to(root)), expected_answer(text), answers, seconds))
    return out
