"""Small shared helpers for the symconv-backed checks."""

from __future__ import annotations

from collections.abc import Iterable


def size_range(sizes: tuple[int, int]) -> range:
    """Inclusive range ``a..b`` of image sizes."""
    a, b = sizes
    return range(a, b + 1)


def first(items: Iterable[dict], n: int = 3) -> list[dict]:
    """The first ``n`` counterexamples, enough to read, few enough to print."""
    out = []
    for x in items:
        out.append(x)
        if len(out) == n:
            break
    return out
