"""Checks of every claim of *Memorization in Overparameterized Autoencoders*.

The registry (:func:`register`, :func:`load_all`, :func:`run`, :func:`run_many`), the
three-valued solver layer and the sympy identities behind ``proof`` verdicts; each claim
has its own module (``proofs.thm1``, ``proofs.thm4``, ...). The ``verify`` program that
runs them is :mod:`verifier`.
"""

from . import _identities as identities
from ._registry import (
    CHECK_MODULES,
    Check,
    Outcome,
    default_jobs,
    get,
    load_all,
    register,
    run,
    run_many,
)
from ._reprove import Reproved, reprove
from ._result import Evidence, Result, Status
from ._z3 import available_solvers, using_solvers
from .audit import AuditRow, audit_tables

__all__ = [
    "CHECK_MODULES",
    "AuditRow",
    "Check",
    "Evidence",
    "Outcome",
    "Reproved",
    "Result",
    "Status",
    "audit_tables",
    "available_solvers",
    "default_jobs",
    "get",
    "identities",
    "load_all",
    "register",
    "reprove",
    "run",
    "run_many",
    "using_solvers",
]
