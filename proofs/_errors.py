"""The package exception: a user's mistake, reported as one line and exit code 2."""

from __future__ import annotations

from symconv import ArgumentError

__all__ = ["UsageError"]


class UsageError(ArgumentError):
    """A bad argument value on the command line; the message names the argument and the
    value."""
