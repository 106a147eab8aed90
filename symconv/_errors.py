"""The package exception, defined first: every argument check raises it, naming the value."""

from __future__ import annotations

__all__ = ["SymconvError", "check_nonneg_int", "check_positive_int"]


class SymconvError(ValueError):
    """A bad argument to a symconv function; the message names the argument and its value."""

    def __init__(self, argument: str, value: object, why: str) -> None:
        self.argument = argument
        self.value = value
        super().__init__(f"{argument}: {why} (got {value!r})")


def check_positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SymconvError(name, value, "must be a positive integer")
    return value


def check_nonneg_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SymconvError(name, value, "must be a non-negative integer")
    return value
