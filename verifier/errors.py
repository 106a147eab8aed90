"""The program's one exception: a user's mistake, reported as one line and exit code 2.

Every argument check of the ``verify`` program raises :class:`UsageError`; the message is
``"{argument}: {why} (got {value})"`` with the value cut by :func:`shown` (at most about
40 characters of it, its length said). The libraries raise their own ``ValueError``
subclasses (``symconv.SymconvError``, ``numerics.ExperimentError``) and
:func:`verifier.cli.main` reports those the same way at the program's boundary.
"""

from __future__ import annotations

__all__ = ["SHOWN_CHARACTERS", "SHOWN_PATH_CHARACTERS", "UsageError", "printable", "shown"]

#: The most characters of a value an error line quotes; a path (text with a ``/``) gets
#: more, so that the user can tell which file is meant.
SHOWN_CHARACTERS = 40
SHOWN_PATH_CHARACTERS = 160


def shown(value: object, limit: int | None = None) -> str:
    """``repr(value)``, cut to about ``limit`` characters (a 5000-character value stays one
    short line, still recognisable by its start and its length). Line breaks and other
    control characters are escaped by ``repr``."""
    if limit is None:
        path = isinstance(value, str) and "/" in value
        limit = SHOWN_PATH_CHARACTERS if path else SHOWN_CHARACTERS
    text = repr(value)
    if len(text) <= limit + 2:
        return text
    n = len(value) if isinstance(value, (str, bytes)) else len(text)
    return f"{text[:limit]}… ({n} characters)"


def printable(text: str) -> str:
    """``text`` as it is when every character prints, else its ``repr`` (a path holding a
    line break or a control character is written escaped, on one line)."""
    return text if text.isprintable() else repr(text)


class UsageError(ValueError):
    """A bad argument value: ``argument`` names it, ``value`` is what was given."""

    def __init__(self, argument: str, value: object, why: str) -> None:
        self.argument = argument
        self.value = value
        self.why = why
        super().__init__(f"{argument}: {why} (got {shown(value)})")

    @classmethod
    def missing(cls, argument: str, why: str) -> UsageError:
        """A required option not given: ``"{argument}: {why}"`` (there is no value to quote)."""
        exc = cls(argument, None, why)
        exc.args = (f"{argument}: {why}",)
        return exc
