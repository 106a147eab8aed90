"""The program's two streams, made safe to write to in any environment.

* **Any encoding.** Under ``PYTHONIOENCODING=ascii`` or a C locale without UTF-8, ``×``,
  ``–``, ``≤``, ``…`` cannot be encoded: the streams are given the error handler
  ``verify-ascii``, which writes an ASCII stand-in (``x``, ``-``, ``<=``, ``...``) and ``?``
  for anything else, instead of raising ``UnicodeEncodeError``.
* **A closed stdout** (``verify ... >&-``): Python gives ``None``; the command is refused
  with one line before any work.
* **One line.** :func:`one_line` keeps an error message on one line of at most
  :data:`MAX_LINE` characters (a line break inside a value is written escaped).
"""

from __future__ import annotations

import codecs
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["ASCII_STANDINS", "MAX_LINE", "one_line", "safe_streams"]

#: Longest error line the program prints (characters).
MAX_LINE = 300

#: ASCII stand-ins for the characters the program prints.
ASCII_STANDINS = {
    "×": "x",
    "–": "-",
    "—": "-",
    "−": "-",
    "…": "...",
    "≤": "<=",
    "≥": ">=",
    "≠": "!=",
    "⌈": "ceil(",
    "⌉": ")",
    "²": "^2",
    "³": "^3",
    "⁴": "^4",
    "¹": "^1",
    "⁰": "^0",
    "⁵": "^5",
    "⁶": "^6",
    "∞": "inf",
    "λ": "lambda",
    "γ": "gamma",
    "φ": "phi",
    "ρ": "rho",
    "⊗": "(x)",
    "→": "->",
    "←": "<-",
    "⇔": "<=>",
    "·": "*",
    "≈": "~",
    "±": "+-",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "é": "e",
}


def _standin(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return "".join(ASCII_STANDINS.get(c, "?") for c in bad), exc.end


codecs.register_error("verify-ascii", _standin)


def _needs_standins(stream: TextIO) -> bool:
    encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("_", "-")
    return not encoding.startswith("utf")


@contextmanager
def _ascii_fallback(stream: TextIO) -> Iterator[None]:
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is None or not _needs_standins(stream):
        yield
        return
    before = stream.errors
    try:
        reconfigure(errors="verify-ascii")
    except (ValueError, OSError, io.UnsupportedOperation):
        yield
        return
    try:
        yield
    finally:
        try:
            reconfigure(errors=before)
        except (ValueError, OSError):
            pass


class _Closed(io.StringIO):
    """Stands for a stream that is not there: writes go nowhere."""


@contextmanager
def safe_streams(stdout: TextIO | None, stderr: TextIO | None) -> Iterator[tuple[TextIO, TextIO]]:
    """The streams to use: the given ones as they are, else ``sys.stdout``/``sys.stderr``
    with the ASCII fallback (a missing one replaced by a sink, see :func:`stdout_closed`)."""
    out = stdout if stdout is not None else (sys.stdout or _Closed())
    err = stderr if stderr is not None else (sys.stderr or _Closed())
    with _ascii_fallback(out), _ascii_fallback(err):
        yield out, err


def stdout_closed(out: TextIO) -> bool:
    """Whether ``out`` stands for a closed stdout (``>&-``)."""
    return isinstance(out, _Closed)


def one_line(line: str, limit: int = MAX_LINE) -> str:
    """``line`` with its line breaks escaped, cut to ``limit`` characters."""
    text = line.replace("\r", "\\r").replace("\n", "\\n")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text
