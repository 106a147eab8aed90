"""Thread settings from the environment, checked before numpy or torch is loaded.

The OpenMP runtime torch loads (libgomp) reads ``OMP_*`` and ``GOMP_*`` variables when it
is loaded; an invalid value prints a ``libgomp: Invalid value ...`` line on stderr beside
the program's own (and ``GOMP_CPU_AFFINITY=abc`` makes it loop forever). The BLAS
libraries read ``MKL_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and the like. An invalid value
is removed from the program's environment (its workers' too) before any of them is
loaded, so each library falls back to its default, as libgomp does after its warning, and
the output stays the program's: nothing is printed about it (README, "Environment").
"""

from __future__ import annotations

import os
import re
from collections.abc import MutableMapping

__all__ = ["THREAD_VARIABLES", "drop_invalid_thread_settings"]

_INT = r"\s*\d+\s*"
_POSITIVE = r"\s*0*[1-9]\d*\s*"
_BOOL = r"\s*(?i:true|false)\s*"
_SIZE = r"\s*\d+\s*[bBkKmMgG]?\s*"
_CPU = r"\d+(\s*-\s*\d+(\s*:\s*\d+)?)?"  # N, N-M or N-M:S

#: variable -> the values its library accepts (a full match)
THREAD_VARIABLES: dict[str, str] = {
    "OMP_NUM_THREADS": rf"{_POSITIVE}(,{_POSITIVE})*",
    "OMP_THREAD_LIMIT": _POSITIVE,
    "OMP_MAX_ACTIVE_LEVELS": _INT,
    "OMP_MAX_TASK_PRIORITY": _INT,
    "OMP_DEFAULT_DEVICE": _INT,
    "OMP_NUM_TEAMS": _POSITIVE,
    "OMP_TEAMS_THREAD_LIMIT": _POSITIVE,
    "OMP_DYNAMIC": _BOOL,
    "OMP_NESTED": _BOOL,
    "OMP_CANCELLATION": _BOOL,
    "OMP_DISPLAY_ENV": r"\s*(?i:true|false|verbose)\s*",
    "OMP_PROC_BIND": r"\s*(?i:true|false|(master|primary|close|spread)"
    r"(\s*,\s*(master|primary|close|spread))*)\s*",
    "OMP_WAIT_POLICY": r"\s*(?i:active|passive)\s*",
    "OMP_STACKSIZE": _SIZE,
    "GOMP_STACKSIZE": _SIZE,
    "OMP_SCHEDULE": r"\s*((?i:monotonic|nonmonotonic)\s*:\s*)?"
    r"(?i:static|dynamic|guided|auto)\s*(,\s*0*[1-9]\d*\s*)?",
    "GOMP_SPINCOUNT": r"\s*((?i:infinite|infinity)|\d+\s*[kKmMgGtT]?)\s*",
    "OMP_PLACES": r"\s*((?i:threads|cores|sockets|ll_caches|numa_domains)(\s*\(\s*\d+\s*\))?"
    r"|[\d\s{}:,!-]+)\s*",
    "GOMP_CPU_AFFINITY": rf"\s*{_CPU}([\s,]+{_CPU})*\s*",
    "MKL_NUM_THREADS": _POSITIVE,
    "OPENBLAS_NUM_THREADS": _POSITIVE,
    "GOTO_NUM_THREADS": _POSITIVE,
    "BLIS_NUM_THREADS": _POSITIVE,
    "VECLIB_MAXIMUM_THREADS": _POSITIVE,
    "NUMEXPR_NUM_THREADS": _POSITIVE,
    "NUMEXPR_MAX_THREADS": _POSITIVE,
}


def drop_invalid_thread_settings(
    environ: MutableMapping[str, str] | None = None,
) -> list[str]:
    """Remove every variable of :data:`THREAD_VARIABLES` whose value its library would
    reject (an empty one included); return the names removed."""
    env = os.environ if environ is None else environ
    dropped = [
        name
        for name, pattern in THREAD_VARIABLES.items()
        if name in env and re.fullmatch(pattern, env[name], re.ASCII) is None
    ]
    for name in dropped:
        del env[name]
    return dropped
