"""Checks of every claim of *Memorization in Overparameterized Autoencoders*.

The registry (:func:`register`, :func:`load_all`, :func:`run`) and the ``verify`` command
line live here; each claim has its own module (``proofs.thm1``, ``proofs.thm4``, ...).
"""

from ._errors import UsageError
from ._registry import CHECK_MODULES, Check, Outcome, get, load_all, register, run
from ._reprove import Reproved, reprove
from ._result import Evidence, Result, Status

__all__ = [
    "CHECK_MODULES",
    "Check",
    "Evidence",
    "Outcome",
    "Reproved",
    "Result",
    "Status",
    "UsageError",
    "get",
    "load_all",
    "register",
    "reprove",
    "run",
]
