"""The toolkit's one exception for a bad argument, defined first: every argument check in
symconv, proofs and numerics raises it (or a subclass), naming the argument and its value,
and the ``verify`` command line reports it as one line and exit code 2."""

from __future__ import annotations

__all__ = ["ArgumentError", "SymconvError", "check_nonneg_int", "check_positive_int", "shown"]


def shown(value: object, limit: int = 120) -> str:
    """``repr(value)``, cut to ``limit`` characters (a 5000-character value stays one short
    line, still recognisable by its start and its length)."""
    text = repr(value)
    if len(text) <= limit:
        return text
    n = len(value) if isinstance(value, (str, bytes)) else len(text)
    return f"{text[: limit - 30]}… ({n} characters)"


class ArgumentError(ValueError):
    """A bad argument: ``argument`` names it, ``value`` is what was given, and the message
    is ``"{argument}: {why} (got {value})"`` with the value shown by :func:`shown`."""

    def __init__(self, argument: str, value: object, why: str) -> None:
        self.argument = argument
        self.value = value
        super().__init__(f"{argument}: {why} (got {self._show(value)})")

    @staticmethod
    def _show(value: object) -> str:
        return shown(value)


class SymconvError(ArgumentError):
    """A bad argument to a symconv function; the message names the argument and its value
    (in full: symconv's values are sizes and shapes, never long)."""

    @staticmethod
    def _show(value: object) -> str:
        return repr(value)


def check_positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SymconvError(name, value, "must be a positive integer")
    return value


def check_nonneg_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SymconvError(name, value, "must be a non-negative integer")
    return value
