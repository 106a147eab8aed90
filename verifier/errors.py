"""The program's one exception: a user's mistake, reported as one line and exit code 2.

Every argument check of the ``verify`` program raises :class:`UsageError`; the message is
``"{argument}: {why} (got {value})"`` with the value cut by :func:`shown`. The libraries
raise their own ``ValueError`` subclasses (``symconv.SymconvError``, ``numerics.ImageError``)
and :func:`verifier.cli.main` reports those the same way at the program's boundary.
"""

from __future__ import annotations

__all__ = ["UsageError", "shown"]


def shown(value: object, limit: int = 120) -> str:
    """``repr(value)``, cut to ``limit`` characters (a 5000-character value stays one short
    line, still recognisable by its start and its length)."""
    text = repr(value)
    if len(text) <= limit:
        return text
    n = len(value) if isinstance(value, (str, bytes)) else len(text)
    return f"{text[: limit - 30]}… ({n} characters)"


class UsageError(ValueError):
    """A bad argument value: ``argument`` names it, ``value`` is what was given."""

    def __init__(self, argument: str, value: object, why: str) -> None:
        self.argument = argument
        self.value = value
        super().__init__(f"{argument}: {why} (got {shown(value)})")
