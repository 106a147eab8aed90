"""``verify masks | depth | matrix``: forced zeros, least depths, layer matrices."""

from __future__ import annotations


def add_parsers(sub) -> None:  # type: ignore[no-untyped-def]
    pass
