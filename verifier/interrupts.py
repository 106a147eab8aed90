"""SIGINT and SIGTERM during the ``verify`` program: both are Ctrl-C.

:func:`signals_interrupt` turns the first signal into ``KeyboardInterrupt`` (one line,
exit code 130, the workers stopped, finished rows kept) and ignores later ones while that
is handled. :func:`deferred` holds a signal back for a block that must not be cut in the
middle, such as starting or closing a Dask cluster (cut there, ``distributed`` leaves a
half-started cluster whose exit handler prints a traceback): the interrupt is raised
when the block ends.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["deferred", "signals_interrupt"]


#: The first SIGINT/SIGTERM raises KeyboardInterrupt; later ones while it is being handled
#: are ignored, so that two Ctrl-C 50 ms apart still end with the one line and exit 130.
_STATE = {"interrupted": False, "installed": False, "deferring": False, "pending": False}


def _on_signal(signum: int, frame: object) -> None:
    if _STATE["interrupted"]:
        return
    _STATE["interrupted"] = True
    if _STATE["deferring"]:
        _STATE["pending"] = True  # raised when the deferred block ends
        return
    raise KeyboardInterrupt


def _child_defaults() -> None:
    """In a forked worker: the default handlers back (SIGTERM ends it, as ``terminate``
    expects), whatever the parent installed."""
    if _STATE["installed"]:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _STATE["installed"] = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_child_defaults)


@contextmanager
def signals_interrupt(keep_ignoring: bool) -> Iterator[None]:
    """SIGTERM behaves as Ctrl-C (one line, exit 130, workers stopped) for the call."""
    if threading.current_thread() is not threading.main_thread() or _STATE["installed"]:
        yield
        return
    saved: list[tuple[signal.Signals, Callable[..., Any] | int | None]] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        current = signal.getsignal(sig)
        if sig == signal.SIGINT and current is not signal.default_int_handler:
            continue  # someone else (a debugger, a test runner) handles Ctrl-C
        saved.append((sig, current))
        signal.signal(sig, _on_signal)
    _STATE.update(interrupted=False, installed=True)
    try:
        yield
    finally:
        # after an interrupt the program is about to exit 130: a signal arriving now (a
        # second Ctrl-C) must not turn that into death by signal, so the signals stay
        # ignored; a caller that gave its own streams gets its handlers back
        last = _STATE["interrupted"] and keep_ignoring
        for sig, handler in saved:
            signal.signal(sig, signal.SIG_IGN if last else (handler or signal.SIG_DFL))
        _STATE.update(interrupted=False, installed=False)


@contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM back for the block (when :func:`signals_interrupt` handles
    them): a signal arriving inside is raised as ``KeyboardInterrupt`` when it ends."""
    if not _STATE["installed"] or _STATE["deferring"]:
        yield
        return
    _STATE.update(deferring=True, pending=False)
    try:
        yield
    finally:
        pending = _STATE["pending"]
        _STATE.update(deferring=False, pending=False)
    if pending:
        raise KeyboardInterrupt
