"""symconv's exception, defined first: a bad argument to a symconv function (a size, a
shape, a layer's parameter), with a message naming the argument and its value."""

from __future__ import annotations

__all__ = ["SymconvError", "check_nonneg_int", "check_positive_int"]


class SymconvError(ValueError):
    """A bad argument to a symconv function: ``"{argument}: {why} (got {value!r})"`` (the
    value in full: symconv's values are sizes and shapes, never long)."""

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
